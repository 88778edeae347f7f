@testable import TallyPipeline

/// A small catalog and a clock for metering tests.
enum MeteringFixture {
    static let periodStart = instant("2026-01-01T00:00:00Z")
    /// Ingest time used by most tests: mid-period.
    static let now = instant("2026-01-15T12:00:00Z")

    static func instant(_ text: String) -> Instant {
        (try? Instant(iso8601: text)) ?? Instant(millisecondsSinceEpoch: 0)
    }

    static func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text) ?? .zero }

    static func catalog(quotas: [Quota] = []) throws -> Catalog {
        try Catalog(
            currency: Currency(code: "USD") ?? Currency(code: "EUR")!,
            metrics: [
                Metric(key: "api_calls", aggregation: .count),
                Metric(key: "bytes", aggregation: .sum),
                Metric(key: "peak", aggregation: .max),
                Metric(key: "users", aggregation: .uniqueCount, property: "user"),
                Metric(key: "seats", aggregation: .latest),
                Metric(key: "storage", aggregation: .weightedSum),
                Metric(key: "payments", aggregation: .sum, property: "amount"),
                Metric(key: "calls_by_region", aggregation: .count, groupBy: ["region"]),
            ],
            plans: [Plan(id: "basic", charges: [], quotas: quotas)],
            customers: [Customer(id: "acme", plan: "basic"), Customer(id: "globex", plan: "basic")]
        )
    }

    static func meter(quotas: [Quota] = [], limits: MeteringLimits = MeteringLimits(), periods: Int = 1) throws -> Meter
    {
        Meter(
            catalog: try catalog(quotas: quotas), schedule: PeriodSchedule(start: periodStart, count: periods),
            limits: limits)
    }

    static func event(
        _ id: String, customer: String = "acme", metric: String = "api_calls", quantity: String = "1",
        at timestamp: Instant = now, tenant: String = "t1", properties: EventProperties = EventProperties()
    ) -> Event {
        Event(
            id: id, tenant: tenant, customer: customer, metric: metric, quantity: decimal(quantity),
            timestamp: timestamp, source: "kong", properties: properties)
    }
}
