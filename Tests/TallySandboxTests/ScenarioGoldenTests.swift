import Foundation
import TallyJSON
import Testing

@testable import TallyPipeline
@testable import TallySandbox

/// The package root, found from this file's path, so tests read the real Scenarios/ and Fixtures/.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let scenarios = root.appendingPathComponent("Scenarios")
    static let fixtures = root.appendingPathComponent("Fixtures")

    static func scenarioFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scenarios.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func load(_ name: String, edit: (String) -> String = { $0 }) throws -> Scenario {
        let url = scenarios.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        return try ScenarioLoader.load(yaml: edit(text), file: "Scenarios/\(name)")
    }
}

@Suite("Bundled scenarios against their golden files")
struct ScenarioGoldenTests {
    /// Debug builds meter about 8 times slower than release: scale scenarios above this many
    /// events are left to `tally run` in release, which `.ci/run` runs on every scenario.
    static let debugEventLimit = 2_000_000
    /// The same for scenarios with Margin Guard (a metric with a cost).
    static let debugMarginGuardLimit = 100_000

    /// CI gates on these: each bundled scenario must match its goldens and its expect: block.
    @Test("every scenario in Scenarios/ matches its goldens", arguments: Repository.scenarioFiles())
    func matchesGoldens(file: String) throws {
        let scenario = try Repository.load(file)
        #if DEBUG
        if scenario.totalEvents > ScenarioGoldenTests.debugEventLimit { return }
        // Margin Guard bills a customer for each request near its levels, some 30 times slower in debug.
        if scenario.totalEvents > ScenarioGoldenTests.debugMarginGuardLimit,
            scenario.catalog.metrics.contains(where: { $0.cost != nil })
        {
            return
        }
        #endif
        let run = try ScenarioRunner.run(scenario)
        #expect(run.expectationFailures == [])
        #expect(GoldenFiles(fixtures: Repository.fixtures).compare(run) == [])
    }

    @Test("the same scenario run twice, and on 1, 2 and 3 threads, gives byte-identical output")
    func determinism() throws {
        for file in ["graduated-5-tiers.yaml", "duplicate-replay.yaml"] {
            let scenario = try Repository.load(file)
            let first = try ScenarioRunner.run(scenario, threads: 1)
            let again = try ScenarioRunner.run(scenario, threads: 1)
            #expect(first.invoicesJSON == again.invoicesJSON)
            #expect(first.rejectionsJSON == again.rejectionsJSON)
            for threads in [2, 3] {
                let other = try ScenarioRunner.run(scenario, threads: threads)
                #expect(first.invoicesJSON == other.invoicesJSON, "\(file): 1 and \(threads) threads differ")
                #expect(first.rejectionsJSON == other.rejectionsJSON, "\(file): 1 and \(threads) threads differ")
            }
        }
    }

    @Test("replaying every event changes no invoice: duplicates are counted, never billed")
    func replayBillsLikeNoReplay() throws {
        let replayed = try Repository.load("duplicate-replay.yaml")
        var clean = replayed
        clean.faults = []
        clean.expectations = Expectations()
        let withReplay = try ScenarioRunner.run(replayed)
        let without = try ScenarioRunner.run(clean)
        #expect(withReplay.invoicesJSON == without.invoicesJSON)
        // 100,000 in: 50,000 originals accepted, 50,000 copies rejected as duplicates.
        #expect(withReplay.counts.received == 100_000)
        #expect(withReplay.counts.count(.duplicate) == 50_000)
        #expect(without.counts.received == 50_000)
    }

    @Test("editing one price makes the run differ, and the diff names the customer and the line")
    func editedPriceIsCaught() throws {
        // 0.002 -> 0.003 in tier 2: globex's 5,000 calls there now cost 15.00, not 10.00.
        let scenario = try Repository.load("graduated-5-tiers.yaml") {
            $0.replacingOccurrences(
                of: "{ up_to: 25000, unit_price: 0.002 }", with: "{ up_to: 25000, unit_price: 0.003 }")
        }
        let run = try ScenarioRunner.run(scenario)
        let differences = GoldenFiles(fixtures: Repository.fixtures).compare(run)
        #expect(
            differences.contains(
                "invoices.json: invoices globex period 2026-01-01 lines 'API calls' amount: expected 10.00, actual 15.00"
            ))
        // The expect: block also notices: 59.00 became 64.00.
        #expect(run.expectationFailures.contains("expected globex's invoice total 59.00, got 64.00"))
    }

    @Test("a run that lets its invoices go as they are made (tally bench) counts them and checks the same expectations")
    func invoicesLetGoStillCheckExpectations() throws {
        // acme's P4 amount due is 100.00 - 40.00 of balance = 60.00 (see the scenario); expect 50.00 to see it fail.
        let scenario = try Repository.load("stage-credits.yaml") {
            $0.replacingOccurrences(of: "acme: [0.00, 0.00, 0.00, 60.00]", with: "acme: [0.00, 0.00, 0.00, 50.00]")
        }
        let kept = try ScenarioRunner.run(scenario)
        let letGo = try ScenarioRunner.runKeepingMeter(
            scenario, threads: 1, observer: nil, progress: nil, keepingInvoices: false
        ).run
        // 2 customers x 4 periods = 8 invoices
        #expect(kept.invoices.count == 8)
        #expect(kept.invoiceCount == 8)
        #expect(letGo.invoices.isEmpty)
        #expect(letGo.invoiceCount == 8)
        #expect(
            kept.expectationFailures == [
                #"expected acme's amount due per period ["0.00", "0.00", "0.00", "50.00"], got ["0.00", "0.00", "0.00", "60.00"]"#
            ])
        #expect(letGo.expectationFailures == kept.expectationFailures)
    }
}

@Suite("Fault placement")
struct FaultPlacementTests {
    static let yaml = """
        name: two-skews
        seed: 5
        start: 2026-01-01T00:00:00Z
        currency: USD
        ingest: { max_future: 5m }
        metrics: [{ key: api_calls, aggregation: count }]
        plans: [{ id: p, charges: [{ name: Calls, metric: api_calls, model: per_unit, unit_price: 1 }] }]
        customers: [{ id: acme, plan: p }]
        traffic: [{ metric: api_calls, events: 1000 }]
        faults:
          - { kind: clock_skew, count: 100, offset: 10m }
          - { kind: clock_skew, count: 100, offset: 4m }
          - { kind: duplicate, count: 50 }
        """

    @Test("two faults of one kind keep their own offsets, with exact counts")
    func twoSkews() throws {
        let run = try ScenarioRunner.run(
            try ScenarioLoader.load(yaml: FaultPlacementTests.yaml, file: "two-skews.yaml"))
        // 1,000 generated + 50 re-sends = 1,050 in. 10 min ahead > 5 min: 100 rejected;
        // 4 min ahead is within the limit: accepted. 1,000 - 100 = 900 accepted, the 50 re-sends rejected.
        #expect(run.counts.received == 1050)
        #expect(run.counts.count(.timestampInFuture) == 100)
        #expect(run.counts.count(.duplicate) == 50)
        #expect(run.counts.accepted == 900)
    }

    @Test("counts split over periods by their length, faults over units by their events, exactly")
    func apportion() {
        // 10 over weights 31, 28, 31 (Jan, Feb, Mar): 10x31/90 = 3.44, 10x28/90 = 3.11, 3.44 -> 3, 3, 3 and the
        // remaining 1 to the largest remainder, tied .44 between Jan and Mar: the earlier one.
        #expect(StreamPlan.apportion(10, weights: [31, 28, 31]) == [4, 3, 3])
        #expect(StreamPlan.apportion(0, weights: [1, 2]) == [0, 0])
        #expect(StreamPlan.apportion(7, weights: [0, 0]) == [0, 0])
    }
}
