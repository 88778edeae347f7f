internal import CIntrinsics

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
struct DedupStore: Sendable {
    /// One slot: 96 bits of the fingerprint and a stamp, together in 16 bytes so that a
    /// probe costs one cache line, not one per field.
    struct Slot: Sendable {
        var high: UInt64
        var tag: UInt32
        /// Seconds since `epochSeconds` plus one; 0 marks an empty slot.
        var stamp: UInt32
    }

    /// Where a key is, or where it would go: from ``probe(_:)`` to ``insert(_:at:timestamp:)``.
    struct Probe {
        var found: Bool
        var slot: Int
    }

    private var slots: SlotTable
    private var mask: Int
    private(set) var count = 0
    /// Sweeping on every event would cost a pass over the table each time; a
    /// sweep when the clock has advanced by an eighth of the window keeps the
    /// table within 9/8 of the window's keys at O(1) amortized cost.
    private var nextSweep: Int64 = .min
    private let sweepInterval: Int64
    /// No stored stamp is below this; `.max` for an empty table.
    ///
    /// A sweep that would find nothing to forget (every key younger than the
    /// horizon, as in a run shorter than the window) then skips its pass over the
    /// table: at 100M keys, 2 GB read for nothing at every sweep.
    private(set) var oldestStamp: UInt32 = .max
    /// 2000-01-01T00:00:00Z in seconds: stamps count from here, good until 2136.
    private static let epochSeconds: Int64 = 946_684_800

    init(window: TimeSpan, capacity: Int = 1 << 12) {
        sweepInterval = Swift.max(window.milliseconds / 8, 1)
        let size = DedupStore.slotCount(forCapacity: capacity)
        slots = SlotTable(count: size)
        mask = size - 1
    }

    /// The table's size in bytes (its slots, filled or not).
    var tableBytes: Int { slots.bytes }

    @inline(__always)
    private static func stamp(_ timestamp: Instant) -> UInt32 {
        // Floor to seconds; clamp to the representable range (before 2000 -> 1).
        let ms = timestamp.millisecondsSinceEpoch
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        return UInt32(clamping: Swift.max(0, seconds - epochSeconds) + 1)
    }

    /// Finds the key, or the empty slot where it would be inserted.
    ///
    /// Grows the table first when it is 80% full, so the returned slot stays valid until the next insert.
    @inline(__always)
    mutating func probe(_ key: Fingerprint) -> Probe {
        if (count + 1) * 5 > slots.count * 4 { resize(to: slots.count * 2) }
        if !isKnownUniquelyReferenced(&slots) { slots = slots.copy() }
        let tag = UInt32(truncatingIfNeeded: key.low)
        var slot = Int(truncatingIfNeeded: key.high) & mask
        while true {
            let current = slots.base[slot]
            if current.stamp == 0 { return Probe(found: false, slot: slot) }
            if current.high == key.high && current.tag == tag { return Probe(found: true, slot: slot) }
            slot = (slot + 1) & mask
        }
    }

    /// Starts loading the slot where a probe for `key` begins (see ``Meter/prefetch(_:)``).
    @inline(__always)
    func prefetch(_ key: Fingerprint) {
        let slot = Int(truncatingIfNeeded: key.high) & mask
        tally_prefetch_for_write(slots.base + slot)
        // A probe reads a run of slots, a few on average, and a 64-byte line holds four: the
        // run often spills into the next line, which would then be loaded only on demand.
        tally_prefetch_for_write(slots.base + ((slot + 3) & mask))
    }

    /// Maps one of `parts` pieces of the table's memory now (see ``SlotTable/prefault(part:of:)``).
    func prefault(part: Int, of parts: Int) { slots.prefault(part: part, of: parts) }

    func contains(_ key: Fingerprint) -> Bool {
        let tag = UInt32(truncatingIfNeeded: key.low)
        var slot = Int(truncatingIfNeeded: key.high) & mask
        while slots.base[slot].stamp != 0 {
            if slots.base[slot].high == key.high && slots.base[slot].tag == tag { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// Stores a key at the empty slot a probe found (no insert or resize in between).
    @inline(__always)
    mutating func insert(_ key: Fingerprint, at probe: Probe, timestamp: Instant) {
        guard !probe.found else { return }
        let stamp = DedupStore.stamp(timestamp)
        slots.base[probe.slot] = Slot(high: key.high, tag: UInt32(truncatingIfNeeded: key.low), stamp: stamp)
        oldestStamp = Swift.min(oldestStamp, stamp)
        count += 1
    }

    /// Records an accepted key; returns false when it was already there.
    @discardableResult
    mutating func insert(_ key: Fingerprint, timestamp: Instant) -> Bool {
        let found = probe(key)
        insert(key, at: found, timestamp: timestamp)
        return !found.found
    }

    /// Forgets keys whose timestamp is before `horizon` (clock - maxAge), now and then.
    mutating func forget(before horizon: Instant, clock: Instant) {
        guard clock.millisecondsSinceEpoch >= nextSweep else { return }
        nextSweep = clock.millisecondsSinceEpoch.addingSaturating(sweepInterval)
        // A stamp is the floor of the timestamp in seconds, so a key is surely older
        // than the horizon only when its whole second ends at or before it.
        let limit = DedupStore.stamp(horizon)
        // The oldest stamp is exact (kept on every insert and rebuild), so this is the whole test.
        guard oldestStamp < limit else { return }
        // Rebuilt at a size for the keys it keeps, not at the size it had: a table sized for a whole
        // run, or for a burst long gone, would cost a pass over all of it at every sweep, however
        // little is left to forget. Sized so, a sweep's pass is over at most eight times the keys
        // kept and those inserted since the last sweep; a key lives through about nine sweeps, so
        // over a run the sweeps cost a few passes per key, in proportion to the keys forgotten.
        var kept = 0
        for entry in UnsafeBufferPointer(start: slots.base, count: slots.count) where entry.stamp >= limit { kept += 1 }
        let fitting = DedupStore.slotCount(forCapacity: kept * 2)
        resize(to: slots.count >= fitting * 4 ? fitting : slots.count, keeping: { $0 >= limit })
    }

    /// The slots a table sized for `capacity` keys has: a power of two, at least 16.
    static func slotCount(forCapacity capacity: Int) -> Int {
        var size = 16
        while size < capacity { size <<= 1 }
        return size
    }

    /// Rebuilds the table at `size` slots with the entries whose stamp passes `keep`.
    private mutating func resize(to size: Int, keeping keep: (UInt32) -> Bool = { _ in true }) {
        let old = slots
        let newSize = DedupStore.slotCount(forCapacity: size)
        slots = SlotTable(count: newSize)
        mask = newSize - 1
        count = 0
        oldestStamp = .max
        for entry in UnsafeBufferPointer(start: old.base, count: old.count) where entry.stamp != 0 && keep(entry.stamp)
        {
            oldestStamp = Swift.min(oldestStamp, entry.stamp)
            // The slot comes from the high word, which is stored, so it can be found again here.
            var target = Int(truncatingIfNeeded: entry.high) & mask
            while slots.base[target].stamp != 0 { target = (target + 1) & mask }
            slots.base[target] = entry
            count += 1
        }
    }
}
