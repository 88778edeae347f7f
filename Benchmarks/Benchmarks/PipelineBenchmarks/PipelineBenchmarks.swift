import Benchmark
import Foundation
import TallyPipeline
import TallySandbox

/// Tally's pipeline, stage by stage, on the bundled benchmark scenario scaled down to `Fixture.events`.
///
/// Each iteration processes the whole input once, so wall clock and malloc counts
/// are per 100,000 events (per billing run for rating); the custom metric
/// `ns/event` divides the iteration's time by the events it handled.
/// For the figures at full size use `tally bench Scenarios/bench-10m.yaml`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident, Fixture.nanosecondsPerEvent],
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 10
    )

    Benchmark("Generation: the event stream alone (100k events)") { benchmark in
        let scenario = Fixture.scenario
        var count = 0
        let started = ContinuousClock.now
        do {
            try scenario.forEachGeneratedItem { item in
                blackHole(item.receivedAt)
                count += 1
            }
        } catch {
            fatalError("generation failed: \(error)")
        }
        Fixture.record(benchmark, since: started, events: count)
    }

    Benchmark("Metering: Meter.ingest over pre-generated events (100k events)") { benchmark in
        let scenario = Fixture.scenario
        let items = Fixture.items
        benchmark.startMeasurement()
        let started = ContinuousClock.now
        var meter = Meter(catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits)
        for item in items {
            switch item.payload {
            case .event(let event): blackHole(meter.ingest(event, receivedAt: item.receivedAt))
            case .malformed(let json): blackHole(meter.ingest(json: json, receivedAt: item.receivedAt))
            }
        }
        Fixture.record(benchmark, since: started, events: items.count)
        benchmark.stopMeasurement()
        blackHole(meter.counts)
    }

    Benchmark("Rating: Biller over a prepared Usage (1,000 customers, 100k events)") { benchmark in
        let scenario = Fixture.scenario
        let usage = Fixture.usage
        let biller = Biller(catalog: scenario.catalog, schedule: scenario.schedule)
        benchmark.startMeasurement()
        let started = ContinuousClock.now
        do {
            blackHole(try biller.invoices(for: usage))
        } catch {
            fatalError("billing failed: \(error)")
        }
        Fixture.record(benchmark, since: started, events: Fixture.eventsIn)
        benchmark.stopMeasurement()
    }

    Benchmark("Whole pipeline: ScenarioRunner.run (100k events)") { benchmark in
        let started = ContinuousClock.now
        do {
            let run = try ScenarioRunner.run(Fixture.scenario)
            blackHole(run.invoices)
            Fixture.record(benchmark, since: started, events: run.counts.received)
        } catch {
            fatalError("the run failed: \(error)")
        }
    }
}

/// The inputs, built once and shared by the benchmarks (outside their measurements).
enum Fixture {
    /// Generated events: small, so `swift package benchmark` finishes in about a minute.
    static let events = 100_000

    /// Time per event handled, as a metric of its own.
    static let nanosecondsPerEvent = BenchmarkMetric.custom(
        "ns/event", polarity: .prefersSmaller, useScalingFactor: false)

    /// Scenarios/bench-10m.yaml scaled to `events`: 1,000 zipf-spread customers, four metrics, 5% duplicates, 1% skew, 0.5% late.
    static let scenario: Scenario = {
        // Benchmarks/Benchmarks/PipelineBenchmarks/PipelineBenchmarks.swift -> the repository root.
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appendingPathComponent("Scenarios/bench-10m.yaml")
        do {
            let text = try String(contentsOf: file, encoding: .utf8)
            return try ScenarioLoader.load(yaml: text, file: file.path).scaled(toGeneratedEvents: events)
        } catch {
            fatalError("cannot load \(file.path): \(error)")
        }
    }()

    /// Every item of the stream, in order, for metering without generation.
    static let items: [GeneratedItem] = {
        var items: [GeneratedItem] = []
        items.reserveCapacity(scenario.totalEvents)
        do { try scenario.forEachGeneratedItem { items.append($0) } } catch {
            fatalError("generation failed: \(error)")
        }
        return items
    }()

    /// Events the pipeline receives, re-sends included.
    static var eventsIn: Int { items.count }

    /// The metered usage of the whole stream, for rating alone.
    static let usage: Usage = {
        var meter = Meter(catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits)
        for item in items {
            switch item.payload {
            case .event(let event): meter.ingest(event, receivedAt: item.receivedAt)
            case .malformed(let json): meter.ingest(json: json, receivedAt: item.receivedAt)
            }
        }
        return meter.usage
    }()

    static func record(_ benchmark: Benchmark, since started: ContinuousClock.Instant, events: Int) {
        let elapsed = ContinuousClock.now - started
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        benchmark.measurement(nanosecondsPerEvent, events > 0 ? Int((nanoseconds / Double(events)).rounded()) : 0)
    }
}
