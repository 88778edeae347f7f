/// The time windows of validation, relative to ingest time.
public struct MeteringLimits: Sendable, Hashable {
    /// An event more than this far ahead of ingest time is `timestamp_in_future`.
    public var maxFuture: TimeSpan
    /// An event more than this far behind ingest time is `timestamp_too_old`.
    public var maxAge: TimeSpan
    /// An accepted event more than this far behind ingest time is flagged late.
    public var lateAfter: TimeSpan

    /// Creates limits; the defaults are the metering contract's: 5 minutes ahead, 90 days old, late after 24 hours.
    public init(maxFuture: TimeSpan = .minutes(5), maxAge: TimeSpan = .days(90), lateAfter: TimeSpan = .hours(24)) {
        self.maxFuture = maxFuture
        self.maxAge = maxAge
        self.lateAfter = lateAfter
    }
}
