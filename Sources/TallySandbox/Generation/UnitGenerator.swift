import TallyJSON
import TallyPipeline
import TallyRandom

/// Generates one unit's events (one traffic stream in one period) in ingest-time order.
///
/// Each concern draws from its own PRNG stream (arrivals, customers,
/// quantities, properties, faults, re-send lags), so adding a fault or a
/// property never changes the other draws: the replayed scenario's base
/// traffic is the same traffic as without the replay.
struct UnitGenerator {
    let unit: StreamPlan.Unit
    let traffic: Traffic
    let tenant: String
    let delay: TimeSpan
    let limits: MeteringLimits
    let customerPicker: CustomerPicker
    let quantity: QuantitySampler
    /// The scenario's altering faults, in the order of `unit.alterations`.
    let faults: [Fault]

    private var arrivals: ArrivalTimes.Iterator
    private var customerRandom: PRNG
    /// With a million-rank zipf table, the customer draws made ahead (see ``DrawsAhead``).
    private var customersAhead: DrawsAhead?
    private var quantityRandom: PRNG
    private var propertyRandom: PRNG
    private var faultRandom: PRNG
    private var lagRandom: PRNG
    /// With `delivery:`, the per-batch lags, and the batch being gathered before it is sent.
    private var deliveryRandom: PRNG
    private var pendingBatch = ChunkSource.Chunk()
    /// The next arrival, read to see whether it still belongs to the batch being gathered.
    private var peeked: Int64?
    /// When the previous batch was received: a queue delivers in order.
    private var lastDelivered = Instant(millisecondsSinceEpoch: .min)
    private var sequence = 0
    private var alterationsLeft: [Int]
    /// The sum of `alterationsLeft`, kept rather than summed for every event.
    private var alteringLeft: Int
    private var duplicatesLeft: Int
    /// The unit's number in the stream, and what makes its items events.
    private let number: Int32
    private let names: StreamNames.Unit

    /// Stream numbers: traffic, period and purpose packed into distinct bits, then mixed by the PRNG's seeding.
    enum Purpose: UInt64 {
        case arrivals = 1
        case customers, quantities, properties, faults, lags, delivery
    }

    static func stream(unit: StreamPlan.Unit, _ purpose: Purpose) -> UInt64 {
        (UInt64(unit.traffic) << 40) | (UInt64(unit.period) << 16) | purpose.rawValue
    }

    init(
        scenario: Scenario, unit: StreamPlan.Unit, names: StreamNames.Unit, faults: [Fault],
        customerPicker: CustomerPicker,
        quantity: QuantitySampler
    ) throws(RunError) {
        self.unit = unit
        self.names = names
        number = Int32(unit.index)
        self.faults = faults
        traffic = scenario.traffic[unit.traffic]
        tenant = scenario.tenant
        delay = scenario.ingest.delay
        limits = scenario.ingest.limits
        self.customerPicker = customerPicker
        self.quantity = quantity
        let seed = scenario.seed
        func random(_ purpose: Purpose) -> PRNG { PRNG(seed: seed, stream: UnitGenerator.stream(unit: unit, purpose)) }
        let period = scenario.schedule.periods[unit.period]
        do {
            arrivals = try ArrivalTimes(
                start: period.start.millisecondsSinceEpoch, end: period.end.millisecondsSinceEpoch,
                count: unit.events, shape: traffic.arrival.shape, generator: random(.arrivals)
            ).makeIterator()
        } catch {
            throw RunError(
                message: "\(scenario.name): cannot generate arrivals for traffic \(unit.traffic + 1): \(error)")
        }
        customerRandom = random(.customers)
        customersAhead = DrawsAhead(customerPicker.zipf, using: &customerRandom)
        quantityRandom = random(.quantities)
        propertyRandom = random(.properties)
        faultRandom = random(.faults)
        lagRandom = random(.lags)
        deliveryRandom = random(.delivery)
        alterationsLeft = unit.alterations
        alteringLeft = unit.alterations.reduce(0, +)
        duplicatesLeft = unit.duplicates
    }

    /// Appends the unit's next event to `chunk`, and beside it a re-send of it to emit later
    /// when it was chosen for duplication; false once the unit has no events left.
    ///
    /// Most events go in as plain numbers (see ``StreamItem``); only those a fault
    /// renames or breaks are made into events here, and travel whole.
    mutating func next(into chunk: inout ChunkSource.Chunk) -> Bool {
        if let delivery = traffic.delivery { return nextBatch(into: &chunk, delivery) }
        return nextEvent(into: &chunk)
    }

    private mutating func nextArrival() -> Int64? {
        if let peeked {
            self.peeked = nil
            return peeked
        }
        return arrivals.next()
    }

    /// Appends the unit's next event, received at its time plus the ingest delay (see ``next(into:)``).
    private mutating func nextEvent(into chunk: inout ChunkSource.Chunk) -> Bool {
        guard let natural = nextArrival() else { return false }
        let timestamp = Instant(millisecondsSinceEpoch: natural)
        let receivedAt = timestamp + delay
        let customer =
            customersAhead?.pick(using: &customerRandom)
            ?? customerPicker.pick(sequence: sequence, using: &customerRandom)
        let properties = names.properties.draw(using: &propertyRandom)
        var item = StreamItem(
            quantity: quantity.sample(using: &quantityRandom), receivedAt: receivedAt, timestamp: timestamp,
            sequence: sequence, customer: Int32(customer), unit: number, properties: properties)
        let fault = chooseFault()
        sequence += 1
        switch fault?.kind {
        case nil:
            break
        case .duplicate?:
            // "At a later point in the stream": 1 ms to 10 min after the original arrives.
            let lag = TimeSpan(milliseconds: 1 + Int64(lagRandom.nextInt(below: 600_000)))
            var resend = item
            resend.receivedAt = receivedAt + lag
            chunk.resends.append((chunk.items.count, resend))
        case .clockSkew?:
            item.timestamp = receivedAt + (fault?.offset ?? .minutes(6))
        case .late?:
            item.timestamp = timestamp - (fault?.offset ?? .hours(36))
        case .tooOld?:
            item.timestamp = receivedAt - limits.maxAge - (fault?.offset ?? .days(1))
        case .unknownCustomer?:
            var whole = event(item)
            whole.customer = "unknown-" + whole.customer
            chunk.append(whole: GeneratedItem(payload: .event(whole), receivedAt: receivedAt, eventID: whole.id))
            return true
        case .unknownMetric?:
            var whole = event(item)
            whole.metric = "unknown-" + whole.metric
            chunk.append(whole: GeneratedItem(payload: .event(whole), receivedAt: receivedAt, eventID: whole.id))
            return true
        case .malformed?:
            let whole = event(item)
            chunk.append(
                whole: GeneratedItem(
                    payload: .malformed(malformedJSON(whole)), receivedAt: receivedAt, eventID: whole.id))
            return true
        }
        chunk.items.append(item)
        return true
    }

    private func event(_ item: StreamItem) -> Event { names.event(item, tenant: tenant) }

    /// Gathers the unit's next batch as the gateway's queue would, and appends it as Tally receives it:
    /// every event at the batch's delivery instant, twice when its flush failed and is retried, or not
    /// at all when it was flushed into an outage and not spilled to disk (counted in `chunk.lost`).
    private mutating func nextBatch(into chunk: inout ChunkSource.Chunk, _ delivery: Delivery) -> Bool {
        guard let first = nextArrival() else { return false }
        peeked = first
        // Taken out while it is filled, and put back for the next batch with its storage.
        var batch = pendingBatch
        pendingBatch = ChunkSource.Chunk()
        defer { pendingBatch = batch }
        batch.items.removeAll(keepingCapacity: true)
        batch.full.removeAll(keepingCapacity: true)
        batch.resends.removeAll(keepingCapacity: true)
        var flushAt = first + delivery.flush.milliseconds
        var count = 0
        while let next = nextArrival() {
            peeked = next
            if count > 0 && next >= first + delivery.flush.milliseconds { break }
            _ = nextEvent(into: &batch)
            count += 1
            if count == delivery.batch {
                flushAt = next
                break
            }
        }
        let flushed = Instant(millisecondsSinceEpoch: flushAt)
        let spread = delivery.lag.upperBound - delivery.lag.lowerBound
        let lag = TimeSpan(
            milliseconds: delivery.lag.lowerBound
                + (spread > 0 ? Int64(deliveryRandom.nextInt(below: UInt64(spread) + 1)) : 0))
        let outage = delivery.outage(at: flushed)
        if outage != nil && !delivery.spillToDisk {
            UnitGenerator.countLost(batch, customers: names.customers, into: &chunk)
            return true
        }
        let delivered = Swift.max((outage?.to ?? flushed) + lag + delay, lastDelivered)
        lastDelivered = delivered
        let retried = outage == nil && delivery.retryFailedBatches && delivery.flushFails(at: flushed)
        var resendCursor = 0
        for (index, item) in batch.items.enumerated() {
            var item = item
            let position = chunk.items.count
            if item.unit == StreamItem.fullItem {
                var whole = batch.full[item.sequence]
                whole.receivedAt = delivered
                chunk.append(whole: whole)
            } else {
                let generated = item.receivedAt
                item.receivedAt = delivered
                chunk.items.append(item)
                // A duplicate fault's re-send keeps its distance from the original.
                while resendCursor < batch.resends.count, batch.resends[resendCursor].index == index {
                    var resend = batch.resends[resendCursor].item
                    resend.receivedAt = delivered + (resend.receivedAt - generated)
                    chunk.resends.append((position, resend))
                    resendCursor += 1
                }
            }
            if retried {
                let retry = chunk.items[position].with(receivedAt: delivered + Delivery.retryDelay)
                chunk.resends.append((position, retry))
                chunk.retried += 1
            }
        }
        return true
    }

    /// Counts the gathered batch, and the duplicate re-sends planned of its events, as lost in delivery.
    private static func countLost(
        _ batch: ChunkSource.Chunk, customers: [String], into chunk: inout ChunkSource.Chunk
    ) {
        for item in batch.items {
            let customer: String
            if item.unit != StreamItem.fullItem {
                customer = customers[Int(item.customer)]
            } else if case .event(let whole) = batch.full[item.sequence].payload {
                customer = whole.customer
            } else {
                customer = ""
            }
            chunk.lost[customer, default: 0] += 1
        }
        for resend in batch.resends {
            chunk.lostCopies[customers[Int(resend.item.customer)], default: 0] += 1
        }
    }

    /// Sequential selection (Knuth's algorithm S): with R events left and r_k faults of
    /// kind k still to place, this event takes kind k with probability r_k / R, so
    /// exactly r_k events end up with it. Duplicates are chosen the same way among the
    /// events that no other fault alters, so every re-send is of a clean event.
    private mutating func chooseFault() -> Fault? {
        let remaining = UInt64(unit.events - sequence)
        if alteringLeft > 0 {
            var draw = faultRandom.nextInt(below: remaining)
            for (k, left) in alterationsLeft.enumerated() {
                if draw < UInt64(left) {
                    alterationsLeft[k] -= 1
                    alteringLeft -= 1
                    return faults[k]
                }
                draw -= UInt64(left)
            }
        }
        if duplicatesLeft > 0 {
            let clean = remaining - UInt64(alteringLeft)
            if faultRandom.nextInt(below: clean) < UInt64(duplicatesLeft) {
                duplicatesLeft -= 1
                return UnitGenerator.duplicate
            }
        }
        return nil
    }

    static let duplicate = Fault(kind: .duplicate, amount: .count(1), offset: nil, metric: nil)

    /// The event as a broken client would send it: a required field missing, or a quantity that is not a number.
    private mutating func malformedJSON(_ event: Event) -> String {
        guard case .object(let object) = event.json else { return "{}" }
        var members = object.members
        let choice = Int(faultRandom.nextInt(below: UInt64(Event.requiredFields.count + 1)))
        if choice < Event.requiredFields.count {
            members.removeAll { $0.key == Event.requiredFields[choice] }
        } else if let index = members.firstIndex(where: { $0.key == "quantity" }) {
            members[index].value = .string("not-a-number")
        }
        return CanonicalJSON.write(.object(JSONObject(members)), pretty: false).trimmingSuffix("\n")
    }
}

/// Generated event ids: a unit's prefix and the event's sequence number, `e0.0.12345`.
///
/// Written digit by digit into the string's own storage: ids up to 15 bytes are
/// stored inline in the String, so making one allocates nothing, where
/// `prefix + String(n)` builds and joins two strings per event.
struct EventIDs: Sendable {
    private let prefix: [UInt8]

    init(prefix: String) { self.prefix = Array(prefix.utf8) }

    func id(_ sequence: Int) -> String {
        var digits = 1
        var rest = sequence / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return prefix.withUnsafeBufferPointer { prefix in id(sequence, digits: digits, prefix: prefix) }
    }

    /// Takes the prefix's bytes in place: a closure that captured the array retained it twice per id.
    @inline(__always)
    private func id(_ sequence: Int, digits: Int, prefix: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: prefix.count + digits) { buffer in
            for (offset, byte) in prefix.enumerated() { buffer[offset] = byte }
            var value = sequence
            for position in stride(from: prefix.count + digits - 1, through: prefix.count, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return prefix.count + digits
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

extension ArrivalPattern {
    var shape: ArrivalShape {
        switch self {
        case .uniform: .uniform
        case .poisson: .poisson
        case .diurnal: .diurnal()
        case .burst: .burst()
        }
    }
}
