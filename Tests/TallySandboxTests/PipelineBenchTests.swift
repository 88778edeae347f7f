import TallyPipeline
import Testing

@testable import TallySandbox

/// `tally bench`'s measurement: what it counts and how its stages divide the run.
/// No timing is asserted beyond the order of the moments it reads.
@Suite("Pipeline benchmark (tally bench)")
struct PipelineBenchTests {
    @Test("the stages it reports divide the whole run, and it counts what the run did")
    func stagesDivideTheRun() throws {
        // bench-10m at 20,000 generated events: 5% re-sent, so 21,000 received; one invoice
        // per customer (1,000) for the one period.
        let scenario = try Repository.load("bench-10m.yaml").scaled(toGeneratedEvents: 20_000)
        let result = try PipelineBench.run(scenario, threads: 1)
        #expect(result.events == 21_000 && result.streamItems == 21_000)
        #expect(result.counts.isBalanced && result.counts.received == 21_000)
        #expect(result.invoices == 1_000)
        // Billing is timed inside the run, between metering and the rest: the three never add up
        // to more than the run, and none is negative.
        #expect(result.meteringPhaseSeconds > 0 && result.billingSeconds > 0)
        #expect(result.meteringPhaseSeconds + result.billingSeconds <= result.wholeRunSeconds)
        let parts = result.meteringPhaseSeconds + result.billingSeconds + result.restSeconds
        #expect(abs(parts - result.wholeRunSeconds) < 1e-9)
    }

    @Test("a series reports the run with the median whole-run time, and the fastest and slowest")
    func series() throws {
        let scenario = try Repository.load("bench-10m.yaml").scaled(toGeneratedEvents: 2_000)
        let run = try PipelineBench.run(scenario, threads: 1)
        func taking(_ seconds: Double) -> BenchResult {
            var result = run
            result.wholeRunSeconds = seconds
            return result
        }
        // Whole runs of 3, 1 and 2 seconds: the median is the 2-second one.
        var series = BenchSeries(taking(3))
        series.append(taking(1))
        series.append(taking(2))
        #expect(series.runs.map(\.wholeRunSeconds) == [3, 1, 2])
        #expect(series.median.wholeRunSeconds == 2)
        #expect(series.fastest.wholeRunSeconds == 1 && series.slowest.wholeRunSeconds == 3)
        // Of an even count, the lower middle one: of 1 and 3, 1.
        var pair = BenchSeries(taking(3))
        pair.append(taking(1))
        #expect(pair.median.wholeRunSeconds == 1)
        #expect(BenchSeries(taking(5)).median.wholeRunSeconds == 5)
    }
}
