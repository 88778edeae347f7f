import CoreMetrics
import Prometheus

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
            Counter(label: "tally_events_total", dimensions: [("outcome", outcome)], factory: factory).increment(
                by: count)
        }
    }

    /// One HTTP request answered.
    func request(route: String, method: String, status: Int, duration: Duration) {
        Timer(
            label: "tally_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
            factory: factory
        )
        .recordNanoseconds(duration.nanoseconds)
        Counter(
            label: "tally_http_requests_total", dimensions: [("route", route), ("status", String(status))],
            factory: factory
        )
        .increment()
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
