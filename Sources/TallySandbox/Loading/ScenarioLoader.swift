import TallyCatalogFile
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
        let root = try YAMLDocument.compose(
            text, file: file,
            emptyMessage:
                "the file is empty, expected a scenario mapping with name, seed, start, metrics, plans and customers")
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
                } else if YAMLDocument.isLineBreak(scalar) {
                    (line, column) = (line + 1, 1)
                } else {
                    column += 1
                }
                afterCarriageReturn = scalar == "\r"
            case .emptyInput:
                break decoding
            case .error:
                let problem = "the file is not UTF-8 text here, expected UTF-8"
                throw ScenarioErrors(diagnostics: [
                    Diagnostic(
                        file: file, line: line, column: column,
                        message: problem)
                ])
            }
        }
        return try load(yaml: String(decoding: bytes, as: UTF8.self), file: file)
    }
}

/// Builds a scenario from its node tree, section by section.
struct ScenarioBuilder {
    let reader: NodeReader

    /// Every top-level key: the billing terms' (read by ``BillingTermsSection``) and the sandbox's own.
    static let topLevelKeys = [
        "name", "description", "seed", "start", "periods", "period_length", "anchor", "currency", "tenant", "ingest",
        "metrics", "plans", "customers", "discounts", "taxes", "tax_rounding", "credits", "traffic", "events", "faults",
        "expect", "entitlement_cache", "events_from",
    ]

    func build(_ root: Node) -> Scenario? {
        guard let top = reader.mapping(root, "the scenario", allowed: ScenarioBuilder.topLevelKeys) else { return nil }
        let terms = BillingTermsSection(reader: reader).read(top, root: root)
        let description = top["description"].flatMap { reader.scalarText($0, "description", expected: "text") } ?? ""
        let seed = top.required("seed", "a whole number; the same seed gives the same events").flatMap {
            reader.seed($0)
        }
        guard let catalog = terms.catalog else { return nil }
        let tenant = terms.tenant

        let traffic = top["traffic"].map { TrafficSection(reader: reader, catalog: catalog).traffic($0) } ?? []
        let events =
            top["events"].map { TrafficSection(reader: reader, catalog: catalog).events($0, tenant: tenant) } ?? []
        let faults =
            top["faults"].map { TrafficSection(reader: reader, catalog: catalog).faults($0, traffic: traffic) } ?? []
        let expectations =
            top["expect"].map {
                ExpectSection(reader: reader, catalog: catalog).expectations($0, periods: terms.periods ?? 1)
            } ?? Expectations()

        let gateway =
            top.has("entitlement_cache") || catalog.metrics.contains { $0.cost != nil }
            || catalog.plans.contains { !$0.spikeArrests.isEmpty || $0.marginGuard != nil }
        let inputs = top["events_from"].map { EventFilesSection(reader: reader, catalog: catalog).inputs($0) } ?? []

        guard let name = terms.name, let seed, let schedule = terms.schedule, let ingest = terms.ingest,
            reader.diagnostics.isEmpty
        else {
            return nil
        }
        var scenario = Scenario(
            name: name, description: description, seed: seed, file: reader.file, schedule: schedule,
            catalog: catalog, tenant: tenant, ingest: ingest,
            traffic: traffic, events: events, faults: faults, expectations: expectations, inputs: inputs
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
            reader.fail(
                top["faults"] ?? root,
                "the faults alter or re-send \(faulted) "
                    + "events of traffic \(unit.traffic + 1) in period \(unit.period + 1), which has only \(unit.events); "
                    + "expected at most one fault per generated event")
            return nil
        }
        // Said before a run starts, not by the allocation failing part way through it.
        if let problem = scenario.memoryProblem(availableBytes: MachineMemory.bytes) {
            reader.fail(top["traffic"] ?? top["events"] ?? root, problem)
            return nil
        }
        if gateway { scenario.requestPath = RequestPathSettings(cacheRefresh: terms.cacheRefresh) }
        if let problem = scenario.deliveryProblem {
            reader.fail(top["traffic"] ?? top["expect"] ?? root, problem)
            return nil
        }
        return scenario
    }
}
