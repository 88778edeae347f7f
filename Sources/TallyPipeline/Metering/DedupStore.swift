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
///
/// Layout: an open-addressing table with linear probing, 16 bytes a slot: 96
/// bits of the key's fingerprint and the event's timestamp in whole seconds.
/// Two different keys share 96 bits with probability about n^2 / 2^97: for 100
/// million keys in one window, 6e-14. The fingerprint is already a uniform
/// hash, so its bits pick the slot directly and nothing is hashed twice.
struct DedupStore {
    /// The fingerprint's high word, per slot.
    private var highs: [UInt64]
    /// 32 more bits of the fingerprint, per slot.
    private var tags: [UInt32]
    /// Seconds since `epoch` plus one, per slot; 0 marks an empty slot.
    private var stamps: [UInt32]
    private var mask: Int
    private(set) var count = 0
    /// Sweeping on every event would cost a pass over the table each time; a
    /// sweep when the clock has advanced by an eighth of the window keeps the
    /// table within 9/8 of the window's keys at O(1) amortized cost.
    private var nextSweep: Int64 = .min
    private let sweepInterval: Int64
    /// 2000-01-01T00:00:00Z in seconds: stamps count from here, good until 2136.
    private static let epochSeconds: Int64 = 946_684_800

    init(window: TimeSpan, capacity: Int = 1 << 12) {
        sweepInterval = Swift.max(window.milliseconds / 8, 1)
        var size = 16
        while size < capacity { size <<= 1 }
        highs = Array(repeating: 0, count: size)
        tags = Array(repeating: 0, count: size)
        stamps = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// Bytes of table per remembered key (the table's size over its fill).
    var bytesPerKey: Double { count == 0 ? 0 : Double(stamps.count * 16) / Double(count) }

    @inline(__always)
    private static func stamp(_ timestamp: Instant) -> UInt32 {
        // Floor to seconds; clamp to the representable range (before 2000 -> 1).
        let seconds = timestamp.millisecondsSinceEpoch >= 0 ? timestamp.millisecondsSinceEpoch / 1000 : (timestamp.millisecondsSinceEpoch - 999) / 1000
        let offset = seconds - epochSeconds
        return UInt32(clamping: Swift.max(0, offset) + 1)
    }

    func contains(_ key: Fingerprint) -> Bool {
        let tag = UInt32(truncatingIfNeeded: key.low)
        var slot = Int(truncatingIfNeeded: key.high) & mask
        while stamps[slot] != 0 {
            if highs[slot] == key.high && tags[slot] == tag { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// Records an accepted key; returns false when it was already there.
    @discardableResult
    mutating func insert(_ key: Fingerprint, timestamp: Instant) -> Bool {
        if (count + 1) * 5 > stamps.count * 4 { resize(to: stamps.count * 2) }
        let tag = UInt32(truncatingIfNeeded: key.low)
        var slot = Int(truncatingIfNeeded: key.high) & mask
        while stamps[slot] != 0 {
            if highs[slot] == key.high && tags[slot] == tag { return false }
            slot = (slot + 1) & mask
        }
        highs[slot] = key.high
        tags[slot] = tag
        stamps[slot] = DedupStore.stamp(timestamp)
        count += 1
        return true
    }

    /// Forgets keys whose timestamp is before `horizon` (clock - maxAge), now and then.
    mutating func forget(before horizon: Instant, clock: Instant) {
        guard clock.millisecondsSinceEpoch >= nextSweep else { return }
        nextSweep = clock.millisecondsSinceEpoch.addingSaturating(sweepInterval)
        // A stamp is the floor of the timestamp in seconds, so a key is surely older
        // than the horizon only when its whole second ends at or before it.
        let limit = DedupStore.stamp(horizon)
        var expired = 0
        for slot in stamps.indices where stamps[slot] != 0 && stamps[slot] < limit { expired += 1 }
        guard expired > 0 else { return }
        resize(to: stamps.count, keeping: { $0 >= limit })
    }

    /// Rebuilds the table at `size` slots with the entries whose stamp passes `keep`.
    private mutating func resize(to size: Int, keeping keep: (UInt32) -> Bool = { _ in true }) {
        let (oldHighs, oldTags, oldStamps) = (highs, tags, stamps)
        var newSize = 16
        while newSize < size { newSize <<= 1 }
        highs = Array(repeating: 0, count: newSize)
        tags = Array(repeating: 0, count: newSize)
        stamps = Array(repeating: 0, count: newSize)
        mask = newSize - 1
        count = 0
        for slot in oldStamps.indices where oldStamps[slot] != 0 && keep(oldStamps[slot]) {
            // The slot comes from the high word, which is stored, so it can be found again here.
            var target = Int(truncatingIfNeeded: oldHighs[slot]) & mask
            while stamps[target] != 0 { target = (target + 1) & mask }
            highs[target] = oldHighs[slot]
            tags[target] = oldTags[slot]
            stamps[target] = oldStamps[slot]
            count += 1
        }
    }
}
