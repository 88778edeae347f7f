import TallyPipeline
import Yams

/// Loads scenario files: YAML text -> a validated ``Scenario``, or every problem at once.
public enum ScenarioLoader {
    /// Parses and validates a scenario.
    ///
    /// - Parameters:
    ///   - text: the YAML text.
    ///   - file: the path shown in diagnostics.
    /// - Throws: ``ScenarioErrors`` with every problem found, each at its line and column.
    public static func load(yaml text: String, file: String) throws(ScenarioErrors) -> Scenario {
        let reader = NodeReader(file: file)
        let root: Node
        if let problem = AliasBudget.problem(in: text, file: file) { throw ScenarioErrors(diagnostics: [problem]) }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioErrors(diagnostics: [Diagnostic(file: file, line: 1, column: 1, message: "the file is empty, expected a scenario mapping with name, seed, start, metrics, plans and customers")])
            }
            root = node
        } catch let error as ScenarioErrors {
            throw error
        } catch {
            throw ScenarioErrors(diagnostics: [syntaxDiagnostic(error, file: file)])
        }
        let scenario = ScenarioBuilder(reader: reader).build(root)
        if !reader.diagnostics.isEmpty || scenario == nil {
            // One `count:` item makes many customers, which can fail the same way at one position.
            throw ScenarioErrors(diagnostics: Array(Set(reader.diagnostics)).sorted())
        }
        guard let scenario else { throw ScenarioErrors(diagnostics: reader.diagnostics) }
        return scenario
    }

    /// Parses and validates a scenario file's bytes: ``load(yaml:file:)``, after checking they are UTF-8.
    ///
    /// - Throws: ``ScenarioErrors``; bytes that are not UTF-8 are refused at the first one that is not.
    public static func load(contents bytes: [UInt8], file: String) throws(ScenarioErrors) -> Scenario {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var (line, column) = (1, 1)
        var afterCarriageReturn = false
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                // Lines as libyaml counts them, so that this position agrees with its own: "\r\n" is one break.
                if scalar == "\n" && afterCarriageReturn {
                } else if isLineBreak(scalar) {
                    (line, column) = (line + 1, 1)
                } else {
                    column += 1
                }
                afterCarriageReturn = scalar == "\r"
            case .emptyInput:
                break decoding
            case .error:
                let problem = "the file is not UTF-8 text here, expected UTF-8"
                throw ScenarioErrors(diagnostics: [Diagnostic(file: file, line: line, column: column,
                                                              message: problem)])
            }
        }
        return try load(yaml: String(decoding: bytes, as: UTF8.self), file: file)
    }

    /// A YAML syntax error as `file:line:column: message`.
    static func syntaxDiagnostic(_ error: Error, file: String) -> Diagnostic {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            if problem.hasPrefix("Maximum nesting level") {
                // libyaml's own words name its C function: say what the limit is instead.
                let message = "YAML syntax error: lists and mappings nested more than 1000 deep, "
                    + "expected at most 1000 levels"
                return Diagnostic(file: file, line: mark.line, column: mark.column, message: message)
            }
            let during = context.map { " (\(Escaped($0.text, limit: 80)) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return Diagnostic(file: file, line: mark.line, column: mark.column,
                              message: "YAML syntax error: \(Escaped(problem, limit: 200))\(during)")
        case .reader(let problem, let offset, let value, let yaml):
            // libyaml gives an offset, not a line: count to it. The character itself is shown escaped.
            let (line, column) = position(ofCharacter: offset ?? 0, in: yaml)
            let character = Unicode.Scalar(UInt32(clamping: value)).map { String(Character($0)) } ?? "?"
            let found = value >= 0 ? " (found \(Escaped(character)))" : ""
            return Diagnostic(file: file, line: line, column: column,
                              message: "YAML syntax error: \(Escaped(problem, limit: 200))\(found), expected printable UTF-8 text")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; the mistake is usually the repeat, so point there when it can be found.
            let first = context.mark
            let keys = duplicates.map { "'\(Escaped($0))'" }.joined(separator: ", ")
            if let key = duplicates.first, let again = repeatedKey(key, after: first, in: context.text) {
                return Diagnostic(file: file, line: again.line, column: again.column,
                                  message: "duplicate key \(keys) (first at line \(first.line)), expected each key once")
            }
            return Diagnostic(file: file, line: first.line, column: first.column,
                              message: "duplicate key \(keys), expected each key once")
        default:
            let message = "YAML error: \(Escaped(String(describing: error), limit: 200))"
            return Diagnostic(file: file, line: 1, column: 1, message: message)
        }
    }

    /// Whether libyaml counts `scalar` as a line break: LF, CR (CR LF is one), NEL, LS and PS.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar)
    }

    /// The 1-based line and column (in Unicode scalars) of the character `offset` characters into `text`.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for character in text.prefix(Swift.max(0, offset)) {
            if character == "\r\n" || character.unicodeScalars.first.map(isLineBreak) == true {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }
}

extension ScenarioLoader {
    /// Where `key` is written again in the mapping whose earlier occurrence is at `first`:
    /// later on the same line (flow style), or on a later line at the same column (block style).
    static func repeatedKey(_ key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        guard first.line >= 1, first.line <= lines.count, !key.isEmpty else { return nil }
        let keyScalars = Array(key.unicodeScalars)
        func isKey(_ line: [Unicode.Scalar], at index: Int) -> Bool {
            guard index >= 0, index + keyScalars.count <= line.count, Array(line[index..<index + keyScalars.count]) == keyScalars else { return false }
            var after = index + keyScalars.count
            while after < line.count, line[after] == " " { after += 1 }
            return after < line.count && line[after] == ":"
        }
        // Flow style: `{ a: 1, a: 2 }`.
        let firstLine = lines[first.line - 1]
        var index = first.column - 1 + keyScalars.count
        while index < firstLine.count {
            if firstLine[index] == "," || firstLine[index] == "{" {
                var start = index + 1
                while start < firstLine.count, firstLine[start] == " " { start += 1 }
                if isKey(firstLine, at: start) { return (first.line, start + 1) }
            }
            index += 1
        }
        // Block style: the same column on a later line, until the mapping ends (a line indented less).
        for lineIndex in first.line..<lines.count {
            let line = lines[lineIndex]
            guard let indent = line.firstIndex(where: { $0 != " " }), line[indent] != "#" else { continue }
            if isKey(line, at: first.column - 1), line[..<(first.column - 1)].allSatisfy({ $0 == " " }) {
                return (lineIndex + 1, first.column)
            }
            if indent < first.column - 1 { return nil }
        }
        return nil
    }
}

/// Builds a scenario from its node tree, section by section.
struct ScenarioBuilder {
    let reader: NodeReader

    static let topLevelKeys = ["name", "description", "seed", "start", "periods", "period_length", "currency", "tenant", "ingest",
                               "metrics", "plans", "customers", "discounts", "taxes", "credits", "traffic", "events", "faults", "expect"]

    func build(_ root: Node) -> Scenario? {
        guard let top = reader.mapping(root, "the scenario", allowed: ScenarioBuilder.topLevelKeys) else { return nil }
        let name = top.required("name", "the scenario's name, also its Fixtures/ folder").flatMap { node -> String? in
            guard let name = reader.string(node, "name") else { return nil }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !name.hasPrefix(".") else {
                reader.fail(node, "name '\(Escaped(name))' must use only letters, digits, '-', '_' and '.', since it names a folder")
                return nil
            }
            return name
        }
        let description = top["description"].flatMap { reader.scalarText($0, "description", expected: "text") } ?? ""
        let seed = top.required("seed", "a whole number; the same seed gives the same events").flatMap { reader.seed($0) }
        let start = top.required("start", "the first period's start, like 2026-01-01T00:00:00Z").flatMap { reader.instant($0, "start") }
        let periods = top["periods"].map { reader.integer($0, "periods", in: 1...120) } ?? 1
        var interval = PeriodSchedule.Interval.monthly
        if let node = top["period_length"] {
            if reader.scalarText(node, "period_length", expected: "monthly or a duration") == "monthly" {
                interval = .monthly
            } else if let span = reader.span(node, "period_length") {
                if span.milliseconds <= 0 { reader.fail(node, "period_length must be longer than 0") } else { interval = .fixed(span) }
            }
        }
        if let start, let periods, PeriodSchedule.checkedEnd(start: start, count: periods, interval: interval) == nil {
            let length = if case .fixed(let span) = interval { "of \(span) " } else { "" }
            reader.fail(top["period_length"] ?? top["periods"] ?? top["start"],
                        "\(periods) periods \(length)from \(start) end after the year 9999, "
                            + "expected a schedule that ends by 9999-12-31T23:59:59.999Z")
        }
        let currency = top.required("currency", "an ISO 4217 code like USD").flatMap { node -> Currency? in
            guard let code = reader.string(node, "currency") else { return nil }
            guard let currency = Currency(code: code) else {
                reader.fail(node, "unknown currency '\(Escaped(code))', expected an ISO 4217 code: \(Currency.knownCodes.joined(separator: ", "))")
                return nil
            }
            return currency
        }
        let tenant = top["tenant"].flatMap { reader.string($0, "tenant") } ?? "default"
        let ingest = readIngest(top["ingest"])

        var catalogReader = CatalogSection(reader: reader)
        let metrics = top.required("metrics", "a list of metrics").map { catalogReader.metrics($0) } ?? []
        let plans = top.required("plans", "a list of plans").map { catalogReader.plans($0) } ?? []
        let customers = top.required("customers", "a list of customers").map { catalogReader.customers($0) } ?? []
        let discounts = top["discounts"].map { catalogReader.discounts($0) } ?? []
        let taxes = top["taxes"].map { catalogReader.taxes($0) } ?? []
        let credits = top["credits"].map { catalogReader.credits($0) } ?? []

        // Validate the catalog even when a section had errors, so one run reports every problem;
        // the currency only sets rounding digits, so any stands in for a bad one here.
        var catalog: Catalog?
        if let currency = currency ?? Currency(code: "USD") {
            do {
                catalog = try Catalog(currency: currency, metrics: metrics, plans: plans, customers: customers,
                                      discounts: discounts, taxRates: taxes, credits: credits)
            } catch {
                for problem in error.errors {
                    reader.fail(catalogReader.node(at: problem.path, in: root), problem.message)
                }
            }
        }
        guard let catalog else { return nil }

        let traffic = top["traffic"].map { TrafficSection(reader: reader, catalog: catalog).traffic($0) } ?? []
        let events = top["events"].map { TrafficSection(reader: reader, catalog: catalog).events($0, tenant: tenant) } ?? []
        let faults = top["faults"].map { TrafficSection(reader: reader, catalog: catalog).faults($0, traffic: traffic) } ?? []
        let expectations = top["expect"].map { ExpectSection(reader: reader, catalog: catalog).expectations($0, periods: periods ?? 1) } ?? Expectations()
        if traffic.isEmpty && events.isEmpty && top["traffic"] == nil && top["events"] == nil {
            reader.fail(root, "the scenario sends no events, expected a traffic or an events list")
        }

        guard let name, let seed, let start, let periods, let ingest, reader.diagnostics.isEmpty else { return nil }
        var scenario = Scenario(
            name: name, description: description, seed: seed, file: reader.file,
            schedule: PeriodSchedule(start: start, count: periods, interval: interval),
            catalog: catalog, tenant: tenant, ingest: ingest,
            traffic: traffic, events: events, faults: faults, expectations: expectations
        )
        if case .sequence(let items)? = top["plans"] {
            for item in items {
                if case .mapping(let plan) = item, let id = plan["id"]?.string, let mark = item.mark {
                    scenario.planPositions[id] = SourcePosition(line: mark.line, column: mark.column)
                }
            }
        }
        // What the run would refuse, refused here: each generated event takes at most one fault (a re-send counts).
        for unit in StreamPlan(scenario: scenario).units {
            let faulted = unit.alterations.reduce(0, +) + unit.duplicates
            guard faulted > unit.events else { continue }
            reader.fail(top["faults"] ?? root, "the faults alter or re-send \(faulted) "
                        + "events of traffic \(unit.traffic + 1) in period \(unit.period + 1), which has only \(unit.events); "
                        + "expected at most one fault per generated event")
            return nil
        }
        // Said before a run starts, not by the allocation failing part way through it.
        if let problem = scenario.memoryProblem(availableBytes: MachineMemory.bytes) {
            reader.fail(top["traffic"] ?? top["events"] ?? root, problem)
            return nil
        }
        return scenario
    }

    func readIngest(_ node: Node?) -> IngestSettings? {
        var settings = IngestSettings(delay: TimeSpan(milliseconds: 0), limits: MeteringLimits())
        guard let node else { return settings }
        guard let map = reader.mapping(node, "ingest", allowed: ["delay", "max_future", "max_age", "late_after"]) else { return nil }
        var ok = true
        func span(_ key: String) -> TimeSpan? {
            guard let node = map[key] else { return nil }
            guard let value = reader.span(node, "ingest.\(key)") else { ok = false; return nil }
            return value
        }
        if let delay = span("delay") { settings.delay = delay }
        if let value = span("max_future") { settings.limits.maxFuture = value }
        if let value = span("max_age") { settings.limits.maxAge = value }
        if let value = span("late_after") { settings.limits.lateAfter = value }
        return ok ? settings : nil
    }
}
