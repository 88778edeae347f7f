/// The running state of one aggregate; the same whatever order its events arrive in.
///
/// Every case can be merged with another of its kind, which is what makes the
/// result independent of how events are split into batches or shards.
enum Accumulator: Sendable {
    case count(Int64)
    case sum(ExactDecimal)
    /// nil until the first event.
    case max(ExactDecimal?)
    case uniqueCount(DistinctValues)
    case latest(LatestValue?)
    /// `delta` is the sum of deltas in the period; `area` is sum(delta x (period end - t))
    /// in unit-milliseconds, so the level-time integral never depends on event order.
    case weightedSum(delta: ExactDecimal, area: ExactDecimal)

    init(_ aggregation: Aggregation) {
        switch aggregation {
        case .count: self = .count(0)
        case .sum: self = .sum(.zero)
        case .max: self = .max(nil)
        case .uniqueCount: self = .uniqueCount(DistinctValues())
        case .latest: self = .latest(nil)
        case .weightedSum: self = .weightedSum(delta: .zero, area: .zero)
        }
    }

    /// Adds one event's contribution.
    ///
    /// - Parameters:
    ///   - value: the quantity, or the metric's property read as a decimal.
    ///   - distinct: the number ``Usage`` gave the event's property value, for `unique_count`.
    ///   - periodEnd: the end of the event's period, for `weighted_sum`.
    mutating func add(
        value: ExactDecimal, distinct: Int?, timestamp: Instant, eventID: String, periodEnd: Instant
    ) throws(DecimalError) {
        switch self {
        case .count(let n):
            self = .count(n + 1)
        case .sum(let total):
            self = .sum(try total + value)
        case .max(let current):
            self = .max(current.map { ExactDecimal.max($0, value) } ?? value)
        case .uniqueCount(var values):
            // Usage numbers the value of every unique_count event (a missing one as ""), so this holds.
            guard let distinct else { return }
            self = .count(0)  // release the set's buffer so the insert below does not copy it
            values.insert(distinct)
            self = .uniqueCount(values)
        case .latest(let current):
            let candidate = LatestValue(timestamp: timestamp, eventID: eventID, value: value)
            self = .latest(current.map { $0.later(candidate) } ?? candidate)
        case .weightedSum(let delta, let area):
            let remaining = ExactDecimal(Int(periodEnd.millisecondsSinceEpoch - timestamp.millisecondsSinceEpoch))
            self = .weightedSum(delta: try delta + value, area: try area + (try value * remaining))
        }
    }

    /// Combines two accumulators of the same kind, as if their events had been added to one.
    func merged(with other: Accumulator) throws(DecimalError) -> Accumulator {
        switch (self, other) {
        case (.count(let a), .count(let b)): return .count(a + b)
        case (.sum(let a), .sum(let b)): return .sum(try a + b)
        case (.max(let a), .max(let b)):
            guard let a else { return .max(b) }
            guard let b else { return .max(a) }
            return .max(ExactDecimal.max(a, b))
        case (.uniqueCount(let a), .uniqueCount(let b)): return .uniqueCount(a.union(b))
        case (.latest(let a), .latest(let b)):
            guard let a else { return .latest(b) }
            guard let b else { return .latest(a) }
            return .latest(a.later(b))
        case (.weightedSum(let d1, let a1), .weightedSum(let d2, let a2)):
            return .weightedSum(delta: try d1 + d2, area: try a1 + a2)
        default:
            return self  // different kinds never share a key: one metric has one aggregation
        }
    }

    /// The aggregate's quantity for a period.
    ///
    /// - Parameters:
    ///   - openingLevel: for `weighted_sum`, the level at the period's start (the
    ///     sum of all deltas of earlier periods).
    ///   - periodLength: for `weighted_sum`.
    func quantity(openingLevel: ExactDecimal, periodLength: TimeSpan) throws(DecimalError) -> ExactDecimal {
        switch self {
        case .count(let n): return ExactDecimal(Int(n))
        case .sum(let total): return total
        case .max(let value): return value ?? .zero
        case .uniqueCount(let values): return ExactDecimal(values.count)
        case .latest(let latest):
            guard let value = latest?.value else { return .zero }
            return value.isNegative ? .zero : value
        case .weightedSum(_, let area):
            let length = ExactDecimal(Int(periodLength.milliseconds))
            let integral = try (try openingLevel * length) + area
            return try integral.divided(by: length, scale: Accumulator.weightedSumScale, .halfUp)
        }
    }

    /// Fraction digits of a time-weighted average.
    ///
    /// 18 digits is far below any
    /// price's resolution (12 digits times a unit of 10^-18 is 10^-30), so this
    /// division never moves a rounded amount in practice; it is documented as
    /// the one place a quantity is rounded.
    static let weightedSumScale = 18
}

/// The candidate for `latest`: greatest timestamp wins, ties go to the greatest event id.
struct LatestValue: Sendable, Hashable {
    var timestamp: Instant
    var eventID: String
    var value: ExactDecimal

    func later(_ other: LatestValue) -> LatestValue {
        if other.timestamp != timestamp { return other.timestamp > timestamp ? other : self }
        return other.eventID.utf8.lexicographicallyPrecedes(eventID.utf8) ? self : other
    }
}
