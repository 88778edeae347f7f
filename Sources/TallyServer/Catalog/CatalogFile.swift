import TallyPipeline
import Yams

/// A tenant's billing terms, read from the catalog part of a scenario file.
///
/// The service reads the same YAML as `tally run` (the files next to this one are the
/// sandbox's own catalog readers, compiled into the service through symbolic links, so
/// both read a catalog alike) but only the keys that bill: `name`, `tenant`, `currency`,
/// `start`, `periods`, `period_length`, `ingest`, `metrics`, `plans`, `customers`,
/// `discounts`, `taxes`, `credits`. Traffic, faults and expectations are the sandbox's
/// and are not read.
public struct CatalogFile: Sendable {
    /// The scenario's name: the `scenario` field of invoice documents.
    public var name: String
    public var tenant: String
    public var catalog: Catalog
    public var schedule: PeriodSchedule
    public var limits: MeteringLimits

    /// Reads the catalog of the scenario text `yaml` from `file`.
    ///
    /// - Throws: ``ScenarioErrors`` with every problem, each at its line and column.
    public static func load(yaml: String, file: String) throws(ScenarioErrors) -> CatalogFile {
        let reader = NodeReader(file: file)
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw ScenarioErrors(diagnostics: [Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")])
        }
        guard let root = node, case .mapping(let mapping) = root else {
            throw ScenarioErrors(diagnostics: [Diagnostic(file: file, line: 1, column: 1,
                                                          message: "expected a scenario mapping with metrics, plans and customers")])
        }
        // Every key is allowed: the sandbox's own keys are simply not read here.
        let keys: [String] = mapping.keys.compactMap { key -> String? in if case .scalar(let scalar) = key { scalar.string } else { nil } }
        let loaded = reader.mapping(root, "the scenario", allowed: keys).flatMap { read($0, root, reader) }
        guard let loaded, reader.diagnostics.isEmpty else {
            throw ScenarioErrors(diagnostics: Array(Set(reader.diagnostics)).sorted())
        }
        return loaded
    }

    private static func read(_ top: YAMLMapping, _ root: Node, _ reader: NodeReader) -> CatalogFile? {
        let name = top.required("name", "the scenario's name").flatMap { reader.string($0, "name") }
        let tenant = top["tenant"].flatMap { reader.string($0, "tenant") } ?? "default"
        let start = top.required("start", "the first period's start, like 2026-01-01T00:00:00Z").flatMap { reader.instant($0, "start") }
        let periods = top["periods"].map { reader.integer($0, "periods", in: 1...120) } ?? 1
        var interval = PeriodSchedule.Interval.monthly
        if let node = top["period_length"], reader.scalarText(node, "period_length", expected: "monthly or a duration") != "monthly",
           let span = reader.span(node, "period_length") {
            if span.milliseconds <= 0 { reader.fail(node, "period_length must be longer than 0") } else { interval = .fixed(span) }
        }
        let currency = top.required("currency", "an ISO 4217 code like USD").flatMap { node -> Currency? in
            guard let code = reader.string(node, "currency") else { return nil }
            guard let currency = Currency(code: code) else {
                reader.fail(node, "unknown currency '\(code)', expected an ISO 4217 code")
                return nil
            }
            return currency
        }
        var limits = MeteringLimits()
        if let node = top["ingest"], let map = reader.mapping(node, "ingest", allowed: ["delay", "max_future", "max_age", "late_after"]) {
            if let value = map["max_future"].flatMap({ reader.span($0, "ingest.max_future") }) { limits.maxFuture = value }
            if let value = map["max_age"].flatMap({ reader.span($0, "ingest.max_age") }) { limits.maxAge = value }
            if let value = map["late_after"].flatMap({ reader.span($0, "ingest.late_after") }) { limits.lateAfter = value }
        }
        var sections = CatalogSection(reader: reader)
        let metrics = top.required("metrics", "a list of metrics").map { sections.metrics($0) } ?? []
        let plans = top.required("plans", "a list of plans").map { sections.plans($0) } ?? []
        let customers = top.required("customers", "a list of customers").map { sections.customers($0) } ?? []
        let discounts = top["discounts"].map { sections.discounts($0) } ?? []
        let taxes = top["taxes"].map { sections.taxes($0) } ?? []
        let credits = top["credits"].map { sections.credits($0) } ?? []
        guard let name, let start, let periods, let currency else { return nil }
        do {
            let catalog = try Catalog(currency: currency, metrics: metrics, plans: plans, customers: customers,
                                      discounts: discounts, taxRates: taxes, credits: credits)
            return CatalogFile(name: name, tenant: tenant, catalog: catalog,
                               schedule: PeriodSchedule(start: start, count: periods, interval: interval), limits: limits)
        } catch {
            for problem in error.errors { reader.fail(sections.node(at: problem.path, in: root), problem.message) }
            return nil
        }
    }
}
