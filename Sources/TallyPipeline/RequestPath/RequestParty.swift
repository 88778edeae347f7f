/// A request's customer and metric as a meter numbers them, looked up ahead in its ``Meter/Directory``.
///
/// With two threads the sandbox's producer looks each request up while the metering thread
/// decides and meters the ones before it, so that the metering thread decides and meters by
/// number (``Meter/canAccess(tenant:customer:metric:party:at:)``, ``Meter/ingest(_:receivedAt:party:)``).
/// It holds the two lookups' records themselves: reading them back by position in the meter's tables
/// cost the metering thread more than the records' 40 bytes cost to hand over.
package struct RequestParty: Sendable {
    let customer: ResolvedCustomer
    let metric: ResolvedMetric
    /// The ``Meter/catalogGeneration`` of the lookups it came from.
    let generation: UInt32
}

extension Meter {
    /// A read-only copy of the meter's customer and metric lookups, to find requests' parties on another thread.
    ///
    /// The lookups do not change while events are metered (only a new catalog rebuilds them), so
    /// the copy shares their storage and costs nothing to make. A party found in it is valid for the
    /// meter it came from until its catalog is replaced; the meter then looks the names up again.
    package struct Directory: Sendable {
        fileprivate let customers: StringIndex<ResolvedCustomer>
        fileprivate let metrics: StringIndex<ResolvedMetric>
        fileprivate let generation: UInt32

        /// The party of a request of `customer` on `metric`; nil when the catalog lacks either
        /// (the meter then refuses or dead-letters it by name, as without a party).
        package func party(customer: String, metric: String) -> RequestParty? {
            guard let resolvedCustomer = customers[customer], let resolvedMetric = metrics[metric] else { return nil }
            return RequestParty(customer: resolvedCustomer, metric: resolvedMetric, generation: generation)
        }
    }

    /// The meter's customer and metric lookups as they are now, readable from any thread.
    package var directory: Directory {
        Directory(customers: customers, metrics: metrics, generation: catalogGeneration)
    }

    /// ``canAccess(tenant:customer:metric:at:)`` for a request whose party was looked up ahead in ``directory``:
    /// the same decision and counts, without the name lookups, and without the figures it was judged on.
    ///
    /// Without a party, or with one from an earlier catalog, the names are looked up as
    /// ``canAccess(tenant:customer:metric:at:)`` does.
    package mutating func canAccess(
        tenant: String, customer: String, metric: String, party: RequestParty?, at instant: Instant
    ) -> AccessVerdict {
        var none = NoFigures()
        if let party, party.generation == catalogGeneration {
            return judge(AccessKeys(party.customer, party.metric), at: instant, figures: &none)
        }
        switch requestKeys(customer: customer, metric: metric) {
        case .failure(let unknown):
            access.counts.record(refusal: unknown.refusal, flags: [])
            return AccessVerdict(refusal: unknown.refusal, flags: [])
        case .success(let keys): return judge(keys, at: instant, figures: &none)
        }
    }
}
