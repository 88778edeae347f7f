import TallyPipeline
import Yams

/// The simulated clock of a scenario's `ingest:` block: when each event reaches the pipeline, and the
/// windows it is judged by.
public struct IngestSettings: Sendable, Hashable {
    /// Ingest time = the event's natural time + delay.
    public var delay: TimeSpan
    /// The metering windows: how far in the future or past an event may be, and when it is late.
    public var limits: MeteringLimits

    /// Settings of `delay` and `limits`.
    public init(delay: TimeSpan, limits: MeteringLimits) {
        self.delay = delay
        self.limits = limits
    }
}

/// Reads the billing terms of a scenario file: its name, schedule, currency, tenant, ingest
/// windows, catalog and entitlement cache.
///
/// `tally run` and `tally-server` read a catalog through this one reader, so a file bills alike in
/// both; the sandbox reads its own keys (seed, traffic, faults, `expect:`) beside it.
package struct BillingTermsSection {
    package let reader: NodeReader

    package init(reader: NodeReader) {
        self.reader = reader
    }

    /// The terms read; a value is nil where its key had an error (already reported to the reader).
    package struct Terms {
        package var name: String?
        package var start: Instant?
        package var periods: Int?
        package var interval: PeriodSchedule.Interval
        package var tenant: String
        package var ingest: IngestSettings?
        /// Nil when the catalog is invalid; validated even when a section had errors, so one
        /// reading reports every problem.
        package var catalog: Catalog?
        /// `entitlement_cache.refresh`; nil for exact decisions.
        package var cacheRefresh: TimeSpan?

        /// The billing periods, once the start and their count are known.
        package var schedule: PeriodSchedule? {
            guard let start, let periods else { return nil }
            return PeriodSchedule(start: start, count: periods, interval: interval)
        }
    }

    /// Reads the terms from the scenario mapping `top`, whose document is `root`.
    package func read(_ top: YAMLMapping, root: Node) -> Terms {
        let name = top.required("name", "the scenario's name, also its Fixtures/ folder").flatMap { node -> String? in
            guard let name = reader.string(node, "name") else { return nil }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }),
                !name.hasPrefix(".")
            else {
                reader.fail(
                    node,
                    "name '\(Escaped(name))' must use only letters, digits, '-', '_' and '.', since it names a folder")
                return nil
            }
            return name
        }
        let start = top.required("start", "the first period's start, like 2026-01-01T00:00:00Z").flatMap {
            reader.instant($0, "start")
        }
        let periods = top["periods"].map { reader.integer($0, "periods", in: 1...120) } ?? 1
        var interval = PeriodSchedule.Interval.monthly
        if let node = top["period_length"] {
            if reader.scalarText(node, "period_length", expected: "monthly or a duration") == "monthly" {
                interval = .monthly
            } else if let text = NodeReader.plainText(node), text.lowercased().hasPrefix("month") {
                reader.fail(
                    node,
                    "period_length: '\(text)' is not a period length, did you mean 'monthly'? expected monthly or a duration like 7d"
                )
            } else if let span = reader.span(node, "period_length") {
                if span.milliseconds <= 0 {
                    reader.fail(node, "period_length must be longer than 0")
                } else {
                    interval = .fixed(span)
                }
            }
        }
        if let start, let periods, PeriodSchedule.checkedEnd(start: start, count: periods, interval: interval) == nil {
            let length = if case .fixed(let span) = interval { "of \(span) " } else { "" }
            reader.fail(
                top["period_length"] ?? top["periods"] ?? top["start"],
                "\(periods) periods \(length)from \(start) end after the year 9999, expected a schedule that ends by 9999-12-31T23:59:59.999Z"
            )
        }
        let currency = top.required("currency", "an ISO 4217 code like USD").flatMap { node -> Currency? in
            guard let code = reader.string(node, "currency") else { return nil }
            guard let currency = Currency(code: code) else {
                if Currency(code: code.uppercased()) != nil {
                    reader.fail(
                        node,
                        "unknown currency '\(Escaped(code))', did you mean '\(code.uppercased())'? codes are written in capitals"
                    )
                    return nil
                }
                reader.fail(
                    node,
                    "unknown currency '\(Escaped(code))', expected an ISO 4217 code: \(Currency.knownCodes.joined(separator: ", "))"
                )
                return nil
            }
            return currency
        }
        let tenant = top["tenant"].flatMap { reader.string($0, "tenant") } ?? "default"
        let ingest = readIngest(top["ingest"])

        var catalogReader = CatalogSection(reader: reader)
        let metrics = top.required("metrics", "a list of metrics").map { catalogReader.metrics($0) } ?? []
        let plans = top.required("plans", "a list of plans").map { catalogReader.plans($0) } ?? []
        let anchor = top["anchor"].flatMap { reader.choice($0, "anchor", BillingAnchor.self) } ?? .calendar
        let customers =
            top.required("customers", "a list of customers").map {
                catalogReader.customers($0, defaultAnchor: anchor)
            } ?? CustomerList()
        if let start { checkAnniversaries(catalogReader.anniversaryItems, start: start) }
        let discounts = top["discounts"].map { catalogReader.discounts($0) } ?? []
        let taxes = top["taxes"].map { catalogReader.taxes($0) } ?? []
        let credits = top["credits"].map { catalogReader.credits($0) } ?? []
        let taxRounding = top["tax_rounding"].flatMap { reader.choice($0, "tax_rounding", TaxRounding.self) } ?? .line

        // Validate the catalog even when a section had errors, so one run reports every problem;
        // the currency only sets rounding digits, so any stands in for a bad one here.
        var catalog: Catalog?
        if let currency = currency ?? Currency(code: "USD") {
            do {
                catalog = try Catalog(
                    currency: currency, metrics: metrics, plans: plans, customers: customers,
                    discounts: discounts, taxRates: taxes, credits: credits)
                catalog?.taxRounding = taxRounding
            } catch {
                for problem in error.errors {
                    reader.fail(catalogReader.node(at: problem.path, in: root), problem.message)
                }
            }
        }

        let cacheRefresh = top["entitlement_cache"].flatMap { RequestPathSection(reader: reader).entitlementCache($0) }
        return Terms(
            name: name, start: start, periods: periods, interval: interval, tenant: tenant, ingest: ingest,
            catalog: catalog, cacheRefresh: cacheRefresh)
    }

    /// Checks that each customer billed on its own anniversary starts at or after the scenario's start: its
    /// periods are those of its own schedule that start inside the run's, so at most `periods` of them.
    private func checkAnniversaries(_ items: [(node: Node, start: Instant?)], start: Instant) {
        for (node, own) in items {
            guard let own, own < start else { continue }
            reader.fail(
                node,
                "an anniversary customer's start \(own) is before the scenario's start \(start), expected a start at or after it (its billing periods begin there)"
            )
        }
    }

    func readIngest(_ node: Node?) -> IngestSettings? {
        var settings = IngestSettings(delay: TimeSpan(milliseconds: 0), limits: MeteringLimits())
        guard let node else { return settings }
        guard let map = reader.mapping(node, "ingest", allowed: ["delay", "max_future", "max_age", "late_after"]) else {
            return nil
        }
        var ok = true
        func span(_ key: String) -> TimeSpan? {
            guard let node = map[key] else { return nil }
            guard let value = reader.span(node, "ingest.\(key)") else {
                ok = false
                return nil
            }
            return value
        }
        if let delay = span("delay") { settings.delay = delay }
        if let value = span("max_future") { settings.limits.maxFuture = value }
        if let value = span("max_age") { settings.limits.maxAge = value }
        if let value = span("late_after") { settings.limits.lateAfter = value }
        return ok ? settings : nil
    }
}
