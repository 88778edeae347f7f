import CoreMetrics
import Prometheus
import Synchronization

/// The service's Prometheus metrics: events by outcome, request latency and ledger commit latency.
///
/// Metrics are made through swift-metrics with an explicit factory over this service's own
/// registry (no process-wide bootstrap), so two services in one process, as in the tests,
/// keep their figures apart.
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let commits: Timer
    private let eventsPerCommit: Recorder
    private let groupSize: Recorder
    /// The request timers and counters made so far, by route and method or status: made once each, since
    /// making one through the factory looks it up in the registry (a lock and a few strings).
    private let requestMetrics = Mutex<[RequestKey: (timer: CoreMetrics.Timer, counter: CoreMetrics.Counter)]>([:])
    private let outcomeCounters = Mutex<[String: CoreMetrics.Counter]>([:])

    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        factory.defaultValueHistogramBuckets = [1, 10, 100, 1_000, 10_000, 100_000]
        self.factory = factory
        commits = Timer(label: "tally_ledger_commit_duration_seconds", factory: factory)
        eventsPerCommit = Recorder(label: "tally_ledger_commit_events", aggregate: true, factory: factory)
        groupSize = Recorder(label: "tally_ledger_commit_requests", aggregate: true, factory: factory)
    }

    /// One group commit: how many events and requests it made durable, how long it took, and the outcomes.
    func committed(events: Int, requests: Int, seconds: Duration, outcomes: [String: Int]) {
        commits.recordNanoseconds(seconds.nanoseconds)
        eventsPerCommit.record(events)
        groupSize.record(requests)
        for (outcome, count) in outcomes {
            let counter = outcomeCounters.withLock { counters in
                if let counter = counters[outcome] { return counter }
                let counter = Counter(label: "tally_events_total", dimensions: [("outcome", outcome)], factory: factory)
                counters[outcome] = counter
                return counter
            }
            counter.increment(by: count)
        }
    }

    /// One HTTP request answered.
    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let metrics = requestMetrics.withLock { made in
            if let metrics = made[key] { return metrics }
            let metrics = (
                timer: Timer(
                    label: "tally_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                    factory: factory),
                counter: Counter(
                    label: "tally_http_requests_total", dimensions: [("route", route), ("status", String(status))],
                    factory: factory)
            )
            made[key] = metrics
            return metrics
        }
        metrics.timer.recordNanoseconds(duration.nanoseconds)
        metrics.counter.increment()
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
