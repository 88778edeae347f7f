/// A map from short strings (customer ids, metric keys, tenants) to small numbers, for the per-event path.
///
/// Three such lookups happen per event. A `Dictionary` hashes each key with
/// seeded SipHash; this table hashes the UTF-8 bytes with FNV-1a, which is
/// several times cheaper for ids of a few bytes and, unlike `Hasher`, gives
/// the same layout in every process. Entries are only added, never removed.
struct StringIndex: Sendable {
    private var keys: [String?]
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0

    init() {
        keys = Array(repeating: nil, count: 16)
        values = Array(repeating: 0, count: 16)
        mask = 15
    }

    @inline(__always)
    static func hash(_ key: String) -> Int {
        // Over the bytes in place: walking `utf8` checks the string's form at every byte.
        var key = key
        let hash = key.withUTF8 { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            return hash
        }
        // FNV's low bits mix poorly for short keys; fold the high half in.
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    subscript(key: String) -> Int32? {
        var slot = StringIndex.hash(key) & mask
        while let stored = keys[slot] {
            if stored == key { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds or replaces a key's number.
    mutating func set(_ key: String, _ value: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        var slot = StringIndex.hash(key) & mask
        while let stored = keys[slot] {
            if stored == key { values[slot] = value; return }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value
        count += 1
    }

    private mutating func grow() {
        let (oldKeys, oldValues) = (keys, values)
        keys = Array(repeating: nil, count: oldKeys.count * 2)
        values = Array(repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (index, key) in oldKeys.enumerated() { if let key { set(key, oldValues[index]) } }
    }
}
