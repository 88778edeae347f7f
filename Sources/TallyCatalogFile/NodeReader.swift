import TallyPipeline
import Yams

/// Reads typed values out of a composed YAML node tree, collecting every problem with its position.
///
/// Reading from the node tree, not from a decoded dictionary, keeps each
/// value's line and column and its exact source text: `0.0015` reaches
/// ``ExactDecimal`` as the characters written, never through a binary float.
package final class NodeReader {
    package let file: String
    package private(set) var diagnostics: [Diagnostic] = []

    package init(file: String) {
        self.file = file
    }

    package func fail(_ node: Node?, _ message: String) {
        let mark = node?.mark
        fail(line: mark?.line ?? 1, column: mark?.column ?? 1, message)
    }

    package func fail(line: Int, column: Int, _ message: String) {
        // A message is one line: a control character in it can only have come from the input.
        let oneLine = Escaped(message, limit: .max).description
        diagnostics.append(Diagnostic(file: file, line: line, column: column, message: oneLine))
    }

    // MARK: Structure

    /// The node as a mapping whose keys are all in `allowed`; reports any other key.
    package func mapping(_ node: Node, _ what: String, allowed: [String]) -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            fail(node, "\(what) must be a mapping of keys to values, got \(describe(node))")
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        var misspelled: Set<String> = []
        var previousValue: String?
        for (keyNode, value) in mapping {
            defer { previousValue = NodeReader.plainText(value) }
            guard case .scalar(let scalar) = keyNode else {
                fail(keyNode, "a key of \(what) must be plain text")
                continue
            }
            let key = scalar.string
            // `{ amount: 1,049 }` reads as `amount: 1` and a key `049`: a comma separates items in braces.
            if !allowed.contains(key), key.count == 3, key.allSatisfy(\.isASCII), key.allSatisfy(\.isNumber),
                let previous = previousValue, let last = previous.last, last.isNumber
            {
                fail(
                    keyNode,
                    "'\(previous),\(key)' is read as \(previous) and a key '\(key)': numbers take no thousands "
                        + "separators, write \(previous)\(key)")
                continue
            }
            if !allowed.contains(key) {
                let suggestion = NodeReader.closest(to: key, in: allowed)
                if let suggestion { misspelled.insert(suggestion) }
                let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
                fail(
                    keyNode,
                    "unknown key '\(Escaped(key))' in \(what), \(hint)expected one of: \(allowed.joined(separator: ", "))"
                )
                continue
            }
            pairs.append((key, keyNode, value))
        }
        return YAMLMapping(node: node, pairs: pairs, what: what, reader: self, misspelled: misspelled)
    }

    package func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            fail(node, "\(what) must be a list, got \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    package func scalarText(_ node: Node, _ what: String, expected: String) -> String? {
        guard case .scalar(let scalar) = node else {
            fail(node, "\(what) must be \(expected), got \(describe(node))")
            return nil
        }
        return scalar.string
    }

    package func string(_ node: Node, _ what: String) -> String? {
        guard let text = scalarText(node, what, expected: "text") else { return nil }
        if text.isEmpty || isNull(node) {
            fail(node, "\(what) must not be empty")
            return nil
        }
        return text
    }

    package func integer(_ node: Node, _ what: String, in range: ClosedRange<Int> = 0...Int.max) -> Int? {
        guard let text = scalarText(node, what, expected: "a whole number"), !isNull(node) else {
            if isNull(node) { fail(node, "\(what) must be a whole number, got nothing") }
            return nil
        }
        guard let value = Int(text), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            fail(node, "\(what) must be a whole number, got '\(Escaped(text))'")
            return nil
        }
        guard range.contains(value) else {
            fail(node, "\(what) must be \(NodeReader.describe(range)), got \(value)")
            return nil
        }
        return value
    }

    package func seed(_ node: Node) -> UInt64? {
        guard let text = scalarText(node, "seed", expected: "a whole number"), let value = UInt64(text) else {
            fail(node, "seed must be a whole number from 0 to \(UInt64.max)")
            return nil
        }
        return value
    }

    package func decimal(_ node: Node, _ what: String, nonNegative: Bool = true) -> ExactDecimal? {
        guard let text = scalarText(node, what, expected: "a decimal number") else { return nil }
        do {
            let value = try ExactDecimal(parsing: text)
            if nonNegative && value.isNegative {
                fail(node, "\(what) must be 0 or more, got \(text)")
                return nil
            }
            return value
        } catch {
            if NodeReader.hasThousandsSeparators(text) {
                fail(
                    node,
                    "\(what) must be a plain decimal number without thousands separators, got '\(Escaped(text))', "
                        + "write \(text.filter { $0 != "," })")
                return nil
            }
            fail(
                node,
                "\(what) must be a plain decimal number like 12 or 0.0015, got '\(Escaped(text))' (\(error.message))")
            return nil
        }
    }

    /// A fraction in `[0, 1]`.
    package func fraction(_ node: Node, _ what: String) -> ExactDecimal? {
        guard let value = decimal(node, what) else { return nil }
        guard value <= .one else {
            fail(node, "\(what) must be from 0 to 1, got \(value)")
            return nil
        }
        return value
    }

    package func bool(_ node: Node, _ what: String) -> Bool? {
        switch scalarText(node, what, expected: "true or false") {
        case "true": return true
        case "false": return false
        case let text?:
            fail(node, "\(what) must be true or false, got '\(Escaped(text))'")
            return nil
        case nil: return nil
        }
    }

    package func instant(_ node: Node, _ what: String) -> Instant? {
        guard let text = scalarText(node, what, expected: "a UTC time") else { return nil }
        do { return try Instant(iso8601: text) } catch {
            fail(node, "\(what): \(error.message)")
            return nil
        }
    }

    package func span(_ node: Node, _ what: String) -> TimeSpan? {
        guard let text = scalarText(node, what, expected: "a duration like 5m") else { return nil }
        do { return try TimeSpan(parsing: text) } catch {
            fail(node, "\(what): \(error.message)")
            return nil
        }
    }

    package func choice<T: RawRepresentable>(_ node: Node, _ what: String, _ type: T.Type) -> T?
    where T: CaseIterable, T.RawValue == String {
        guard
            let text = scalarText(node, what, expected: "one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        else { return nil }
        guard let value = T(rawValue: text) else {
            let hint =
                NodeReader.closest(to: text, in: T.allCases.map(\.rawValue)).map { "did you mean '\($0)'? " } ?? ""
            fail(
                node,
                "\(what) '\(Escaped(text))' is not known, \(hint)expected one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))"
            )
            return nil
        }
        return value
    }

    /// A scalar or a list of scalars, as strings.
    package func strings(_ node: Node, _ what: String) -> [String]? {
        if case .scalar = node { return string(node, what).map { [$0] } }
        guard let items = sequence(node, what) else { return nil }
        let values = items.compactMap { string($0, "an item of \(what)") }
        return values.count == items.count ? values : nil
    }

    // MARK: Helpers

    /// A scalar's text, or nil for a mapping or a list.
    package static func plainText(_ node: Node) -> String? {
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
    }

    /// `1,049` or `1,250,000.50`: digits grouped in threes by commas.
    package static func hasThousandsSeparators(_ text: String) -> Bool {
        let unsigned = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let whole = unsigned.prefix { $0 != "." }
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        guard groups.count > 1, let first = groups.first, (1...3).contains(first.count) else { return false }
        return groups.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
            && groups.dropFirst().allSatisfy { $0.count == 3 }
    }

    package func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    package func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): isNull(node) ? "nothing" : "'\(Escaped(scalar.string, limit: 40))'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    package static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "\(range.lowerBound) or more" }
        return "from \(range.lowerBound) to \(range.upperBound)"
    }

    /// The allowed word nearest to a misspelling, when it is close enough to be a typo.
    package static func closest(to word: String, in candidates: [String]) -> String? {
        // The distance is at least the difference in length: a word much longer than every
        // candidate (a pasted megabyte) is no typo of one, and is not compared letter by letter.
        let longest = candidates.map(\.count).max() ?? 0
        guard word.utf8.count <= 4 * longest + 4 else { return nil }
        let limit = max(1, word.count / 3)
        let scored = candidates.filter { abs($0.count - word.count) <= limit }.map { ($0, editDistance(word, $0)) }
            .filter { $0.1 <= limit }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    package static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A YAML mapping whose keys have been checked.
package struct YAMLMapping {
    package let node: Node
    package let pairs: [(key: String, keyNode: Node, value: Node)]
    package let what: String
    package let reader: NodeReader
    /// Allowed keys an unknown key was reported as a likely typo of (`unit_prise` -> `unit_price`).
    package var misspelled: Set<String> = []

    package subscript(key: String) -> Node? { pairs.first { $0.key == key }?.value }

    package func has(_ key: String) -> Bool { self[key] != nil }

    /// The value of a key that must be present; reports its absence at the mapping.
    package func required(_ key: String, _ expected: String) -> Node? {
        guard let value = self[key] else {
            // A misspelling of this key was already reported with a "did you mean": once is enough.
            if misspelled.contains(key) { return nil }
            reader.fail(node, "\(what) is missing '\(key)' (\(expected))")
            return nil
        }
        return value
    }
}
