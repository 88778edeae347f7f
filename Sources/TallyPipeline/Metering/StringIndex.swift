internal import CIntrinsics

/// A map from short strings (customer ids, metric keys, tenants) to small values, for the per-event path.
///
/// Three such lookups happen per event. A `Dictionary` hashes each key with
/// seeded SipHash; this table hashes the UTF-8 bytes a word at a time, which is
/// several times cheaper for ids of a few bytes and, unlike `Hasher`, gives
/// the same layout in every process. Entries are only added, never removed.
///
/// Each slot holds its key and its value side by side, and the value is the record
/// the caller needs (a customer's number and subscription, not an index into a second
/// table): with a million customers, a lookup is then one cache miss, not three.
struct StringIndex<Value: Sendable>: Sendable {
    /// nil for an empty slot.
    private var slots: [(key: String, value: Value)?]
    private var mask: Int
    private(set) var count = 0
    /// Slots in the table, filled or not.
    var slotCount: Int { slots.count }
    /// The table's bytes, filled slots or not.
    var tableBytes: Int { slots.count * MemoryLayout<(key: String, value: Value)?>.stride }

    /// - Parameter capacity: how many keys it will hold, if known: sized for them up front,
    ///   it never has to grow (a million customers would otherwise grow it 17 times).
    init(capacity: Int = 0) {
        let size = StringIndex.slotCount(holding: capacity)
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// Slots for `capacity` keys at most half full, as `set(_:_:)` keeps the table: a power of two.
    private static func slotCount(holding capacity: Int) -> Int {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        return size
    }

    /// Makes room for `capacity` keys in all, rehashing at most once.
    mutating func reserveCapacity(_ capacity: Int) {
        let size = StringIndex.slotCount(holding: capacity)
        if size > slots.count { rehash(into: size) }
    }

    @inline(__always)
    static func hash(_ key: String) -> Int {
        // Over the bytes in place: walking `utf8` checks the string's form at every byte.
        var key = key
        return key.withUTF8 { Int(truncatingIfNeeded: hash(UnsafeRawBufferPointer($0))) }
    }

    /// Eight bytes at a time, each word folded in with one full-width multiply.
    ///
    /// A customer id or metric key is one or two words, so this costs a few
    /// multiplies where a byte-at-a-time hash (FNV-1a) costs one per byte, each
    /// waiting for the last. Folding the 128-bit product's halves together (as
    /// wyhash does) carries every input bit into the low bits the table uses, so
    /// ids that differ only in their last character spread over the table.
    /// Only the table's layout depends on it, never an output.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        @inline(__always) func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let product = a.multipliedFullWidth(by: b)
            return product.high ^ product.low
        }
        var hash = 0x9e37_79b9_7f4a_7c15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = fold(
                hash ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                0xbf58_476d_1ce4_e5b9)
            offset += 8
        }
        if offset < bytes.count {
            hash = fold(
                hash ^ Fingerprint.littleEndianWord(bytes, from: offset, count: bytes.count - offset),
                0x94d0_49bb_1331_11eb)
        }
        return fold(hash, 0xe703_7ed1_a0b4_28db)
    }

    subscript(key: String) -> Value? {
        var slot = StringIndex.hash(key) & mask
        while let stored = slots[slot] {
            if stored.key == key { return stored.value }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Starts loading the slot a lookup of `key` reads first, or the slot an insertion will write.
    ///
    /// With `forInsert`, the line is asked for as a write needs it. A hint only: it
    /// never changes the table, whether the key is there or not.
    func prefetch(_ key: String, forInsert: Bool = false) {
        let slot = StringIndex.hash(key) & mask
        slots.withUnsafeBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            if forInsert { tally_prefetch_for_write(base + slot) } else { tally_prefetch(base + slot) }
        }
    }

    /// Adds or replaces a key's value.
    mutating func set(_ key: String, _ value: Value) {
        if (count + 1) * 2 > slots.count { grow() }
        var slot = StringIndex.hash(key) & mask
        while let stored = slots[slot] {
            if stored.key == key {
                slots[slot] = (key, value)
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = (key, value)
        count += 1
    }

    private mutating func grow() { rehash(into: slots.count * 2) }

    private mutating func rehash(into size: Int) {
        let old = slots
        slots = Array(repeating: nil, count: size)
        mask = size - 1
        count = 0
        for case let (key, value)? in old { set(key, value) }
    }
}
