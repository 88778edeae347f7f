import Foundation
import TallyPipeline
import TallyRandom

/// A scenario's whole event stream in ingest-time order, generated on the fly.
///
/// The stream is a merge of independent sources, each already in ingest-time
/// order: one generator per unit (traffic x period), the scenario's explicit
/// events, and re-sends waiting for their later arrival. Ties are broken by a
/// fixed key (time, source, unit, sequence), so the stream is the same on every
/// run. It is handed out in batches of consecutive items.
///
/// Threads: with one, everything happens on the caller's thread. With two or
/// more, a producer thread generates and merges the stream into batches while
/// the caller consumes the previous ones, and threads beyond two generate
/// chunks of each unit ahead of the merge. Since a unit's events depend only on
/// its own PRNG streams and the merge order only on the keys, the stream is
/// byte-identical for any thread count. Memory holds a few chunks per unit, a
/// few batches and the pending re-sends, never the whole stream.
struct EventStream {
    let scenario: Scenario
    let threads: Int
    /// The scenario's event files, read into the stream; nil to open them privately (their tallies unread).
    var files: EventFileSources? = nil
    /// Where what `delivery:` lost or sent twice is counted; nil when nobody reads it.
    var delivery: DeliveryTally? = nil
    /// With a request path, the meter's lookups, so that a producer thread looks up each event's
    /// customer and metric (see ``StreamBatch/makeAll(directory:)``); nil otherwise.
    var directory: Meter.Directory? = nil
    static let chunkSize = 8192
    static let batchSize = 4096

    func forEach(_ body: (GeneratedItem) -> Void) throws(RunError) {
        try forEachBatch { batch in
            for index in 0..<batch.count { body(batch.item(index)) }
        }
    }

    /// Calls `body` with consecutive runs of the stream, in order, until it ends.
    func forEachBatch(_ body: (StreamBatch) -> Void) throws(RunError) {
        var merge = try Merge(
            scenario: scenario, chunkWorkers: Swift.max(0, threads - 2),
            files: files ?? EventFileSources(scenario: scenario), delivery: delivery)
        guard threads >= 2 else {
            defer { merge.stop() }
            var batch = StreamBatch(names: merge.names)
            while merge.fill(&batch, upTo: EventStream.batchSize) {
                body(batch)
                batch.removeAll()
            }
            return
        }
        let producer = BatchProducer(merge: merge, directory: directory)
        defer { producer.stop() }
        // The producer empties each batch it gets back: destroying the events is its work, not this thread's.
        while let batch = producer.next() {
            body(batch)
            producer.recycle(batch)
        }
    }
}

/// The k-way merge of the stream's sources, resumable a batch at a time.
///
/// A struct, so its state is reached without the dynamic exclusivity checks a
/// class's stored properties cost on every access.
struct Merge {
    let names: StreamNames
    private let chunks: ChunkSource
    // The heap orders small keys only; items stay where they are (unit buffers, the
    // explicit list, the re-send slots) until they are due.
    private var heads = MinHeap<OrderKey>()
    private var buffers: [ChunkSource.Chunk]
    private var positions: [Int]
    private var resendCursors: [Int]
    /// Explicit events keep their declaration order among equal times.
    private var explicit: [GeneratedItem] = []
    private var resends: [StreamItem] = []
    /// By slot, the whole item a re-send of a whole item stands for (a failed flush's retry re-sends every event).
    private var wholeResends: [GeneratedItem?] = []
    private var freeSlots: [Int] = []
    private var resendSequence = 0
    private let files: EventFileSources
    private let delivery: DeliveryTally?

    init(
        scenario: Scenario, chunkWorkers: Int, files: EventFileSources, delivery: DeliveryTally? = nil
    )
        throws(RunError)
    {
        self.files = files
        self.delivery = delivery
        let plan = StreamPlan(scenario: scenario)
        var pickers: [CustomerPicker] = []
        var combinations: [PropertyCombinations] = []
        var zipfTables: [CustomerPicker.ZipfShape: Zipf] = [:]
        for (index, traffic) in scenario.traffic.enumerated() {
            pickers.append(try CustomerPicker(traffic: traffic, tables: &zipfTables))
            guard let combination = PropertyCombinations(traffic.properties) else {
                throw RunError(
                    message:
                        "\(scenario.name): the property values of traffic \(index + 1) combine in more than 2^64 ways; the generator numbers each combination in 64 bits, so use fewer properties or values"
                )
            }
            combinations.append(combination)
        }
        // Each traffic's ids, spelled out once; traffics over the whole catalog share one array.
        var everyCustomer: [String]?
        var customerIDs: [[String]] = []
        for traffic in scenario.traffic {
            guard case .all = traffic.customers else {
                customerIDs.append(traffic.customers.ids)
                continue
            }
            let ids = everyCustomer ?? traffic.customers.ids
            everyCustomer = ids
            customerIDs.append(ids)
        }
        names = StreamNames(
            tenant: scenario.tenant,
            units: plan.units.map { unit in
                let traffic = scenario.traffic[unit.traffic]
                return StreamNames.Unit(
                    ids: EventIDs(prefix: "e\(unit.traffic).\(unit.period)."), metric: traffic.metric,
                    source: traffic.source, customers: customerIDs[unit.traffic],
                    properties: combinations[unit.traffic],
                    gateway: traffic.gateway)
            })
        var generators: [UnitGenerator] = []
        for unit in plan.units {
            generators.append(
                try UnitGenerator(
                    scenario: scenario, unit: unit, names: names.units[unit.index], faults: plan.alterations,
                    customerPicker: pickers[unit.traffic],
                    quantity: QuantitySampler(distribution: scenario.traffic[unit.traffic].quantity)))
        }
        chunks = ChunkSource(generators: generators, workers: chunkWorkers)
        buffers = Array(repeating: ChunkSource.Chunk(), count: generators.count)
        positions = Array(repeating: 0, count: generators.count)
        resendCursors = Array(repeating: 0, count: generators.count)
        for unit in generators.indices {
            if let key = nextKey(unit) { heads.push(key) }
        }
        for (index, event) in scenario.events.enumerated() {
            let receivedAt = event.receivedAt ?? event.event.timestamp + scenario.ingest.delay
            explicit.append(
                GeneratedItem(payload: .event(event.event), receivedAt: receivedAt, eventID: event.event.id))
            heads.push(OrderKey(time: receivedAt, source: .explicit, rank: UInt64(index), index: index))
        }
        try files.open()
        for (index, source) in files.sources.enumerated() {
            // Each file's next record waits in its source for its turn.
            if let receivedAt = source.advance() {
                heads.push(OrderKey(time: receivedAt, source: .file, rank: UInt64(index), index: index))
            }
        }
    }

    func stop() { chunks.stop() }

    /// Appends the stream's next items to `batch` until it holds `limit`; false once the stream is over.
    mutating func fill(_ batch: inout StreamBatch, upTo limit: Int) -> Bool {
        while batch.count < limit, let head = heads.top {
            switch head.source {
            case .explicit:
                _ = heads.pop()
                batch.append(whole: explicit[head.index])
            case .file:
                let index = head.index
                let source = files.sources[index]
                source.emit(into: &batch)
                if let next = source.advance() {
                    heads.replaceTop(OrderKey(time: next, source: .file, rank: UInt64(index), index: index))
                } else {
                    _ = heads.pop()
                }
            case .resend:
                _ = heads.pop()
                batch.resendPositions.append(batch.items.count)
                if resends[head.index].unit == StreamItem.fullItem, let whole = wholeResends[head.index] {
                    batch.append(whole: whole)
                    wholeResends[head.index] = nil
                } else {
                    batch.items.append(resends[head.index])
                }
                freeSlots.append(head.index)
            case .unit:
                let unit = head.index
                let position = positions[unit]
                let item = buffers[unit].items[position]
                if item.unit == StreamItem.fullItem {
                    batch.append(whole: buffers[unit].full[item.sequence])
                } else {
                    batch.items.append(item)
                }
                // An item has at most one re-send, but with `delivery:` a duplicate's and a retry's.
                let first = resendCursors[unit]
                var end = first
                while end < buffers[unit].resends.count, buffers[unit].resends[end].index == position { end += 1 }
                var resent: [(StreamItem, GeneratedItem?)] = []
                for cursor in first..<end {
                    let resend = buffers[unit].resends[cursor].item
                    var whole: GeneratedItem?
                    if resend.unit == StreamItem.fullItem {
                        whole = buffers[unit].full[resend.sequence]
                        whole?.receivedAt = resend.receivedAt
                    }
                    resent.append((resend, whole))
                }
                resendCursors[unit] = end
                positions[unit] += 1
                // The unit's next item takes its place at the top: one sift instead of a pop and a push.
                if let next = nextKey(unit) { heads.replaceTop(next) } else { _ = heads.pop() }
                for (resend, whole) in resent {
                    let slot = freeSlots.popLast() ?? resends.count
                    if slot == resends.count {
                        resends.append(resend)
                        wholeResends.append(whole)
                    } else {
                        resends[slot] = resend
                        wholeResends[slot] = whole
                    }
                    // The sequence number, not the slot, breaks ties: slots are reused.
                    heads.push(
                        OrderKey(time: resend.receivedAt, source: .resend, rank: UInt64(resendSequence), index: slot))
                    resendSequence += 1
                }
            }
        }
        return batch.count > 0
    }

    /// The key of the unit's next item, fetching its next chunk when the current one is used up.
    private mutating func nextKey(_ unit: Int) -> OrderKey? {
        if positions[unit] >= buffers[unit].items.count {
            buffers[unit] = chunks.next(unit)
            positions[unit] = 0
            resendCursors[unit] = 0
            if let delivery { delivery.add(buffers[unit]) }
        }
        guard positions[unit] < buffers[unit].items.count else { return nil }
        // A unit has one item in the heap at a time, so its number alone orders it among equal times.
        return OrderKey(
            time: buffers[unit].items[positions[unit]].receivedAt, source: .unit, rank: UInt64(unit), index: unit)
    }

    /// Where the next item of a source sits, and when it is due.
    ///
    /// Items are ordered by time, then by source (explicit events, then re-sends,
    /// then generated units, then event files), then by rank within the source: an explicit event's
    /// declaration index, a re-send's sequence number (not its slot, which is reused),
    /// a unit's number. Source and rank share one word, so a comparison is two.
    struct OrderKey: Comparable {
        enum Source: UInt64 {
            case explicit = 0
            case resend = 1
            case unit = 2
            case file = 3
        }

        let time: Instant
        /// The source in the top two bits, the rank below.
        let order: UInt64
        /// The item's place: the explicit event's index, the re-send's slot, the unit, or the file.
        let index: Int

        init(time: Instant, source: Source, rank: UInt64, index: Int) {
            self.time = time
            order = source.rawValue << 62 | rank
            self.index = index
        }

        var source: Source { Source(rawValue: order >> 62) ?? .unit }

        static func < (a: OrderKey, b: OrderKey) -> Bool {
            a.time != b.time ? a.time < b.time : a.order < b.order
        }
    }
}

/// Runs a ``Merge`` on its own thread, a few batches ahead of the consumer.
///
/// Batches go back and forth: the consumer returns each batch it is done with,
/// and the producer empties it (destroying its events) and fills it again, so
/// their storage is reused instead of allocated (and page-faulted in) for every batch.
final class BatchProducer: @unchecked Sendable {
    // @unchecked: every field below the condition is touched only under it.
    private let condition = NSCondition()
    private var ready: [StreamBatch] = []
    private var spare: [StreamBatch] = []
    private var finished = false
    private var stopped = false
    private var exited = false
    /// Batches kept ready: enough to ride out a slow chunk, little memory.
    private let depth = 3
    /// Read by the producer thread only (see ``StreamBatch/makeAll(directory:)``).
    private let directory: Meter.Directory?

    init(merge: Merge, directory: Meter.Directory? = nil) {
        self.directory = directory
        // The thread owns the merge from here on: nothing else touches it.
        nonisolated(unsafe) let merge = merge
        let thread = Thread { [self] in
            var merge = merge
            produce(&merge)
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The next batch in stream order; nil once the stream is over.
    func next() -> StreamBatch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        guard !ready.isEmpty else { return nil }
        let batch = ready.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Hands a batch the consumer is done with back for reuse; the producer empties it.
    func recycle(_ batch: StreamBatch) {
        condition.lock()
        spare.append(batch)
        condition.unlock()
    }

    /// Stops the producer (if it is still running) and waits for its thread to leave the merge.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    private func produce(_ merge: inout Merge) {
        defer {
            merge.stop()
            condition.lock()
            finished = true
            exited = true
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while ready.count >= depth && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            var batch = spare.popLast() ?? StreamBatch(names: merge.names)
            condition.unlock()
            batch.removeAll()
            guard merge.fill(&batch, upTo: EventStream.batchSize) else { return }
            batch.makeAll(directory: directory)
            condition.lock()
            ready.append(batch)
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// A binary min-heap; its pop order depends only on the keys, which are all distinct here.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    /// The least element, left in place.
    var top: Element? { items.first }

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
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown()
        }
        return top
    }

    /// Pops the least element and pushes `element`, in one pass down the heap.
    mutating func replaceTop(_ element: Element) {
        guard !items.isEmpty else { return push(element) }
        items[0] = element
        siftDown()
    }

    private mutating func siftDown() {
        var parent = 0
        let count = items.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < count && items[left] < items[smallest] { smallest = left }
            if right < count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// Hands out each unit's events in chunks, generating them ahead on worker threads when it has any.
final class ChunkSource: @unchecked Sendable {
    /// A run of one unit's events. Re-sends are rare, so they sit beside the items
    /// (by position) rather than as a second item in every element; so do the
    /// whole items some faults make (see ``StreamItem``).
    struct Chunk: Sendable, HoldsWholeItems {
        var items: [StreamItem] = []
        var resends: [(index: Int, item: StreamItem)] = []
        var full: [GeneratedItem] = []
        /// With `delivery:`: the events lost in an outage, by customer, and the duplicate re-sends of
        /// them that were lost with them; how many events a failed flush's retry sends again.
        var lost: [String: Int] = [:]
        var lostCopies: [String: Int] = [:]
        var retried = 0
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
            guard
                let unit = ready.indices.filter({ !busy[$0] && !finished[$0] && ready[$0].count < depth })
                    .min(by: { ready[$0].count < ready[$1].count || (ready[$0].count == ready[$1].count && $0 < $1) })
            else {
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
            if chunk.items.isEmpty { finished[unit] = true }
            // The last chunk may hold nothing but what `delivery:` lost.
            if !chunk.items.isEmpty || !chunk.lost.isEmpty || !chunk.lostCopies.isEmpty { ready[unit].append(chunk) }
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Workers take a unit's generator out under the lock and put it back under the lock;
    /// `busy` keeps any other thread from taking the same unit meanwhile.
    private static func generate(_ generator: inout UnitGenerator) -> Chunk {
        var chunk = Chunk()
        chunk.items.reserveCapacity(EventStream.chunkSize)
        while chunk.items.count < EventStream.chunkSize, generator.next(into: &chunk) {}
        return chunk
    }
}
