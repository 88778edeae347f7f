/// A 128-bit fingerprint of an event's idempotency key, MurmurHash3 x64-128.
///
/// The dedup store keeps 96 of its bits per event instead of the id itself
/// (see `DedupStore`'s source for the collision odds). MurmurHash3 is written out here
/// (Austin Appleby's public-domain reference) so that it never changes under
/// us, unlike `Hasher`, which is seeded per process.
public struct Fingerprint: Sendable, Hashable {
    /// The first 64 bits of the hash.
    public let high: UInt64
    /// The last 64 bits of the hash.
    public let low: UInt64

    /// Creates a fingerprint from its two halves, as a store that persisted one reads it back.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The fingerprint of `id` within a tenant; the tenant's number seeds the hash.
    @inlinable
    public init(tenant: UInt32, id: String) {
        var id = id
        self = id.withUTF8 { Fingerprint.murmur3(UnsafeRawBufferPointer($0), seed: tenant) }
    }

    /// MurmurHash3_x64_128 of `bytes`: `high` is the reference's h1, `low` its h2.
    @inlinable
    public static func murmur3(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> Fingerprint {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5
        let c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1 = UInt64(seed)
        var h2 = UInt64(seed)
        let length = bytes.count
        let blocks = length / 16
        for block in 0..<blocks {
            var k1 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self))
            var k2 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self))
            k1 &*= c1
            k1 = rotl(k1, 31)
            k1 &*= c2
            h1 ^= k1
            h1 = rotl(h1, 27)
            h1 &+= h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2
            k2 = rotl(k2, 33)
            k2 &*= c1
            h2 ^= k2
            h2 = rotl(h2, 31)
            h2 &+= h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        let rest = length & 15
        // The reference reads the tail byte by byte, little-endian; whole loads give the same words.
        if rest > 8 {
            k2 = littleEndianWord(bytes, from: tail + 8, count: rest - 8)
            k2 &*= c2
            k2 = rotl(k2, 33)
            k2 &*= c1
            h2 ^= k2
        }
        if rest > 0 {
            k1 = littleEndianWord(bytes, from: tail, count: Swift.min(rest, 8))
            k1 &*= c1
            k1 = rotl(k1, 31)
            k1 &*= c2
            h1 ^= k1
        }
        h1 ^= UInt64(length)
        h2 ^= UInt64(length)
        h1 &+= h2
        h2 &+= h1
        h1 = fmix(h1)
        h2 = fmix(h2)
        h1 &+= h2
        h2 &+= h1
        return Fingerprint(high: h1, low: h2)
    }

    /// `count` (at most 8) bytes from `offset` as a little-endian number, in at most three loads.
    @inlinable
    static func littleEndianWord(_ bytes: UnsafeRawBufferPointer, from offset: Int, count: Int) -> UInt64 {
        if count == 8 { return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        var word: UInt64 = 0
        var filled = 0
        if count & 4 != 0 {
            word = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            filled = 4
        }
        if count & 2 != 0 {
            word |=
                UInt64(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + filled, as: UInt16.self)))
                << UInt64(filled * 8)
            filled += 2
        }
        if count & 1 != 0 {
            word |= UInt64(bytes[offset + filled]) << UInt64(filled * 8)
        }
        return word
    }

    @inlinable
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inlinable
    static func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
