import TallyPipeline

extension Scenario {
    /// Calls `body` with every item of the scenario's event stream, without metering it.
    ///
    /// The items are exactly what ``ScenarioRunner`` hands the pipeline, in the
    /// same order: generated traffic with its faults, re-sends, malformed raw
    /// JSON and explicit events. `threads` works as for ``ScenarioRunner/run(_:threads:observer:progress:)``:
    /// the stream is byte-identical for any count.
    public func forEachGeneratedItem(threads: Int = 1, _ body: (GeneratedItem) -> Void) throws(RunError) {
        try EventStream(scenario: self, threads: Swift.max(1, threads)).forEach(body)
    }

    /// Events the traffic streams generate, before faults add re-sends (explicit events not included).
    public var generatedEvents: Int { traffic.reduce(0) { $0 + $1.events } }

    /// Events made unparseable by `malformed` faults: each reaches the pipeline as raw JSON.
    public var malformedEvents: Int {
        let generated = generatedEvents
        return faults.filter { $0.kind == .malformed }.reduce(0) { total, fault in
            let pool =
                fault.metric.map { metric in traffic.filter { $0.metric == metric }.reduce(0) { $0 + $1.events } }
                ?? generated
            return total + fault.amount.count(of: pool)
        }
    }

    /// The same scenario with its traffic scaled so that it generates `events` events in all.
    ///
    /// Each traffic stream keeps its share of the total (largest remainder, so the
    /// shares add up exactly). Faults given as a fraction scale with the traffic by
    /// themselves; faults given as a count are scaled by the same factor (rounded
    /// down). Explicit events are kept as they are. The `expect:` checks are dropped,
    /// since they describe the original size; the name and seed are kept.
    public func scaled(toGeneratedEvents events: Int) -> Scenario {
        let original = generatedEvents
        let target = Swift.max(0, events)
        guard original > 0, target != original else { return self }
        var copy = self
        let shares = StreamPlan.apportion(target, weights: traffic.map { Int64($0.events) })
        for index in copy.traffic.indices { copy.traffic[index].events = shares[index] }
        for index in copy.faults.indices {
            if case .count(let count) = copy.faults[index].amount {
                let scaled = Int128(count) * Int128(target) / Int128(original)
                copy.faults[index].amount = .count(Int(scaled))
            }
        }
        copy.expectations = Expectations()
        return copy
    }
}
