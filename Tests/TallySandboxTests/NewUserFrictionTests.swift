import Foundation
import Testing
import TallyJSON
import TallyPipeline
import TallySandbox

/// What a new user tripped on, each mended: fixed-fee scenarios, readable diffs, safe --update.
@Suite("What a new user tripped on")
struct NewUserFrictionTests {
    @Test("a scenario without events (fixed fees only) is valid and bills its fees")
    func fixedFeesOnly() throws {
        let yaml = """
            name: fixed-fees
            seed: 1
            start: 2026-01-01T00:00:00Z
            periods: 2
            currency: USD
            metrics:
              - { key: api_calls, aggregation: count }
            plans:
              - { id: seats, base_fee: 49 }
            customers:
              - { id: acme, plan: seats }
            expect:
              invoice_total: { acme: [49.00, 49.00] }
            """
        let scenario = try ScenarioLoader.load(yaml: yaml, file: "fixed-fees.yaml")
        #expect(scenario.totalEvents == 0)
        let run = try ScenarioRunner.run(scenario)
        // Two periods of the $49 base fee and nothing else: 49.00 each.
        #expect(run.counts.received == 0)
        #expect(run.invoices.map { scenario.catalog.currency.format($0.total) } == ["49.00", "49.00"])
        #expect(run.expectationFailures.isEmpty)
    }

    @Test("--update writes no golden file for a scenario whose expect: fails, and says so")
    func updateRefusedWhenExpectFails() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Scenarios/clock-skew.yaml")
        let golden = folder.appendingPathComponent("Fixtures/clock-skew/invoices.json")
        let before = try String(contentsOf: golden, encoding: .utf8)
        // Base fee 10 -> 12 while expect: still says 10.00: acme's invoice is 12.00 and the check fails.
        try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(of: "{ name: Base fee, model: flat, amount: 10 }", with: "{ name: Base fee, model: flat, amount: 12 }")
            .write(to: file, atomically: true, encoding: .utf8)
        guard let result = try cli.tally(["run", "--update"], in: folder) else { return }
        #expect(result.status == 1)
        #expect(result.stdout.contains("expect: expected acme's invoice total 10.00, got 12.00"))
        #expect(result.stdout.contains("goldens: not written, because the expect: checks above fail"))
        #expect(try String(contentsOf: golden, encoding: .utf8) == before)
    }
}
