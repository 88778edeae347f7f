/// A recurring metric's level through one billing period: where it opened and every change after.
///
/// A prorated charge prices this path rather than one quantity: each unit pays for the days it
/// was held (see ``Pricing/proratedGraduated(path:holding:tiers:currencyDigits:)``).
public struct LevelPath: Sendable, Equatable {
    /// One change of the level.
    public struct Change: Sendable, Equatable {
        /// When the event that changed the level happened.
        public var at: Instant
        /// The level from then on.
        public var level: ExactDecimal

        /// Creates a change to `level` at `at`.
        public init(at: Instant, level: ExactDecimal) {
            self.at = at
            self.level = level
        }
    }

    /// The level at the period's start, carried from earlier periods.
    public var opening: ExactDecimal
    /// The changes in timestamp order (ties: event id).
    public var changes: [Change]

    /// Creates a path that opens at `opening` and then changes as `changes` say.
    public init(opening: ExactDecimal, changes: [Change]) {
        self.opening = opening
        self.changes = changes
    }

    /// The level at the period's end: the last change's, or the opening level.
    public var closing: ExactDecimal { changes.last?.level ?? opening }

    /// The highest level held at any time in the period.
    public var peak: ExactDecimal { changes.reduce(opening) { ExactDecimal.max($0, $1.level) } }
}

/// The part of a period a prorated charge counts, in whole days: when the subscription's time in it ends.
public struct HoldingDays: Sendable, Equatable {
    /// The end of the subscription's time in the period: the period's end, or the subscription's if earlier.
    public var end: Instant
    /// Days from the subscription's time in the period starting to `end`, a started day counting whole.
    public var activeDays: Int64
    /// The period's length in days, a started day counting whole.
    public var periodDays: Int64

    /// Creates the counting window of a period `periodDays` long whose subscribed part is `activeDays` ending at `end`.
    public init(end: Instant, activeDays: Int64, periodDays: Int64) {
        self.end = end
        self.activeDays = activeDays
        self.periodDays = periodDays
    }

    /// The whole days a change at `instant` holds for: to ``end``, a started day counting whole, at most ``activeDays``.
    func days(from instant: Instant) -> Int64 {
        let milliseconds = Swift.max(0, end.millisecondsSinceEpoch - instant.millisecondsSinceEpoch)
        return Swift.min(activeDays, ActiveTime.wholeDays(milliseconds))
    }
}
