import TallyPipeline
import TallyRandom
import Testing

@testable import TallySandbox

/// The compact form generated events travel in, and the merge heap that orders them.
@Suite("Stream items and the merge heap")
struct StreamItemTests {
    static let twoKeys = [(key: "plan", values: ["a", "b", "c"]), (key: "region", values: ["eu", "us"])]

    @Test("a property combination's number is mixed radix, first key most significant")
    func combinationNumbers() throws {
        let combinations = try #require(PropertyCombinations(StreamItemTests.twoKeys))
        // plan index 2 ("c"), region index 1 ("us"): 2 x 2 + 1 = 5.
        #expect(combinations.properties(5) == ["plan": "c", "region": "us"])
        // plan index 0, region index 0: 0; plan 1, region 0: 1 x 2 + 0 = 2.
        #expect(combinations.properties(0) == ["plan": "a", "region": "eu"])
        #expect(combinations.properties(2) == ["plan": "b", "region": "eu"])
        #expect(try #require(PropertyCombinations([])).properties(0).isEmpty)
        // A draw takes one value index per key, in key order, from the same stream.
        var random = PRNG(seed: 5, stream: 1)
        var replay = random
        let plan = replay.nextInt(below: 3)
        let region = replay.nextInt(below: 2)
        #expect(combinations.draw(using: &random) == plan * 2 + region)
        #expect(random.next() == replay.next())
    }

    @Test("past the prebuilt limit, combinations are built on the fly, to the same properties")
    func builtOnTheFly() throws {
        let values = (0..<20).map { "v\($0)" }
        // 20 x 20 x 20 = 8,000 combinations > 4,096: none prebuilt.
        let combinations = try #require(
            PropertyCombinations([(key: "a", values: values), (key: "b", values: values), (key: "c", values: values)]))
        // digits 3, 7, 19: 3 x 400 + 7 x 20 + 19 = 1,200 + 140 + 19 = 1,359.
        #expect(combinations.properties(1_359) == ["a": "v3", "b": "v7", "c": "v19"])
        // The last combination, 7,999 = 19 x 400 + 19 x 20 + 19.
        #expect(combinations.properties(7_999) == ["a": "v19", "b": "v19", "c": "v19"])
    }

    @Test("combinations that do not fit in 64 bits are refused")
    func tooManyCombinations() {
        let binary = ["0", "1"]
        // 2^63 combinations fit in a UInt64; 2^64 do not.
        #expect(PropertyCombinations((0..<63).map { (key: "p\($0)", values: binary) }) != nil)
        #expect(PropertyCombinations((0..<64).map { (key: "p\($0)", values: binary) }) == nil)
    }

    @Test("customer ids are prefetched only for lists past 64K ids, and prefetching changes no event")
    func prefetchedCustomerIDs() throws {
        let none = try #require(PropertyCombinations([]))
        func unit(_ customers: Int) -> StreamNames.Unit {
            StreamNames.Unit(
                ids: EventIDs(prefix: "e0.0."), metric: "api_calls", source: "kong",
                customers: (0..<customers).map { "cust-\($0)" }, properties: none)
        }
        // 65,535 ids of 16 bytes stay under 1 MB; 65,536 reach it.
        #expect(!StreamNames(tenant: "t", units: [unit(65_535)]).prefetchesCustomerIDs)
        let names = StreamNames(tenant: "t", units: [unit(2), unit(65_536)])
        #expect(names.prefetchesCustomerIDs)
        var batch = StreamBatch(names: names)
        let at = Instant(millisecondsSinceEpoch: 1_000)
        batch.items = [
            StreamItem(
                quantity: .one, receivedAt: at, timestamp: at, sequence: 7, customer: 65_535, unit: 1, properties: 0),
            .full(at: 0, receivedAt: at),
            StreamItem(quantity: .one, receivedAt: at, timestamp: at, sequence: 8, customer: 1, unit: 0, properties: 0),
        ]
        // Every index, a whole item's stand-in and past the end included.
        for index in 0..<5 { batch.prefetchEvent(index) }
        #expect(batch.event(0).customer == "cust-65535" && batch.event(0).id == "e0.0.7")
        #expect(batch.event(2).customer == "cust-1")
        batch.full = [GeneratedItem(payload: .event(batch.event(2)), receivedAt: at, eventID: "e0.0.8")]
        batch.makeAll()
        #expect(batch.isMade)
        #expect(batch.item(0).eventID == "e0.0.7")
    }

    @Test("a stream item becomes the event its unit's names describe")
    func materialize() throws {
        let names = StreamNames(
            tenant: "acme",
            units: [
                StreamNames.Unit(
                    ids: EventIDs(prefix: "e0.0."), metric: "api_calls", source: "kong", customers: ["c1", "c2"],
                    properties: try #require(PropertyCombinations([]))),
                StreamNames.Unit(
                    ids: EventIDs(prefix: "e1.0."), metric: "seats", source: "sdk", customers: ["c1", "c2", "c3"],
                    properties: try #require(PropertyCombinations(StreamItemTests.twoKeys))),
            ])
        let quantity = try #require(ExactDecimal("2.5"))
        let item = StreamItem(
            quantity: quantity, receivedAt: Instant(millisecondsSinceEpoch: 2_000),
            timestamp: Instant(millisecondsSinceEpoch: 1_000), sequence: 42, customer: 2, unit: 1, properties: 3)
        var batch = StreamBatch(names: names)
        batch.items = [item]
        let made = batch.item(0)
        // Unit 1's prefix and sequence 42; customer index 2 of [c1, c2, c3]; combination 3 = plan 1 ("b") x 2 + region 1 ("us").
        let expected = Event(
            id: "e1.0.42", tenant: "acme", customer: "c3", metric: "seats", quantity: quantity,
            timestamp: Instant(millisecondsSinceEpoch: 1_000), source: "sdk", properties: ["plan": "b", "region": "us"])
        guard case .event(let event) = made.payload else {
            Issue.record("expected an event")
            return
        }
        #expect(event == expected)
        #expect(made.receivedAt == Instant(millisecondsSinceEpoch: 2_000))
        #expect(made.eventID == "e1.0.42")
        // Made ahead (as the producer thread does), the same event.
        batch.makeAll()
        #expect(batch.isMade)
        guard case .event(let madeAhead) = batch.item(0).payload else {
            Issue.record("expected an event")
            return
        }
        #expect(madeAhead == expected)

        // A whole item is handed back as it is.
        let whole = GeneratedItem(
            payload: .malformed("{}"), receivedAt: Instant(millisecondsSinceEpoch: 5), eventID: "x")
        let other = GeneratedItem(
            payload: .malformed("[]"), receivedAt: Instant(millisecondsSinceEpoch: 4), eventID: "y")
        var wholes = StreamBatch(names: names)
        wholes.full = [other, whole]
        wholes.items = [.full(at: 1, receivedAt: whole.receivedAt)]
        guard case .malformed(let raw) = wholes.item(0).payload else {
            Issue.record("expected raw input")
            return
        }
        #expect(raw == "{}")
    }

    @Test("a decoded event is moved out once, in order, beside generated and whole items; made ahead alike")
    func decodedEvents() throws {
        let names = StreamNames(
            tenant: "t",
            units: [
                StreamNames.Unit(
                    ids: EventIDs(prefix: "e0.0."), metric: "api_calls", source: "kong", customers: ["c1"],
                    properties: try #require(PropertyCombinations([])))
            ])
        let at = Instant(millisecondsSinceEpoch: 3_000)
        func filled() -> StreamBatch {
            var batch = StreamBatch(names: names)
            batch.append(decoded: EventBufferTests.event("file-1"), receivedAt: at)
            batch.items.append(
                StreamItem(
                    quantity: .one, receivedAt: at, timestamp: at, sequence: 9, customer: 0, unit: 0, properties: 0))
            batch.append(whole: GeneratedItem(payload: .malformed("{"), receivedAt: at, eventID: "m"))
            batch.append(decoded: EventBufferTests.event("file-2"), receivedAt: at)
            return batch
        }
        // Made by the consumer, one at a time in item order, as the one-thread metering loop does.
        let batch = filled()
        #expect(batch.items.map(\.isGenerated) == [false, true, false, false])
        #expect((0..<4).map { batch.event($0).id } == ["file-1", "e0.0.9", "", "file-2"])
        // Made ahead by the thread that filled it, then read as items.
        var ahead = filled()
        ahead.makeAll()
        #expect(ahead.isMade)
        #expect((0..<4).map { ahead.item($0).eventID } == ["file-1", "e0.0.9", "m", "file-2"])
        #expect(ahead.item(3).receivedAt == at)
        // Emptied for reuse, it takes decoded events from the first position again.
        ahead.removeAll()
        ahead.append(decoded: EventBufferTests.event("file-3"), receivedAt: at)
        #expect(ahead.items.map(\.sequence) == [0])
        #expect(ahead.item(0).eventID == "file-3")
    }

    @Test("the heap pops in order, with replaceTop standing for a pop then a push")
    func heapOrder() {
        var heap = MinHeap<Int>()
        var reference: [Int] = []
        // A fixed linear congruential sequence: values 0..<1000, repeats allowed.
        var state = 12_345
        func next() -> Int {
            state = (state &* 1_103_515_245 &+ 12_345) & 0x7FFF_FFFF
            return state % 1_000
        }
        for _ in 0..<500 {
            let value = next()
            heap.push(value)
            reference.append(value)
        }
        reference.sort()
        for step in 0..<1_000 {
            let value = next()
            #expect(heap.top == reference.first)
            if step % 3 == 0 {
                #expect(heap.pop() == reference.removeFirst())
            } else {
                heap.replaceTop(value)
                reference.removeFirst()
                reference.insert(value, at: reference.firstIndex { $0 > value } ?? reference.endIndex)
            }
        }
        var popped: [Int] = []
        while let value = heap.pop() { popped.append(value) }
        #expect(popped == reference)
        #expect(heap.top == nil)
    }
}

@Suite("Event buffer")
struct EventBufferTests {
    static func event(_ id: String) -> Event {
        Event(
            id: id, tenant: "t", customer: "c", metric: "m", quantity: .one,
            timestamp: Instant(millisecondsSinceEpoch: 0), source: "s")
    }

    @Test("events come out first in, first out, each once; it grows past its capacity")
    func fifo() {
        let buffer = EventBuffer(capacity: 2)
        // 5 appends into 2 slots: it grows to 4, then to 8.
        for number in 0..<5 { buffer.append(EventBufferTests.event("e\(number)")) }
        #expect(buffer.count == 5)
        #expect(buffer.withEvent(at: 3) { $0.pointee.id } == "e3")
        #expect(buffer.withEvent(at: 5) { $0.pointee.id } == nil)
        #expect(buffer.take()?.id == "e0")
        #expect(buffer.take()?.id == "e1")
        // Offsets count from the first event not yet taken.
        #expect(buffer.withEvent(at: 0) { $0.pointee.id } == "e2")
        // Growing after takes keeps the order.
        for number in 5..<9 { buffer.append(EventBufferTests.event("e\(number)")) }
        #expect((0..<7).compactMap { _ in buffer.take()?.id } == ["e2", "e3", "e4", "e5", "e6", "e7", "e8"])
        #expect(buffer.take() == nil && buffer.count == 0)
    }

    @Test("an event is taken by its position only when it is the first waiting, growing or not")
    func positions() {
        let buffer = EventBuffer(capacity: 2)
        #expect(buffer.endPosition == 0)
        buffer.append(EventBufferTests.event("e0"))
        buffer.append(EventBufferTests.event("e1"))
        #expect(buffer.take(at: 1) == nil)
        #expect(buffer.take(at: 0)?.id == "e0")
        // Growing moves e1 to the front of a larger buffer; it keeps position 1, e2 takes 2.
        #expect(buffer.endPosition == 2)
        buffer.append(EventBufferTests.event("e2"))
        #expect(buffer.take(at: 0) == nil)
        #expect(buffer.take(at: 1)?.id == "e1")
        #expect(buffer.take(at: 2)?.id == "e2")
        #expect(buffer.take(at: 3) == nil)
        buffer.removeAll()
        #expect(buffer.endPosition == 0)
    }

    @Test("removeAll drops what was not taken and starts over")
    func removeAll() {
        let buffer = EventBuffer(capacity: 4)
        for number in 0..<3 { buffer.append(EventBufferTests.event("e\(number)")) }
        _ = buffer.take()
        buffer.removeAll()
        #expect(buffer.count == 0 && buffer.take() == nil)
        buffer.append(EventBufferTests.event("next"))
        #expect(buffer.take()?.id == "next")
    }

    @Test("events given back stay out of the queue until removeAll destroys them")
    func giveBack() {
        let buffer = EventBuffer(capacity: 4)
        for number in 0..<4 { buffer.append(EventBufferTests.event("e\(number)")) }
        let first = buffer.take()
        let second = buffer.take()
        if let first { buffer.giveBack(first) }
        if let second { buffer.giveBack(second) }
        // Two taken and given back: two still waiting, counted and lent from the first of them.
        #expect(buffer.count == 2)
        #expect(buffer.withEvent(at: 0) { $0.pointee.id } == "e2")
        #expect(buffer.take()?.id == "e2")
        buffer.removeAll()
        #expect(buffer.count == 0 && buffer.take() == nil)
        // The slots are reused from the first.
        for number in 4..<8 { buffer.append(EventBufferTests.event("e\(number)")) }
        #expect((0..<4).compactMap { _ in buffer.take()?.id } == ["e4", "e5", "e6", "e7"])
    }
}

@Suite("Customer draws made ahead")
struct DrawsAheadTests {
    @Test("drawn eight ahead from the same stream, the picks are those of drawing each in turn")
    func sameCustomersInTheSameOrder() throws {
        // 70,000 ranks: past the 65,536 where drawing ahead starts.
        let zipf = try Zipf(n: 70_000, s: Fixed(significand: 11, decimalScale: 1))
        var aheadRandom = PRNG(seed: 3, stream: 2)
        var plainRandom = aheadRandom
        var ahead = try #require(DrawsAhead(zipf, using: &aheadRandom))
        let picked = (0..<1_000).map { _ in ahead.pick(using: &aheadRandom) }
        let plain = (0..<1_000).map { _ in zipf.sample(using: &plainRandom) - 1 }
        #expect(picked == plain)
        // The stream has given 8 draws more: those of the next 8 picks.
        for _ in 0..<8 { _ = zipf.draw(using: &plainRandom) }
        #expect(aheadRandom.next() == plainRandom.next())
        // Smaller tables, and even spreads, draw each in turn.
        var random = PRNG(seed: 3, stream: 2)
        #expect(DrawsAhead(try Zipf(n: 65_535, s: 1), using: &random) == nil)
        #expect(DrawsAhead(nil, using: &random) == nil)
        var fresh = PRNG(seed: 3, stream: 2)
        #expect(random.next() == fresh.next())  // nothing drawn
    }
}
