import Foundation
import Testing
import TallyLedger
import TallyPipeline
import TallySandbox

/// The small scenario the ledger tests record, and helpers to record it.
///
/// 1,000 api_calls dealt evenly to acme and globex (500 each), 50 of them re-sent
/// (rejected as duplicates), 10 gb events all malformed (dead letters, raw text),
/// and 2 hand-written events of `initech`, a customer the catalog lacks (dead letters
/// until the fixed catalog adds it):
///
///   1,062 in = 1,000 accepted + 50 rejected + 12 dead-lettered
///   acme, globex: 500 x 0.01 = 5.00 each
enum LedgerFixtures {
    static func scenario(unitPrice: String = "0.01", withInitech: Bool = false, events: Int = 1000, duplicates: Int = 50) -> String {
        """
        name: ledger-small
        seed: 42
        start: 2026-01-01T00:00:00Z
        periods: 1
        currency: USD
        metrics:
          - { key: api_calls, aggregation: count }
          - { key: gb, aggregation: sum }
        plans:
          - id: payg
            charges:
              - { name: API calls, metric: api_calls, model: per_unit, unit_price: \(unitPrice) }
              - { name: Storage, metric: gb, model: per_unit, unit_price: 0.10 }
        customers:
          - { id: acme, plan: payg }
          - { id: globex, plan: payg }
        \(withInitech ? "  - { id: initech, plan: payg }" : "")
        traffic:
          - { metric: api_calls, events: \(events), arrival: uniform, source: kong, properties: { region: [us-east, "eu \\"west\\""] } }
          - { metric: gb, events: 10, arrival: uniform, source: sdk }
        faults:
          - { kind: duplicate, count: \(duplicates), metric: api_calls }
          - { kind: malformed, count: 10, metric: gb }
        events:
          - { id: x-1, customer: initech, metric: api_calls, at: 2026-01-10T00:00:00Z }
          - { id: x-2, customer: initech, metric: api_calls, at: 2026-01-11T00:00:00Z }
        """
    }

    static func load(_ yaml: String) throws -> Scenario {
        try ScenarioLoader.load(yaml: yaml, file: "ledger-small.yaml")
    }

    /// A fresh folder for ledger files, removed by nobody: the system cleans its temporary folder.
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tally-ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `yaml` and records it in the ledger at `path`.
    @discardableResult
    static func record(_ yaml: String, into path: String, batchSize: Int = 10_000) throws -> ScenarioRun {
        let scenario = try load(yaml)
        let recorder = try LedgerRecorder(ledger: try Ledger(path: path, create: true), scenario: scenario, scenarioText: yaml,
                                          toolVersion: "test", batchSize: batchSize)
        return try ScenarioRunner.run(scenario, observer: recorder)
    }
}

/// Forwards the first `limit` events to a recorder, then nothing, and never finishes it:
/// what the ledger sees of a process killed after `limit` events.
final class CrashingObserver: RunObserver {
    let recorder: LedgerRecorder
    let limit: Int
    var seen = 0

    init(recorder: LedgerRecorder, limit: Int) {
        self.recorder = recorder
        self.limit = limit
    }

    func sent(_ item: GeneratedItem, outcome: MeteringOutcome) {
        seen += 1
        if seen <= limit { recorder.sent(item, outcome: outcome) }
    }

    func finished(_ run: ScenarioRun, meter: Meter) throws {}
}
