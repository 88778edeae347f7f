/// What a plan's spike arrest admits: a rate per second or per minute, smoothed, with an optional burst.
///
/// Smoothed the way Apigee's SpikeArrest is: `30/s` admits one request per 1000/30 ms
/// interval, not 30 at the top of each second. A burst of N lets N requests through
/// back to back after a quiet spell, refilled one per interval.
public struct SpikeArrest: Sendable, Hashable {
    /// The unit a rate is counted per.
    public enum Unit: String, Sendable, Hashable {
        case second = "s"
        case minute = "min"

        /// The unit's length in milliseconds.
        public var milliseconds: Int64 { self == .second ? 1_000 : 60_000 }
    }

    /// The most requests per ``unit``, 1 to ``maxRate``.
    public var rate: Int64
    /// Whether ``rate`` counts requests per second or per minute.
    public var unit: Unit
    /// Requests that may pass back to back; 1 (no burst) or more.
    public var burst: Int64
    /// Only requests for this metric, each customer with a bucket of its own; nil for every
    /// request of the customer, all metrics sharing one bucket.
    public var metric: String?

    /// The largest rate, so that a bucket's arithmetic (milliseconds x rate) stays far inside 64 bits.
    public static let maxRate: Int64 = 1_000_000
    /// The largest burst, for the same reason.
    public static let maxBurst: Int64 = 1_000_000

    /// Creates a spike arrest of `rate` requests per `unit`, with a burst, for `metric` alone or every request.
    public init(rate: Int64, unit: Unit, burst: Int64 = 1, metric: String? = nil) {
        self.rate = rate
        self.unit = unit
        self.burst = burst
        self.metric = metric
    }
}

/// A plan's Margin Guard levels: the margins below which requests are flagged, throttled or refused.
///
/// Each threshold is a fraction (0.2 is 20%). Margin is `(revenue - cost) / revenue`; see
/// ``MarginStanding`` for how it is compared without rounding.
public struct MarginGuard: Sendable, Hashable {
    /// Below it: L1, allowed and flagged `margin_warning`.
    public var warnBelow: ExactDecimal
    /// Below it: L2, allowed and flagged `throttled`.
    public var throttleBelow: ExactDecimal
    /// Below it: L3, refused `margin_blocked`.
    public var blockBelow: ExactDecimal

    /// Creates levels from three margin fractions, highest first (`warnBelow` >= `throttleBelow` >= `blockBelow`).
    public init(warnBelow: ExactDecimal, throttleBelow: ExactDecimal, blockBelow: ExactDecimal) {
        self.warnBelow = warnBelow
        self.throttleBelow = throttleBelow
        self.blockBelow = blockBelow
    }

    /// The published levels: warn below 20%, throttle below 10%, block below 0%.
    public static let standard = MarginGuard(
        warnBelow: ExactDecimal(uncheckedSignificand: 20, scale: 2),
        throttleBelow: ExactDecimal(uncheckedSignificand: 10, scale: 2),
        blockBelow: .zero)
}

/// What one unit of a metric costs the seller to serve, for Margin Guard.
public enum UnitCost: Sendable, Hashable {
    /// The same cost for every unit.
    case flat(ExactDecimal)
    /// By the value of one event property, the way a `matrix` charge prices (e.g. by `model`).
    case byProperty(PropertyCosts)

    /// The unit cost of an event with these properties.
    public func cost(properties: EventProperties) -> ExactDecimal {
        switch self {
        case .flat(let cost): cost
        case .byProperty(let table): properties[table.property].flatMap { table.cost(of: $0) } ?? table.defaultCost
        }
    }
}

/// Unit costs by one property's value, with a default for values not listed.
public struct PropertyCosts: Sendable, Hashable {
    /// The property whose value picks the cost.
    public var property: String
    /// Costs by value, in the order written.
    public var costs: [(value: String, cost: ExactDecimal)]
    /// The cost of a value not listed, or of an event without the property.
    public var defaultCost: ExactDecimal

    /// Creates a cost table on `property`, with `defaultCost` for a value not in `costs`.
    public init(property: String, costs: [(value: String, cost: ExactDecimal)], defaultCost: ExactDecimal) {
        self.property = property
        self.costs = costs
        self.defaultCost = defaultCost
    }

    /// The listed cost of `value`, nil when it is not listed.
    public func cost(of value: String) -> ExactDecimal? { costs.first { $0.value == value }?.cost }

    /// Whether two tables have the same property, default and costs in the same order.
    ///
    /// Written by hand because a tuple list is not `Equatable`.
    public static func == (lhs: PropertyCosts, rhs: PropertyCosts) -> Bool {
        lhs.property == rhs.property && lhs.defaultCost == rhs.defaultCost
            && lhs.costs.map(\.value) == rhs.costs.map(\.value) && lhs.costs.map(\.cost) == rhs.costs.map(\.cost)
    }

    /// Hashes the property and the number of costs, a subset of what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(property)
        hasher.combine(costs.count)
    }
}
