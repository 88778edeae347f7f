import Testing

@testable import TallyPipeline

@Suite("Id lookup table")
struct StringIndexTests {
    @Test("every key added is found with its number, and unknown keys are not")
    func lookups() {
        var index = StringIndex<Int32>()
        // 100,000 keys: the table grows from 16 slots through 13 doublings.
        for number in 0..<100_000 { index.set("cust-\(number)", Int32(number)) }
        #expect(index.count == 100_000)
        for number in stride(from: 0, to: 100_000, by: 7) { #expect(index["cust-\(number)"] == Int32(number)) }
        #expect(index["cust-100000"] == nil)
        #expect(index[""] == nil)
        // Replacing a key's number keeps one entry.
        index.set("cust-5", 42)
        #expect(index["cust-5"] == 42 && index.count == 100_000)
        // Keys of every length up to 40 bytes, across the one-word, two-word and tail paths.
        var lengths = StringIndex<Int32>()
        for length in 0...40 { lengths.set(String(repeating: "x", count: length), Int32(length)) }
        for length in 0...40 { #expect(lengths[String(repeating: "x", count: length)] == Int32(length)) }
    }

    @Test("prefetching a key, there or not, changes nothing")
    func prefetchIsOnlyAHint() {
        var index = StringIndex<Int32>(capacity: 4)
        index.set("acme", 1)
        for key in ["acme", "globex", ""] { index.prefetch(key) }
        #expect(index.count == 1 && index.slotCount == 16)  // 4 keys at most half full: 16, the least
        #expect(index["acme"] == 1 && index["globex"] == nil)
        StringIndex<Int32>().prefetch("anything")  // an empty table has slots too: 16
    }

    @Test("sized for its keys up front, the table holds them without growing")
    func capacity() {
        // 1,000 keys at most half full need 2,000 slots: the next power of two is 2,048.
        var index = StringIndex<Int32>(capacity: 1_000)
        #expect(index.slotCount == 2_048)
        for number in 0..<1_000 { index.set("cust-\(number)", Int32(number)) }
        #expect(index.slotCount == 2_048)
        #expect((0..<1_000).allSatisfy { index["cust-\($0)"] == Int32($0) })
        // Half full at 1,024 keys; the 1,025th doubles it, as in any table.
        for number in 1_000..<1_024 { index.set("cust-\(number)", Int32(number)) }
        #expect(index.slotCount == 2_048)
        index.set("cust-1024", 1_024)
        #expect(index.slotCount == 4_096 && index.count == 1_025)
        #expect(StringIndex<Int32>(capacity: 0).slotCount == 16)
        // Reserving room for 3,000 keys in all rehashes once into 8,192 slots (6,000 rounded up)
        // and keeps every key; reserving less than it has changes nothing.
        index.reserveCapacity(3_000)
        #expect(index.slotCount == 8_192 && index.count == 1_025)
        #expect((0...1_024).allSatisfy { index["cust-\($0)"] == Int32($0) })
        index.reserveCapacity(10)
        #expect(index.slotCount == 8_192)
    }

    @Test("ids that differ only in their last characters spread over the low bits")
    func spread() {
        // "cust-0" ... "cust-999" share their first five bytes. Thrown at random into 1,024
        // buckets, 1,000 keys fill 1,024 × (1 − (1 − 1/1,024)^1,000) ≈ 638 distinct buckets;
        // a hash whose low bits ignored the last bytes would fill a handful.
        var buckets = Set<UInt64>()
        for number in 0..<1_000 {
            var id = "cust-\(number)"
            buckets.insert(id.withUTF8 { StringIndex<Int32>.hash(UnsafeRawBufferPointer($0)) } & 1_023)
        }
        #expect(buckets.count > 550)
    }
}
