import Testing

@testable import TallyPipeline

/// An exact decimal from its text, so test amounts read as written.
func dec(_ text: String) throws -> ExactDecimal {
    try ExactDecimal(parsing: text)
}

func instant(_ text: String) throws -> Instant {
    try Instant(iso8601: text)
}

func currency(_ code: String) throws -> Currency {
    try #require(Currency(code: code))
}

/// Builds events for one tenant and meters them in timestamp order, receiving each at its own time.
struct UsageBuilder {
    var meter: Meter
    private var pending: [Event] = []

    init(catalog: Catalog, schedule: PeriodSchedule) {
        meter = Meter(catalog: catalog, schedule: schedule)
    }

    /// Queues `count` events of `quantity` each at `at`.
    mutating func add(
        _ customer: String, _ metric: String, quantity: ExactDecimal = 1, count: Int = 1, at: String,
        properties: EventProperties = EventProperties()
    ) throws {
        let timestamp = try instant(at)
        for _ in 0..<count {
            pending.append(
                Event(
                    id: "evt-\(pending.count)", tenant: "t1", customer: customer, metric: metric,
                    quantity: quantity, timestamp: timestamp, source: "sdk", properties: properties))
        }
    }

    /// Meters everything queued and returns the usage, failing the test if an event is not accepted.
    mutating func usage() -> Usage {
        for event in pending.sorted(by: { $0.timestamp < $1.timestamp }) {
            let outcome = meter.ingest(event, receivedAt: event.timestamp)
            if case .accepted = outcome {} else { Issue.record("event \(event.id) was not accepted: \(outcome)") }
        }
        pending = []
        return meter.usage
    }
}

/// The first day of 2026's months as monthly periods (Jan 31 days, Feb 28, Mar 31, Apr 30).
func months(_ count: Int, from start: String = "2026-01-01") throws -> PeriodSchedule {
    PeriodSchedule(start: try instant(start), count: count)
}

let callsMetric = Metric(key: "calls", aggregation: .count)

extension Array where Element == Invoice {
    func of(_ customer: String) -> [Invoice] { filter { $0.customer == customer } }
}
