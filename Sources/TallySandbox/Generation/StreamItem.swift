internal import CIntrinsics
import TallyGateways
import TallyPipeline
import TallyRandom

/// A generated event in the few numbers that determine it, made into an ``Event`` only when it is sent.
///
/// An ``Event`` is 128 bytes with five strings and a property array: every copy
/// on its way from generator through merge to meter is a memmove plus a retain
/// and a release per reference, about a third of a run's time when events
/// travelled whole. A stream item holds no references, so chunks, batches and
/// the merge move it as plain bytes, and the strings are put together once, on
/// the thread that meters, by ``StreamNames/event(_:)``.
///
/// Items the numbers cannot describe (explicit events, malformed JSON, events a
/// fault renamed) travel whole beside the batch, and the stream item only says
/// where: ``unit`` is ``StreamItem/fullItem`` and ``sequence`` is the index.
/// Events read from a file are moved into the batch as they were decoded
/// (``StreamBatch/append(decoded:receivedAt:)``): ``unit`` is ``StreamItem/decodedItem``.
struct StreamItem: Sendable {
    var quantity: ExactDecimal
    /// Ingest time: when the pipeline receives it.
    var receivedAt: Instant
    var timestamp: Instant
    /// The event's number within its unit (its id), or the index of a whole item.
    var sequence: Int
    /// The customer's position in the traffic's customer list.
    var customer: Int32
    /// The unit that generated it (see ``StreamNames``), or ``fullItem``.
    var unit: Int32
    /// Which combination of the traffic's property values it carries (see ``PropertyCombinations``).
    var properties: UInt64

    static let fullItem: Int32 = -1
    /// The ``unit`` of an event decoded from a file, which waits in ``StreamBatch/decoded`` at ``sequence``.
    static let decodedItem: Int32 = -2

    /// Whether the item's numbers make its event (a generated one), rather than a whole or decoded one.
    var isGenerated: Bool { unit >= 0 }

    /// The same item, received at `instant`.
    func with(receivedAt instant: Instant) -> StreamItem {
        var item = self
        item.receivedAt = instant
        return item
    }

    /// A stand-in for an item that travels whole at `index`.
    static func full(at index: Int, receivedAt: Instant) -> StreamItem {
        StreamItem(
            quantity: .zero, receivedAt: receivedAt, timestamp: receivedAt, sequence: index, customer: 0,
            unit: fullItem, properties: 0)
    }

    /// A stand-in for an event decoded from a file, waiting at `position` of the batch's decoded events.
    static func decoded(at position: Int, receivedAt: Instant) -> StreamItem {
        StreamItem(
            quantity: .zero, receivedAt: receivedAt, timestamp: receivedAt, sequence: position, customer: 0,
            unit: decodedItem, properties: 0)
    }
}

/// A run of stream items with, beside it, the whole items its stand-ins point to: a chunk or a batch.
protocol HoldsWholeItems {
    var items: [StreamItem] { get set }
    var full: [GeneratedItem] { get set }
}

extension HoldsWholeItems {
    /// Appends an item that travels whole, and its stand-in.
    mutating func append(whole item: consuming GeneratedItem) {
        let receivedAt = item.receivedAt
        full.append(item)
        items.append(.full(at: full.count - 1, receivedAt: receivedAt))
    }
}

/// Consecutive items of the stream, with the whole items they refer to and the names to make them events.
struct StreamBatch: Sendable, HoldsWholeItems {
    var items: [StreamItem] = []
    var full: [GeneratedItem] = []
    /// The positions in ``items`` of re-sends of an earlier event, in order: with a gateway in front of
    /// the pipeline they are not new requests, so they skip its decision.
    var resendPositions: [Int] = []
    /// Each item made an event, when the thread that filled the batch did it (see ``makeAll()``);
    /// a stand-in where the item travels whole.
    private(set) var made: EventBuffer?
    /// The events decoded from files, in item order, until they are made (see ``event(_:)``).
    ///
    /// An event file's event is moved here once, from its reader, and moved out once, when it is made:
    /// travelling whole it was copied and moved some ten times on its way to the meter.
    private(set) var decoded: EventBuffer?
    /// With a request path, each made event's customer and metric as the meter numbers them (nil where
    /// the catalog lacks one, or for a whole item), looked up by ``makeAll(directory:)``; else empty.
    private(set) var parties: [RequestParty?] = []
    let names: StreamNames

    init(names: StreamNames) {
        self.names = names
        items.reserveCapacity(EventStream.batchSize)
    }

    var count: Int { items.count }

    /// Whether ``made`` holds every item, none taken yet.
    var isMade: Bool { made?.count == items.count }

    /// Moves in an event decoded from a file, received at `receivedAt`.
    mutating func append(decoded event: consuming Event, receivedAt: Instant) {
        let buffer: EventBuffer
        if let decoded {
            buffer = decoded
        } else {
            buffer = EventBuffer(capacity: EventStream.batchSize)
            decoded = buffer
        }
        items.append(.decoded(at: buffer.endPosition, receivedAt: receivedAt))
        buffer.append(event)
    }

    /// The item at `index`, as the pipeline receives it.
    ///
    /// Like ``event(_:)``, called once per item, in order: a decoded event is moved out.
    func item(_ index: Int) -> GeneratedItem {
        let item = items[index]
        guard item.unit != StreamItem.fullItem else { return full[item.sequence] }
        let event = made?.withEvent(at: index) { $0.pointee } ?? event(index)
        return GeneratedItem(payload: .event(event), receivedAt: item.receivedAt, eventID: event.id)
    }

    /// The event of the item at `index`, or ``StreamNames/standIn`` for an item that travels whole.
    ///
    /// Made once per item, in order (by the metering loop, or by ``makeAll()``): a decoded event is
    /// moved out of ``decoded``, not copied.
    func event(_ index: Int) -> Event {
        let item = items[index]
        switch item.unit {
        case StreamItem.fullItem: return StreamNames.standIn
        case StreamItem.decodedItem:
            guard let event = decoded?.take(at: item.sequence) else {
                preconditionFailure("StreamBatch: a decoded event made twice or out of order")
            }
            return event
        default: return names.event(item)
        }
    }

    /// Starts loading what making the item at `index` an event will read: with a million
    /// customers, its customer's id is rarely in the cache. A hint only; nothing past the end.
    func prefetchEvent(_ index: Int) {
        guard names.prefetchesCustomerIDs, index < items.count else { return }
        let item = items[index]
        if item.isGenerated { names.withUnit(item.unit) { $0.prefetchCustomerID(of: item) } }
    }

    /// How far ahead of making an event its reads are started (see ``prefetchEvent(_:)``).
    static let prefetchDistance = 8

    /// Makes every item an event now, so that the thread that consumes the batch does not have to.
    ///
    /// With two threads the producer has time to spare and the metering thread has none. Given the
    /// meter's `directory`, it also looks up each event's customer and metric (``parties``), which the
    /// request path would otherwise do on the metering thread.
    mutating func makeAll(directory: Meter.Directory? = nil) {
        let made = self.made ?? EventBuffer(capacity: EventStream.batchSize)
        self.made = made
        parties.removeAll(keepingCapacity: true)
        if directory != nil { parties.reserveCapacity(items.count) }
        for index in items.indices {
            prefetchEvent(index + StreamBatch.prefetchDistance)
            let event = event(index)
            if let directory {
                parties.append(
                    items[index].unit == StreamItem.fullItem
                        ? nil : directory.party(customer: event.customer, metric: event.metric))
            }
            made.append(event)
        }
    }

    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        full.removeAll(keepingCapacity: true)
        resendPositions.removeAll(keepingCapacity: true)
        parties.removeAll(keepingCapacity: true)
        made?.removeAll()
        decoded?.removeAll()
    }
}

/// What turns a ``StreamItem`` back into an event: each unit's id prefix, tenant, metric, source, customers and property values.
///
/// Built once per stream and only read afterwards, by whichever thread sends.
final class StreamNames: Sendable {
    /// A class, so looking one up per event retains one object, not each of its arrays and strings.
    final class Unit: Sendable {
        let ids: EventIDs
        let metric: String
        let source: String
        let customers: [String]
        let properties: PropertyCombinations
        /// The gateway whose records the unit's events pass through (`gateway:` traffic), or nil.
        let gateway: Gateway?

        init(
            ids: EventIDs, metric: String, source: String, customers: [String], properties: PropertyCombinations,
            gateway: Gateway? = nil
        ) {
            self.gateway = gateway
            self.ids = ids
            self.metric = metric
            self.source = source
            self.customers = customers
            self.properties = properties
        }

        /// Starts loading the customer id ``event(_:tenant:)`` will read for `item`. A hint only.
        func prefetchCustomerID(of item: StreamItem) {
            customers.withUnsafeBufferPointer { ids in
                let index = Int(item.customer)
                if index < ids.count, let base = ids.baseAddress { tally_prefetch(base + index) }
            }
        }

        /// The event of one of this unit's items.
        ///
        /// A `gateway:` unit's event is written as the gateway's log record and read back by its
        /// adapter, so every run exercises the adapter; the two agree field for field (a test checks
        /// it for every gateway), and the written event stands should they ever not.
        func event(_ item: StreamItem, tenant: String) -> Event {
            let event = Event(
                id: ids.id(item.sequence), tenant: tenant, customer: customers[Int(item.customer)], metric: metric,
                quantity: item.quantity, timestamp: item.timestamp, source: source,
                properties: properties.properties(item.properties))
            guard let gateway else { return event }
            return gateway.readBack(event, tenant: tenant) ?? event
        }
    }

    let tenant: String
    let units: [Unit]
    /// Whether a unit's customer ids outgrow a core's own cache (64K ids, 1 MB), so that
    /// reading one for an event is worth starting early. Below that the id is nearly
    /// always cached, and the check is all an event pays.
    let prefetchesCustomerIDs: Bool

    /// The same units, lent by ``withUnit(_:_:)`` (``units`` keeps them alive).
    private let unretainedUnits: [Unmanaged<Unit>]

    init(tenant: String, units: [Unit]) {
        self.tenant = tenant
        self.units = units
        unretainedUnits = units.map { Unmanaged.passUnretained($0) }
        prefetchesCustomerIDs = units.contains { $0.customers.count >= 1 << 16 }
    }

    /// Lends the unit numbered `number` to `body` without retaining it.
    ///
    /// Reading a class out of an array retains it and releases it after: two atomic
    /// operations per event, on generation's hottest path.
    @inline(__always)
    func withUnit<Result>(_ number: Int32, _ body: (Unit) -> Result) -> Result {
        unretainedUnits[Int(number)]._withUnsafeGuaranteedRef(body)
    }

    /// The event of an item that is not a whole one.
    func event(_ item: StreamItem) -> Event {
        withUnit(item.unit) { $0.event(item, tenant: tenant) }
    }

    /// Holds the place of a whole item among made events; never sent.
    static let standIn = Event(
        id: "", tenant: "", customer: "", metric: "", quantity: .zero,
        timestamp: Instant(millisecondsSinceEpoch: 0), source: "")
}

/// A traffic's property values, one drawn per key, numbered as one mixed-radix number.
///
/// The first key's value index is the most significant digit. When there are few
/// combinations (a `user` property of 64 values: 64) each one's property list is
/// built once and shared, so an event's properties cost a retain, not an allocation.
struct PropertyCombinations: Sendable {
    let keys: [String]
    let values: [[String]]
    /// Every combination's properties, in number order, when there are at most ``prebuiltLimit``.
    private let prebuilt: [EventProperties]
    static let prebuiltLimit: UInt64 = 4096

    /// Nil when the combinations cannot be numbered in 64 bits.
    init?(_ properties: [(key: String, values: [String])]) {
        keys = properties.map(\.key)
        values = properties.map(\.values)
        var total: UInt64 = 1
        for list in values {
            let (product, overflow) = total.multipliedReportingOverflow(by: UInt64(list.count))
            guard !overflow else { return nil }
            total = product
        }
        let (keys, values) = (keys, values)
        prebuilt = total <= Self.prebuiltLimit ? (0..<total).map { Self.build($0, keys: keys, values: values) } : []
    }

    /// Draws one value index per key, in key order, and returns the combination's number.
    func draw(using random: inout PRNG) -> UInt64 {
        var number: UInt64 = 0
        for list in values { number = number * UInt64(list.count) + random.nextInt(below: UInt64(list.count)) }
        return number
    }

    // Inlined: called as a method, it retains and releases all three arrays per event.
    @inline(__always)
    func properties(_ number: UInt64) -> EventProperties {
        if keys.isEmpty { return EventProperties() }
        if number < UInt64(prebuilt.count) { return prebuilt[Int(number)] }
        return Self.build(number, keys: keys, values: values)
    }

    private static func build(_ number: UInt64, keys: [String], values: [[String]]) -> EventProperties {
        var digits = Array(repeating: 0, count: values.count)
        var rest = number
        for index in values.indices.reversed() {
            let radix = UInt64(values[index].count)
            digits[index] = Int(rest % radix)
            rest /= radix
        }
        // Set in key order, as the generator drew them: a repeated key keeps its last value.
        var properties = EventProperties()
        for index in values.indices { properties[keys[index]] = values[index][digits[index]] }
        return properties
    }
}
