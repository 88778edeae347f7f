import Foundation
import TallyLedger
import TallyPipeline
import TallySandbox
import Testing

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
    static func scenario(
        unitPrice: String = "0.01", withInitech: Bool = false, events: Int = 1000, duplicates: Int = 50
    ) -> String {
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
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tally-ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The sandbox's reading of scenario text, as the ledger's replays and checks take it.
    static let terms: BillingTerms.Loader = { yaml, file in
        let scenario = try ScenarioLoader.load(yaml: yaml, file: file)
        return BillingTerms(catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits)
    }

    /// The sandbox's reading of a what-if's plans, completed from the recorded scenario, as rerating takes it.
    static let plans: BillingTerms.PlansLoader = { yaml, file, recorded in
        let scenario = try ScenarioLoader.load(plans: yaml, file: file, completingFrom: recorded)
        return BillingTerms(catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits)
    }

    /// A recorder of `yaml`'s run into the ledger at `path`.
    static func recorder(
        _ yaml: String, into path: String, create: Bool = true, batchSize: Int = 10_000
    ) throws -> LedgerRecorder {
        let scenario = try load(yaml)
        let description = RunDescription(
            name: scenario.name, seed: scenario.seed, file: scenario.file, text: yaml,
            clockStart: scenario.schedule.start ?? Instant(millisecondsSinceEpoch: 0),
            clockEnd: scenario.schedule.end ?? Instant(millisecondsSinceEpoch: 0), plannedEvents: scenario.totalEvents)
        return try LedgerRecorder(
            ledger: try Ledger(path: path, create: create), scenario: description, toolVersion: "test",
            batchSize: batchSize)
    }

    /// Runs `yaml` and records it in the ledger at `path`.
    @discardableResult
    static func record(_ yaml: String, into path: String, batchSize: Int = 10_000) throws -> ScenarioRun {
        let recorder = try recorder(yaml, into: path, batchSize: batchSize)
        return try ScenarioRunner.run(try load(yaml), observer: RecordingObserver(recorder: recorder))
    }
}

/// Hands a run's events to a recorder, as `tally run --ledger` does. With `crashAfter`, it
/// forwards that many events, then nothing, and never finishes the recording: what the
/// ledger sees of a process killed after them.
final class RecordingObserver: RunObserver {
    let recorder: LedgerRecorder
    let crashAfter: Int?
    var seen = 0

    init(recorder: LedgerRecorder, crashAfter: Int? = nil) {
        self.recorder = recorder
        self.crashAfter = crashAfter
    }

    func sent(_ item: GeneratedItem, outcome: MeteringOutcome) {
        seen += 1
        if let crashAfter, seen > crashAfter { return }
        let payload: DeadLetter.Payload
        switch item.payload {
        case .event(let event): payload = .event(event)
        case .malformed(let text), .undecodable(let text, _): payload = .raw(text)
        }
        recorder.record(eventID: item.eventID, payload: payload, receivedAt: item.receivedAt, outcome: outcome)
    }

    func refused(_ item: GeneratedItem, decision: AccessDecision, at instant: Instant) {
        guard case .event(let event) = item.payload, let reason = decision.refusal else { return }
        recorder.recordRefusal(event, at: instant, reason: reason)
    }

    func finished(_ run: ScenarioRun, meter: Meter) throws {
        if crashAfter == nil { try recorder.finish(counts: run.counts, invoices: run.invoices, meter: meter) }
    }
}
