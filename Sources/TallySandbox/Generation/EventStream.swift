import Foundation
import TallyPipeline

/// A scenario's whole event stream in ingest-time order, generated on the fly.
///
/// The stream is a merge of independent sources, each already in ingest-time
/// order: one generator per unit (traffic x period), the scenario's explicit
/// events, and re-sends waiting for their later arrival. Ties are broken by a
/// fixed key (time, source, unit, sequence), so the stream is the same on every
/// run. With several threads, workers generate chunks of each unit ahead of
/// the merge; since a unit's events depend only on its own PRNG streams, the
/// result is byte-identical for any thread count. Memory holds a few chunks
/// per unit and the pending re-sends, never the whole stream.
struct EventStream {
    let scenario: Scenario
    let threads: Int
    static let chunkSize = 8192

    func forEach(_ body: (GeneratedItem) -> Void) throws(RunError) {
        let plan = StreamPlan(scenario: scenario)
        var pickers: [CustomerPicker] = []
        for traffic in scenario.traffic { pickers.append(try CustomerPicker(traffic: traffic)) }
        var generators: [UnitGenerator] = []
        for unit in plan.units {
            generators.append(try UnitGenerator(scenario: scenario, unit: unit, faults: plan.alterations, customerPicker: pickers[unit.traffic],
                                                quantity: QuantitySampler(distribution: scenario.traffic[unit.traffic].quantity)))
        }
        let chunks = ChunkSource(generators: generators, workers: max(0, threads - 1))
        defer { chunks.stop() }

        // The heap orders small keys only; items stay where they are (unit buffers, the
        // explicit list, the re-send slots), because moving ~200-byte events through a heap
        // costs more than generating them.
        var heads = MinHeap<OrderKey>()
        var buffers = Array(repeating: ChunkSource.Chunk(), count: generators.count)
        var positions = Array(repeating: 0, count: generators.count)
        var resendCursors = Array(repeating: 0, count: generators.count)
        func advance(_ unit: Int) {
            if positions[unit] >= buffers[unit].items.count {
                buffers[unit] = chunks.next(unit)
                positions[unit] = 0
                resendCursors[unit] = 0
            }
            guard positions[unit] < buffers[unit].items.count else { return }
            heads.push(OrderKey(time: buffers[unit].items[positions[unit]].receivedAt, source: 2, index: unit, sequence: positions[unit]))
        }
        for unit in generators.indices { advance(unit) }

        // Explicit events keep their declaration order among equal times.
        var explicit: [GeneratedItem] = []
        for (index, event) in scenario.events.enumerated() {
            let receivedAt = event.receivedAt ?? event.event.timestamp + scenario.ingest.delay
            explicit.append(GeneratedItem(payload: .event(event.event), receivedAt: receivedAt, eventID: event.event.id))
            heads.push(OrderKey(time: receivedAt, source: 0, index: index, sequence: 0))
        }
        var resends: [GeneratedItem?] = []
        var freeSlots: [Int] = []
        var resendSequence = 0
        while let head = heads.pop() {
            switch head.source {
            case 0:
                body(explicit[head.index])
            case 1:
                if let item = resends[head.index] { body(item) }
                resends[head.index] = nil
                freeSlots.append(head.index)
            default:
                let unit = head.index
                body(buffers[unit].items[positions[unit]])
                let cursor = resendCursors[unit]
                if cursor < buffers[unit].resends.count, buffers[unit].resends[cursor].index == positions[unit] {
                    let resend = buffers[unit].resends[cursor].item
                    resendCursors[unit] += 1
                    let slot = freeSlots.popLast() ?? resends.count
                    if slot == resends.count { resends.append(resend) } else { resends[slot] = resend }
                    // The sequence number, not the slot, breaks ties: slots are reused.
                    heads.push(OrderKey(time: resend.receivedAt, source: 1, index: slot, sequence: resendSequence))
                    resendSequence += 1
                }
                positions[unit] += 1
                advance(unit)
            }
        }
    }

    struct OrderKey: Comparable {
        var time: Instant
        /// 0 explicit events, 1 re-sends, 2 generated units.
        var source: Int
        var index: Int
        var sequence: Int

        /// Re-sends compare by their sequence before their slot, so reusing a slot never reorders them.
        static func < (a: OrderKey, b: OrderKey) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.source != b.source { return a.source < b.source }
            if a.source == 1 { return a.sequence < b.sequence }
            if a.index != b.index { return a.index < b.index }
            return a.sequence < b.sequence
        }
    }

}

/// A binary min-heap; its pop order depends only on the keys, which are all distinct here.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// Hands out each unit's events in chunks, generating them ahead on worker threads when it has any.
final class ChunkSource: @unchecked Sendable {
    /// A run of one unit's events. Re-sends are rare, so they sit beside the items
    /// (by position) rather than as an optional in every element, halving what is copied.
    struct Chunk: Sendable {
        var items: [GeneratedItem] = []
        var resends: [(index: Int, item: GeneratedItem)] = []
    }

    private var generators: [UnitGenerator]
    private var ready: [[Chunk]]
    private var busy: [Bool]
    private var finished: [Bool]
    private var stopped = false
    private let condition = NSCondition()
    private var threads: [Thread] = []
    /// Chunks kept ready per unit: enough to keep the merge fed, little memory.
    private let depth = 2

    init(generators: [UnitGenerator], workers: Int) {
        self.generators = generators
        ready = Array(repeating: [], count: generators.count)
        busy = Array(repeating: false, count: generators.count)
        finished = Array(repeating: false, count: generators.count)
        for _ in 0..<workers {
            let thread = Thread { [weak self] in self?.work() }
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// The unit's next chunk; empty when the unit is done.
    func next(_ unit: Int) -> Chunk {
        condition.lock()
        defer { condition.unlock() }
        if threads.isEmpty {
            return ChunkSource.generate(&generators[unit])
        }
        while ready[unit].isEmpty && !(finished[unit] && !busy[unit]) {
            condition.wait()
        }
        guard !ready[unit].isEmpty else { return Chunk() }
        let chunk = ready[unit].removeFirst()
        condition.broadcast()
        return chunk
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while !stopped {
            // The unit that is furthest from full, lowest index first: a fixed choice, though
            // which worker makes a chunk never changes the chunk.
            guard let unit = ready.indices.filter({ !busy[$0] && !finished[$0] && ready[$0].count < depth })
                .min(by: { ready[$0].count < ready[$1].count || (ready[$0].count == ready[$1].count && $0 < $1) }) else {
                condition.wait()
                continue
            }
            busy[unit] = true
            var generator = generators[unit]
            condition.unlock()
            let chunk = ChunkSource.generate(&generator)
            condition.lock()
            generators[unit] = generator
            busy[unit] = false
            if chunk.items.isEmpty { finished[unit] = true } else { ready[unit].append(chunk) }
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Workers take a unit's generator out under the lock and put it back under the lock;
    /// `busy` keeps any other thread from taking the same unit meanwhile.
    private static func generate(_ generator: inout UnitGenerator) -> Chunk {
        var chunk = Chunk()
        chunk.items.reserveCapacity(EventStream.chunkSize)
        while chunk.items.count < EventStream.chunkSize, let next = generator.next() {
            if let resend = next.resend { chunk.resends.append((chunk.items.count, resend)) }
            chunk.items.append(next.item)
        }
        return chunk
    }
}
