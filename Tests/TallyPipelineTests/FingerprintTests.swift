import Testing

@testable import TallyPipeline

@Suite("Idempotency-key fingerprint")
struct FingerprintTests {
    func murmur(_ text: String, seed: UInt32) -> Fingerprint {
        var text = text
        return text.withUTF8 { Fingerprint.murmur3(UnsafeRawBufferPointer($0), seed: seed) }
    }

    @Test("MurmurHash3 x64-128 matches the reference implementation")
    func vectors() {
        // Values printed by the reference C implementation (Python's mmh3.hash128, unsigned;
        // h1 is the low 64 bits there, our `high`).
        #expect(murmur("", seed: 0) == Fingerprint(high: 0, low: 0))
        #expect(murmur("hello", seed: 0) == Fingerprint(high: 0xcbd8_a7b3_41bd_9b02, low: 0x5b1e_906a_48ae_1d19))
        #expect(
            murmur("The quick brown fox jumps over the lazy dog", seed: 0)
                == Fingerprint(high: 0xe34b_bc7b_bc07_1b6c, low: 0x7a43_3ca9_c49a_9347))
        #expect(
            murmur("evt-000000000001", seed: 7) == Fingerprint(high: 0x224a_3257_f7f6_b0fa, low: 0x19bd_a722_6521_7025))
        #expect(Fingerprint(tenant: 7, id: "evt-000000000001") == murmur("evt-000000000001", seed: 7))
    }

    /// The reference's tail, byte by byte, as MurmurHash3_x64_128's C source reads it.
    static func referenceTail(_ bytes: [UInt8]) -> (k1: UInt64, k2: UInt64) {
        let tail = bytes.count / 16 * 16
        let rest = bytes.count & 15
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        if rest > 8 { for i in stride(from: rest - 1, through: 8, by: -1) { k2 = (k2 << 8) | UInt64(bytes[tail + i]) } }
        if rest > 0 {
            for i in stride(from: Swift.min(rest, 8) - 1, through: 0, by: -1) {
                k1 = (k1 << 8) | UInt64(bytes[tail + i])
            }
        }
        return (k1, k2)
    }

    @Test("the tail's whole-word loads read what the reference's byte loop reads, at every length")
    func tailWords() {
        // Bytes 1, 2, 3...: a 3-byte tail [1, 2, 3] is the little-endian word 0x030201.
        #expect(FingerprintTests.referenceTail([1, 2, 3]).k1 == 0x03_0201)
        for length in 0..<48 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let expected = FingerprintTests.referenceTail(bytes)
            let tail = length / 16 * 16
            let rest = length & 15
            bytes.withUnsafeBytes { buffer in
                let k1 = rest > 0 ? Fingerprint.littleEndianWord(buffer, from: tail, count: Swift.min(rest, 8)) : 0
                let k2 = rest > 8 ? Fingerprint.littleEndianWord(buffer, from: tail + 8, count: rest - 8) : 0
                #expect(k1 == expected.k1 && k2 == expected.k2, "length \(length)")
            }
        }
    }
}
