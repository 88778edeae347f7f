import TallyCatalogFile
import TallyPipeline
import Yams

/// A tenant's billing terms, read from the catalog part of a scenario file.
///
/// The service reads a scenario file with the sandbox's own reader of billing terms
/// (``BillingTermsSection`` in TallyCatalogFile), so both read a catalog alike: `name`, `tenant`,
/// `currency`, `start`, `periods`, `period_length`, `anchor`, `ingest`, `metrics`, `plans`, `customers`,
/// `discounts`, `taxes`, `tax_rounding`, `credits`, `entitlement_cache`. Traffic, faults and
/// expectations are the sandbox's and are not read.
public struct CatalogFile: Sendable {
    /// The scenario's name: the `scenario` field of invoice documents.
    public var name: String
    /// The tenant whose events the catalog bills.
    public var tenant: String
    /// The metrics, plans, customers and adjustments that rate the tenant's usage.
    public var catalog: Catalog
    /// The billing periods of the run; a customer with `anchor: anniversary` has its own, from its `start`
    /// (``PeriodSchedule/schedule(for:)``), at most as many.
    public var schedule: PeriodSchedule
    /// How old or early an event may be, and when it is late.
    public var limits: MeteringLimits
    /// How often a gateway's cached entitlement standing is refreshed; nil for exact decisions.
    public var entitlementCacheRefresh: TimeSpan?

    /// Reads the catalog of the scenario text `yaml` from `file`.
    ///
    /// - Throws: ``ScenarioErrors`` with every problem, each at its line and column.
    public static func load(yaml: String, file: String) throws(ScenarioErrors) -> CatalogFile {
        let reader = NodeReader(file: file)
        let root = try YAMLDocument.compose(
            yaml, file: file,
            emptyMessage: "the file is empty, expected a scenario mapping with metrics, plans and customers")
        guard case .mapping(let mapping) = root else {
            throw ScenarioErrors(diagnostics: [
                Diagnostic(
                    file: file, line: 1, column: 1,
                    message: "expected a scenario mapping with metrics, plans and customers")
            ])
        }
        // Every key is allowed: the sandbox's own keys are simply not read here.
        let keys: [String] = mapping.keys.compactMap { key -> String? in
            if case .scalar(let scalar) = key { scalar.string } else { nil }
        }
        let terms = reader.mapping(root, "the scenario", allowed: keys).map {
            BillingTermsSection(reader: reader).read($0, root: root)
        }
        guard let terms, let name = terms.name, let catalog = terms.catalog, let schedule = terms.schedule,
            let ingest = terms.ingest,
            reader.diagnostics.isEmpty
        else {
            throw ScenarioErrors(diagnostics: Array(Set(reader.diagnostics)).sorted())
        }
        return CatalogFile(
            name: name, tenant: terms.tenant, catalog: catalog, schedule: schedule, limits: ingest.limits,
            entitlementCacheRefresh: terms.cacheRefresh)
    }
}
