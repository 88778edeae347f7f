import TallyJSON

/// The differences between two JSON documents, in words: where, expected, actual.
///
/// Array elements are matched by what they are, not where they are, so one
/// new invoice does not make every later one "different": invoices by customer
/// and period, lines by name, anything else by position.
enum JSONDiff {
    /// One difference: where, and the two values (nil where one side has nothing there).
    struct Difference {
        var path: String
        var expected: String?
        var actual: String?
        /// `path: expected X, actual Y`, as the run prints it.
        var sentence: String
    }

    static func found(expected: JSONValue, actual: JSONValue, path: String = "") -> [Difference] {
        var found: [Difference] = []
        compare(expected, actual, path, &found)
        return found
    }

    private static func compare(_ expected: JSONValue, _ actual: JSONValue, _ path: String, _ found: inout [Difference])
    {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            let keys = Set(e.members.map(\.key)).union(a.members.map(\.key)).sorted {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            }
            for key in keys {
                let child = path.isEmpty ? key : "\(path) \(key)"
                switch (e[key], a[key]) {
                case (let x?, let y?): compare(x, y, child, &found)
                case (let x?, nil):
                    found.append(
                        Difference(
                            path: child, expected: render(x), actual: nil,
                            sentence: "\(child): expected \(render(x)), missing"))
                case (nil, let y?):
                    found.append(
                        Difference(
                            path: child, expected: nil, actual: render(y),
                            sentence: "\(child): not expected, got \(render(y))"))
                case (nil, nil): break
                }
            }
        case (.array(let e), .array(let a)):
            let expectedLabels = labels(e)
            let actualLabels = labels(a)
            for (index, label) in expectedLabels.enumerated() {
                let child = path.isEmpty ? label : "\(path) \(label)"
                if let match = actualLabels.firstIndex(of: label) {
                    compare(e[index], a[match], child, &found)
                } else {
                    found.append(
                        Difference(
                            path: child, expected: render(e[index]), actual: nil,
                            sentence: "\(child): expected, missing"))
                }
            }
            for (index, label) in actualLabels.enumerated() where !expectedLabels.contains(label) {
                let child = path.isEmpty ? label : "\(path) \(label)"
                found.append(
                    Difference(
                        path: child, expected: nil, actual: render(a[index]),
                        sentence: "\(child): not expected, got \(render(a[index]))"))
            }
        default:
            if expected != actual {
                found.append(
                    Difference(
                        path: path, expected: render(expected), actual: render(actual),
                        sentence: "\(path): expected \(render(expected)), actual \(render(actual))"))
            }
        }
    }

    /// A name for each element: `acme 2026-01-01` for an invoice, `line 'API calls'` for a
    /// named item, `tier 2` for a tier (numbered from 1, as the JSON numbers it), `[3]` otherwise;
    /// repeated names get a `#2` suffix to stay distinct.
    private static func labels(_ items: [JSONValue]) -> [String] {
        var seen: [String: Int] = [:]
        return items.enumerated().map { index, item in
            var label = "[\(index)]"
            if case .object(let object) = item {
                if case .string(let customer)? = object["customer"], case .object(let period)? = object["period"],
                    case .string(let start)? = period["start"]
                {
                    label = "\(customer) period \(start.prefix(10))"
                } else if case .string(let name)? = object["name"] {
                    label = "'\(name)'"
                } else if case .number(let tier)? = object["tier"] {
                    label = "tier \(tier)"
                }
            }
            seen[label, default: 0] += 1
            return seen[label, default: 1] > 1 ? "\(label)#\(seen[label, default: 1])" : label
        }
    }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        default:
            let text = CanonicalJSON.write(value, pretty: false).trimmingSuffix("\n")
            return text.count > 120 ? String(text.prefix(117)) + "..." : text
        }
    }
}
