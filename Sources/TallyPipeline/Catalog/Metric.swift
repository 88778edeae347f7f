/// A billable metric: which events count and how they aggregate over a period.
public struct Metric: Sendable, Hashable {
    /// The name events carry in their `metric` field.
    public var key: String
    /// How the metric's events combine into one quantity per customer and period.
    public var aggregation: Aggregation
    /// The event property the metric reads, if any, instead of the quantity.
    ///
    /// For `unique_count`, the property whose distinct values are counted. For
    /// `sum`, `max`, `latest` and percentage charges, a property holding a decimal
    /// that is used instead of the quantity (e.g. a payment's `amount`).
    public var property: String?
    /// Properties whose values split the aggregate into groups (a matrix charge's dimensions).
    public var groupBy: [String]
    /// Whether events may carry a negative quantity.
    ///
    /// By default only `weighted_sum` allows it, because its quantities are deltas of a level.
    public var allowsNegative: Bool
    /// What one unit costs the seller to serve, for Margin Guard; nil for none.
    public var cost: UnitCost?
    /// Whether the aggregate carries into the next period until changed (seats, storage held).
    ///
    /// Allowed with `sum` (events are changes of a level), `latest` (events are readings of it) and
    /// `weighted_sum` (which always carries its level); see Docs/Semantics.md, "Recurring metrics".
    public var recurring: Bool

    /// Creates a metric; `allowsNegative` defaults to true for `weighted_sum` and a recurring `sum` only.
    public init(
        key: String, aggregation: Aggregation, property: String? = nil, groupBy: [String] = [],
        allowsNegative: Bool? = nil,
        cost: UnitCost? = nil, recurring: Bool = false
    ) {
        self.key = key
        self.cost = cost
        self.aggregation = aggregation
        self.property = property
        self.groupBy = groupBy
        self.recurring = recurring
        // A recurring sum's events are changes of a level: a seat removed is -1.
        self.allowsNegative = allowsNegative ?? (aggregation == .weightedSum || (recurring && aggregation == .sum))
    }
}

/// How a metric's events combine into one quantity per customer and period.
public enum Aggregation: String, Sendable, Hashable, CaseIterable {
    /// The number of accepted events.
    case count
    /// The sum of quantities (or of the metric's property).
    case sum
    /// The largest quantity; 0 without events.
    case max
    /// The number of distinct values of the metric's property.
    case uniqueCount = "unique_count"
    /// The quantity of the event with the greatest timestamp (ties: greatest
    /// event id); a negative latest value counts as 0.
    case latest
    /// Quantities are deltas of a running level; the result is the time-weighted
    /// average level over the period: sum(level x time at level) / period length.
    case weightedSum = "weighted_sum"
}
