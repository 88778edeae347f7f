/// The set of accepted idempotency keys still inside the acceptance window.
///
/// Memory is bounded by the window, not by the run: a key is forgotten once its
/// event's timestamp is more than `maxAge` behind the clock. That is safe
/// because a re-send carries the original event's timestamp (the idempotency
/// key names one event, timestamp included), and the too-old check runs
/// before the duplicate check: by the time a key is forgotten, any re-send of
/// its event is rejected as `timestamp_too_old` without reaching this store.
/// The clock only moves forward (see ``Meter``), so a forgotten key can never
/// come back inside the window.
struct DedupStore {
    /// Key -> event timestamp in milliseconds.
    private var timestamps: [Fingerprint: Int64] = [:]
    /// Sweeping on every event would cost a pass over the table each time; a
    /// sweep when the clock has advanced by an eighth of the window keeps the
    /// table within 9/8 of the window's keys at O(1) amortized cost.
    private var nextSweep: Int64 = .min
    private let sweepInterval: Int64

    init(window: TimeSpan) {
        sweepInterval = Swift.max(window.milliseconds / 8, 1)
    }

    var count: Int { timestamps.count }

    func contains(_ key: Fingerprint) -> Bool { timestamps[key] != nil }

    /// Records an accepted key; returns false when it was already there.
    @discardableResult
    mutating func insert(_ key: Fingerprint, timestamp: Instant) -> Bool {
        timestamps.updateValue(timestamp.millisecondsSinceEpoch, forKey: key) == nil
    }

    /// Forgets keys whose timestamp is before `horizon` (clock - maxAge), now and then.
    mutating func forget(before horizon: Instant, clock: Instant) {
        guard clock.millisecondsSinceEpoch >= nextSweep else { return }
        nextSweep = clock.millisecondsSinceEpoch.addingSaturating(sweepInterval)
        let limit = horizon.millisecondsSinceEpoch
        timestamps = timestamps.filter { $0.value >= limit }
    }
}
