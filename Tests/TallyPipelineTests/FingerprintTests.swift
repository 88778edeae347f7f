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
        #expect(murmur("The quick brown fox jumps over the lazy dog", seed: 0) == Fingerprint(high: 0xe34b_bc7b_bc07_1b6c, low: 0x7a43_3ca9_c49a_9347))
        #expect(murmur("evt-000000000001", seed: 7) == Fingerprint(high: 0x224a_3257_f7f6_b0fa, low: 0x19bd_a722_6521_7025))
        #expect(Fingerprint(tenant: 7, id: "evt-000000000001") == murmur("evt-000000000001", seed: 7))
    }
}
