/// One billing period: the half-open interval `[start, end)`.
///
/// An event belongs to the period containing its event timestamp, so an event
/// at exactly `end` belongs to the next period.
public struct BillingPeriod: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The period's position in the schedule: 0 for the first simulated period.
    public let index: Int
    /// The first instant of the period (inclusive).
    public let start: Instant
    /// The first instant after the period (exclusive): the next period's start.
    public let end: Instant

    /// Creates the period `[start, end)` at position `index` of its schedule.
    public init(index: Int, start: Instant, end: Instant) {
        self.index = index
        self.start = start
        self.end = end
    }

    /// The period's length: 28 to 31 days for a monthly period.
    public var length: TimeSpan { end - start }

    /// Whether `instant` lies in `[start, end)`.
    @inlinable
    public func contains(_ instant: Instant) -> Bool { start <= instant && instant < end }

    /// Whether `lhs` starts before `rhs`.
    public static func < (lhs: BillingPeriod, rhs: BillingPeriod) -> Bool { lhs.start < rhs.start }

    /// The period as `start..<end` in ISO 8601, such as `2026-01-01T00:00:00Z..<2026-02-01T00:00:00Z`.
    public var description: String { "\(start.iso8601)..<\(end.iso8601)" }
}

/// The consecutive billing periods of a run, like a test clock advancing month by month.
///
/// Periods are monthly, anchored at the first period's start: anchored on the
/// 31st, the period after January's starts on the last day of February.
public struct PeriodSchedule: Sendable, Hashable {
    /// The periods, in order, each starting where the one before ends.
    public let periods: [BillingPeriod]
    /// How long each period is: what ``anchored(at:)`` repeats from another start.
    public let interval: Interval

    /// How long each period is.
    public enum Interval: Sendable, Hashable {
        /// Calendar months from the anchor's day and time of day (clamped to a short month's last day).
        case monthly
        /// A fixed length, for tests and short scenarios.
        case fixed(TimeSpan)
    }

    /// Creates `count` consecutive periods of `interval`, the first starting at `start`.
    public init(start: Instant, count: Int, interval: Interval = .monthly) {
        var periods: [BillingPeriod] = []
        periods.reserveCapacity(Swift.max(0, count))
        let anchor = start.civilDate
        let timeOfDay = TimeSpan(milliseconds: start.millisecondOfDay)
        for index in 0..<Swift.max(0, count) {
            let (from, to): (Instant, Instant)
            switch interval {
            case .monthly:
                from = Instant(date: anchor.addingMonths(index, anchorDay: anchor.day)) + timeOfDay
                to = Instant(date: anchor.addingMonths(index + 1, anchorDay: anchor.day)) + timeOfDay
            case .fixed(let span):
                // Saturating: ``checkedEnd(start:count:interval:)`` is how a caller refuses such a schedule.
                let (offset, overflow) = span.milliseconds.multipliedReportingOverflow(by: Int64(index))
                from = start + TimeSpan(milliseconds: overflow ? .max : offset)
                to = from + span
            }
            periods.append(BillingPeriod(index: index, start: from, end: to))
        }
        self.periods = periods
        self.interval = interval
    }

    /// The schedule of a customer billed on its own anniversary (see ``BillingAnchor``), from `start`.
    ///
    /// It holds the periods of the same ``interval`` from `start` that start before this schedule ends.
    /// Its last period may end after this schedule's end; with `start` at or after this schedule's start
    /// it has at most as many periods, so usage keeps one slot per period of this schedule.
    ///
    /// Month ends follow the same rule as every schedule: anchored on Jan 31, the periods start
    /// Jan 31, Feb 28 (29 in a leap year), Mar 31. Returns `self` when `start` is already its start.
    public func anchored(at start: Instant) -> PeriodSchedule {
        guard start != self.start, let end else { return self }
        let own = PeriodSchedule(start: start, count: periods.count, interval: interval)
        return PeriodSchedule(periods: own.periods.filter { $0.start < end }, interval: interval)
    }

    private init(periods: [BillingPeriod], interval: Interval) {
        self.periods = periods
        self.interval = interval
    }

    /// The schedule `customer` is billed on: its own anniversary schedule from its `start` when its
    /// ``Customer/anchor`` is ``BillingAnchor/anniversary``, else this one.
    public func schedule(for customer: Customer) -> PeriodSchedule {
        guard customer.anchor == .anniversary, let start = customer.start else { return self }
        return anchored(at: start)
    }

    /// The end of year 9999, the last a four-digit timestamp can write: no schedule may end later.
    public static let latestEnd = Instant(date: CivilDate(year: 10_000, month: 1, day: 1))

    /// The end of `count` periods of `interval` from `start`, or nil when it passes ``latestEnd``
    /// (overflow included): check this before making a schedule from input.
    public static func checkedEnd(start: Instant, count: Int, interval: Interval) -> Instant? {
        guard count >= 0, count <= 120_000, start < latestEnd else { return nil }
        let end: Instant
        switch interval {
        case .monthly:
            let anchor = start.civilDate
            end =
                Instant(date: anchor.addingMonths(count, anchorDay: anchor.day))
                + TimeSpan(milliseconds: start.millisecondOfDay)
        case .fixed(let span):
            let (length, overflow) = span.milliseconds.multipliedReportingOverflow(by: Int64(count))
            guard !overflow else { return nil }
            let (sum, pastEnd) = start.millisecondsSinceEpoch.addingReportingOverflow(length)
            guard !pastEnd else { return nil }
            end = Instant(millisecondsSinceEpoch: sum)
        }
        return end <= latestEnd ? end : nil
    }

    /// The first period's start, or nil for an empty schedule.
    public var start: Instant? { periods.first?.start }
    /// The last period's end, or nil for an empty schedule.
    public var end: Instant? { periods.last?.end }

    /// The index of the period containing `instant`, or nil outside every period.
    @inlinable
    public func periodIndex(containing instant: Instant) -> Int? {
        PeriodSchedule.index(in: periods, containing: instant)
    }

    /// The index of the period of `periods` (sorted and adjacent) containing `instant`, or nil outside every one.
    @inlinable
    internal static func index(in periods: [BillingPeriod], containing instant: Instant) -> Int? {
        // Binary search: periods are sorted and adjacent.
        var low = 0
        var high = periods.count
        while low < high {
            let mid = (low + high) / 2
            if periods[mid].end <= instant { low = mid + 1 } else { high = mid }
        }
        return low < periods.count && periods[low].contains(instant) ? low : nil
    }
}
