/// One customer's (or one customer and metric's) spike arrest state: the generic cell rate algorithm.
///
/// Time is counted in milliseconds x rate, so that a `30/s` interval of 33.3 ms is exactly
/// 1000 of these units and no fraction is ever rounded. ``nextFree`` is when the bucket
/// is empty again (the "theoretical arrival time"): a request is admitted when it comes no
/// more than `burst - 1` intervals before it, and each admitted request pushes it one
/// interval on. With no burst that is one request per interval; with a burst of N, N
/// back to back after a quiet spell, then one per interval again.
struct SpikeBucket: Sendable {
    /// The millisecond the bucket's clock counts from: its first request.
    private var origin: Int64
    /// In milliseconds x rate since `origin`.
    private var nextFree: Int64 = 0

    init(origin: Instant) { self.origin = origin.millisecondsSinceEpoch }

    /// Whether a request at `instant` would be admitted; nothing changes (see ``take(at:_:)``).
    func admits(at instant: Instant, _ arrest: SpikeArrest) -> Bool {
        guard let now = clock(at: instant, arrest) else { return true }
        return now >= nextFree - (arrest.burst - 1) * arrest.unit.milliseconds
    }

    /// Puts an admitted request at `instant` in the bucket: it is one interval fuller.
    mutating func take(at instant: Instant, _ arrest: SpikeArrest) {
        let interval = arrest.unit.milliseconds
        guard let now = clock(at: instant, arrest), now <= nextFree + interval else {
            // Idle for longer than an interval past empty: count afresh from here (the same
            // answers for every later request), so that the clock never outgrows 64 bits.
            origin = instant.millisecondsSinceEpoch
            nextFree = interval
            return
        }
        nextFree = Swift.max(nextFree, now) + interval
    }

    /// `instant` on the bucket's clock; nil when that would overflow (then the bucket is long empty).
    private func clock(at instant: Instant, _ arrest: SpikeArrest) -> Int64? {
        // Requests come in order; an earlier one is judged at the bucket's start. Instants a whole Int64 apart
        // (a test key's `at` may be any millisecond) overflow the difference: the bucket is long empty then too.
        let (difference, past) = instant.millisecondsSinceEpoch.subtractingReportingOverflow(origin)
        if past { return instant.millisecondsSinceEpoch < origin ? 0 : nil }
        let (now, overflow) = Swift.max(0, difference).multipliedReportingOverflow(by: arrest.rate)
        return overflow ? nil : now
    }
}
