extension Meter {
    /// Starts loading the memory that ingesting `event` will wait for: its slot in the dedup
    /// table and, with a large catalog, its customer's slot in the customer lookup.
    ///
    /// At a few million remembered keys the dedup table is far larger than the CPU's
    /// caches, and so is the customer lookup with a million customers: reading either
    /// slot from memory costs more than the rest of the event's checks. A caller that
    /// sees events ahead (a batch, a queue) calls this a few events before ingesting each
    /// one, so the loads overlap the work in between. The fingerprint worked out here is
    /// kept for that ingest, so it is not computed twice. A hint only: calling it or not
    /// never changes an outcome.
    public mutating func prefetch(_ event: Event) {
        prefetch(id: event.id, tenant: event.tenant, customer: event.customer)
    }

    /// ``prefetch(_:)`` for the event with this idempotency key, tenant and customer, all it reads of the event.
    public mutating func prefetch(id: String, tenant: String, customer: String) {
        prefetchCustomerSlot(customer)
        // A new tenant has nothing remembered yet: no slot to load.
        guard let number = knownTenantNumber(tenant) else { return }
        let key = Fingerprint(tenant: number, id: id)
        dedup.prefetch(key)
        prefetched.push(PrefetchedKey(id: id, tenant: number, key: key))
    }

    /// Maps one of `parts` equal pieces of the dedup table's memory now, so that metering
    /// does not stop to fault it in; call it for every part, each on its own thread, before
    /// metering starts.
    ///
    /// The table is sized for the expected events when the meter is made, and the kernel
    /// zeroes each of its pages when it is first written (256 MB at 10 million expected
    /// events), which the metering thread would otherwise pay for in the run's first moments.
    /// Faulted in on two threads at once, it takes about half as long.
    /// A hint only, that neither reads nor writes a slot: calling it or not never changes an
    /// outcome, and it is safe while the meter is in use. It does nothing off Linux.
    public func prefaultDedupTable(part: Int, of parts: Int) {
        dedup.prefault(part: part, of: parts)
    }
}

/// A fingerprint ``Meter/prefetch(_:)`` worked out, and what it was worked out from.
struct PrefetchedKey: Sendable {
    var id: String
    var tenant: UInt32
    var key: Fingerprint
}

/// The last few prefetched fingerprints, oldest first.
///
/// Callers ingest events in the order they prefetched them, so the oldest entry
/// is nearly always the one asked for; an entry that was never asked for (an
/// event prefetched but not sent) is dropped when a later one matches. The id
/// comparison makes a wrong answer impossible: at worst the fingerprint is
/// computed again.
struct PrefetchQueue: Sendable {
    /// More than a caller prefetches ahead (the sandbox's runner prefetches 8 events ahead).
    ///
    /// A power of two, so a position wraps with a mask.
    static let capacity = 16
    private static let mask = capacity - 1
    // Never-used entries are blanks rather than nil: the hot path then has no optional to unwrap.
    private var entries = Array(
        repeating: PrefetchedKey(id: "", tenant: 0, key: Fingerprint(high: 0, low: 0)), count: capacity)
    private var head = 0
    private var count = 0

    mutating func push(_ entry: PrefetchedKey) {
        if count == Self.capacity {
            head = (head + 1) & Self.mask
            count -= 1
        }
        entries[(head + count) & Self.mask] = entry
        count += 1
    }

    /// The fingerprint prefetched for `id` in `tenant`, if it is queued; drops it and every older entry.
    mutating func take(id: String, tenant: UInt32) -> Fingerprint? {
        var offset = 0
        while offset < count {
            let slot = (head + offset) & Self.mask
            if entries[slot].tenant == tenant, entries[slot].id == id {
                head = (slot + 1) & Self.mask
                count -= offset + 1
                return entries[slot].key
            }
            offset += 1
        }
        return nil
    }
}
