import TallyPipeline
import TallySandbox

/// Accepted usage per metric, customer and UTC day, gathered while a scenario runs.
///
/// It watches the run as the ledger does, event by event, so the pipeline needs no
/// report code. A day is the event's own timestamp's UTC day, the time usage happened.
public final class DailyUsage: RunObserver {
    /// One metric's usage of one customer on one day.
    struct Key: Hashable {
        var metric: String
        var customer: String
        var day: Int64
    }

    /// What a chart of a metric shows per day, chosen by its aggregation.
    struct Tally {
        var events = 0
        var quantity = ExactDecimal.zero
    }

    private(set) var days: [Key: Tally] = [:]
    /// The property whose value `sum`, `max` and `latest` metrics read instead of the quantity.
    private let valueProperty: [String: String]
    /// Another observer to hand every event to, e.g. the ledger.
    private let next: RunObserver?

    /// Watches a run of `scenario`, handing each event on to `next` as well.
    public init(scenario: Scenario, next: RunObserver? = nil) {
        var properties: [String: String] = [:]
        for metric in scenario.catalog.metrics {
            if let property = metric.property, metric.aggregation != .uniqueCount { properties[metric.key] = property }
        }
        valueProperty = properties
        self.next = next
    }

    public func sent(_ item: GeneratedItem, outcome: MeteringOutcome) {
        next?.sent(item, outcome: outcome)
        guard case .accepted = outcome, case .event(let event) = item.payload else { return }
        let key = Key(metric: event.metric, customer: event.customer, day: utcDay(event.timestamp))
        var tally = days[key] ?? Tally()
        tally.events += 1
        let value: ExactDecimal?
        if let property = valueProperty[event.metric] {
            value = event.properties[property].flatMap { ExactDecimal($0) }
        } else {
            value = event.quantity
        }
        if let value, let sum = try? tally.quantity + value { tally.quantity = sum }
        days[key] = tally
    }

    public func refused(_ item: GeneratedItem, decision: AccessDecision, at instant: Instant) {
        next?.refused(item, decision: decision, at: instant)
    }

    public func finished(_ run: ScenarioRun, meter: Meter) throws {
        try next?.finished(run, meter: meter)
    }
}
