import TallyGateways
import TallyPipeline

/// How a gateway hands a traffic's usage events to Tally: in batches, late, sometimes twice, sometimes not at all.
///
/// A traffic with `delivery:` is one gateway queue per billing period. The gateway serves each request
/// at the event's timestamp and queues its usage event; a batch is flushed when it holds `batch` events
/// or `flush` after its first event, whichever comes first, and Tally receives it `lag` later (plus the
/// ingest delay). See Docs/Semantics.md, "Delivery".
public struct Delivery: Sendable, Hashable {
    /// Events per batch at most.
    public var batch: Int
    /// How long after its first event a batch that is not full is flushed.
    public var flush: TimeSpan
    /// From flush to receipt: drawn per batch, uniformly in whole milliseconds over this range.
    public var lag: ClosedRange<Int64>
    /// Whether a batch whose flush failed is sent again (whole).
    public var retryFailedBatches: Bool
    /// Windows in which a flush reaches Tally but its reply is lost, so the gateway takes it as failed.
    public var failedFlushes: [Window]
    /// Windows in which Tally's ingest endpoint is down: a flush in one is not received.
    public var outages: [Window]
    /// Whether the gateway keeps what it could not deliver and sends it once the outage is over.
    public var spillToDisk: Bool

    /// How long after the first delivery of a failed batch its retry is received.
    public static let retryDelay = TimeSpan.seconds(1)

    /// A half-open span of time, `[from, to)`.
    public struct Window: Sendable, Hashable {
        public var from: Instant
        public var to: Instant

        public init(from: Instant, to: Instant) {
            self.from = from
            self.to = to
        }

        func contains(_ instant: Instant) -> Bool { from <= instant && instant < to }
    }

    public init(
        batch: Int, flush: TimeSpan, lag: ClosedRange<Int64>, retryFailedBatches: Bool, failedFlushes: [Window] = [],
        outages: [Window] = [], spillToDisk: Bool
    ) {
        self.batch = batch
        self.flush = flush
        self.lag = lag
        self.retryFailedBatches = retryFailedBatches
        self.failedFlushes = failedFlushes
        self.outages = outages
        self.spillToDisk = spillToDisk
    }

    /// The delivery of a traffic that names `gateway` (nil: Tally's SDK), before the scenario's own keys.
    ///
    /// Kong: the plugin queue's documented defaults (a batch of 1, sent within 1 s, retried, held in
    /// memory). Apigee: a 10 s flush. AWS: CloudWatch Logs subscriptions deliver 2-5 s late. The others,
    /// and the SDK: each event sent at once. Docs/Gateways.md, "Delivery", cites the sources.
    public static func defaults(for gateway: Gateway?) -> Delivery {
        switch gateway {
        case .kong?:
            Delivery(batch: 1, flush: .seconds(1), lag: 0...0, retryFailedBatches: true, spillToDisk: false)
        case .apigee?:
            Delivery(batch: 1000, flush: .seconds(10), lag: 0...0, retryFailedBatches: true, spillToDisk: false)
        case .aws?:
            Delivery(batch: 1, flush: .seconds(0), lag: 2000...5000, retryFailedBatches: true, spillToDisk: true)
        case .azure?, .mulesoft?, nil:
            Delivery(batch: 1, flush: .seconds(0), lag: 0...0, retryFailedBatches: true, spillToDisk: false)
        }
    }

    /// Whether a flush at `instant` falls in an outage, and which one.
    func outage(at instant: Instant) -> Window? { outages.first { $0.contains(instant) } }

    /// Whether a flush at `instant` loses its reply.
    func flushFails(at instant: Instant) -> Bool { failedFlushes.contains { $0.contains(instant) } }
}

extension Scenario {
    /// Whether any traffic sets `delivery:`: only then are runs reconciled per customer.
    public var usesDelivery: Bool { traffic.contains { $0.delivery != nil } }
}

extension Scenario {
    /// Why the scenario's `delivery:` or `expect: reconciliation:` cannot run as written; nil when it can.
    var deliveryProblem: String? {
        if usesDelivery && requestPath != nil {
            return "delivery: cannot yet be combined with a request path (spike_arrest, margin_guard, cost, "
                + "entitlement_cache): the gateway would decide each request when its batch arrives, not when it was served"
        }
        if !usesDelivery && !(expectations.reconciliation.isEmpty && expectations.reconciliationByCustomer.isEmpty) {
            return "expect.reconciliation checks what delivery did, but no traffic sets delivery:"
        }
        return nil
    }
}
