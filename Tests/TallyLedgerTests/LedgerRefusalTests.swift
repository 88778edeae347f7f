import Foundation
import GRDB
import TallyPipeline
import Testing

@testable import TallyLedger

@Suite("Ledger: requests the gateway refused")
struct LedgerRefusalTests {
    /// acme's plan admits 20 requests a second, one per 50 ms; initech is not in the catalog.
    ///
    ///   a1 at 0.000 s  allowed                       seq 0, events
    ///   a2 at 0.049 s  49 x 20 = 980 < 1000: spike_arrested   seq 1, refusals
    ///   a3 at 0.050 s  allowed                       seq 2
    ///   a4 at 0.099 s  1980 < 2000: spike_arrested   seq 3, refusals
    ///   a5 at 0.100 s  allowed                       seq 4
    ///   x1 at 2.000 s  initech unknown: unknown_customer (refused, so never dead-lettered)  seq 5, refusals
    ///   6 requests = 3 refused + 3 events metered (all accepted); acme 3 x 0.01 = 0.03
    static let scenario = """
        name: ledger-refusals
        seed: 7
        start: 2026-05-01T00:00:00Z
        periods: 1
        currency: USD
        metrics:
          - { key: api_calls, aggregation: count }
        plans:
          - id: smooth
            spike_arrest: { rate: 20/s }
            charges:
              - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
        customers:
          - { id: acme, plan: smooth }
        events:
          - { id: a1, customer: acme, metric: api_calls, at: 2026-05-01T00:00:00.000Z }
          - { id: a2, customer: acme, metric: api_calls, at: 2026-05-01T00:00:00.049Z }
          - { id: a3, customer: acme, metric: api_calls, at: 2026-05-01T00:00:00.050Z }
          - { id: a4, customer: acme, metric: api_calls, at: 2026-05-01T00:00:00.099Z }
          - { id: a5, customer: acme, metric: api_calls, at: 2026-05-01T00:00:00.100Z }
          - { id: x1, customer: initech, metric: api_calls, at: 2026-05-01T00:00:02.000Z }
        """

    @Test("each refusal is a row at its stream position, and the run's count of them is checked")
    func refusalsAreRecorded() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("refusals.db").path
        let run = try LedgerFixtures.record(Self.scenario, into: path)
        #expect(run.counts.received == 3 && run.counts.accepted == 3)
        let ledger = try Ledger(path: path)
        let counts = try ledger.counts()
        #expect(counts.events == 3 && counts.rejections == 0 && counts.deadLetters == 0 && counts.refusals == 3)
        #expect(try ledger.requireRun().refused == 3)
        #expect(try ledger.refusalsByReason() == ["spike_arrested": 2, "unknown_customer": 1])
        let rows = try ledger.queue.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT seq, request_id, customer, metric, requested_at, reason FROM refusals_view ORDER BY seq")
        }
        // 2026-05-01T00:00:00Z is 1777593600 s after the epoch.
        #expect(rows.map { $0["seq"] as Int64 } == [1, 3, 5])
        #expect(rows.map { $0["request_id"] as String } == ["a2", "a4", "x1"])
        #expect(rows.map { $0["customer"] as String } == ["acme", "acme", "initech"])
        #expect(rows.map { $0["requested_at"] as Int64 } == [1_777_593_600_049, 1_777_593_600_099, 1_777_593_602_000])
        #expect(rows.map { $0["reason"] as String } == ["spike_arrested", "spike_arrested", "unknown_customer"])
        // The accepted events keep their own stream positions.
        let seqs = try ledger.queue.read { try Int64.fetchAll($0, sql: "SELECT seq FROM events ORDER BY seq") }
        #expect(seqs == [0, 2, 4])

        let report = try Reconciliation.run(ledger, load: LedgerFixtures.terms)
        #expect(report.isClean)
        #expect(report.refusals == ["spike_arrested": 2, "unknown_customer": 1])

        // A refusal lost from the file breaks conservation, and reconcile says so.
        try ledger.queue.write { try $0.execute(sql: "DELETE FROM refusals WHERE seq = 3") }
        let broken = try Reconciliation.run(ledger, load: LedgerFixtures.terms)
        #expect(broken.problems == ["conservation: the gateway refused 3 requests, the ledger holds 2 refusals"])
    }

    @Test("recording the same run again stores each refusal once")
    func reRecordingStoresRefusalsOnce() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("again.db").path
        try LedgerFixtures.record(Self.scenario, into: path)
        try LedgerFixtures.record(Self.scenario, into: path)
        #expect(try Ledger(path: path).counts().refusals == 3)
    }

    @Test("a ledger written before refusals were recorded still opens, and its run has no count of them")
    func ledgerBeforeRefusalsStillOpens() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("v2.db").path
        let old = try DatabaseQueue(path: path)
        try LedgerSchema.migrator.migrate(old, upTo: "v2 service requests: idempotency keys of tally-server's ingest")
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO runs (scenario, seed, scenario_sha256, scenario_yaml, scenario_file, tool_version,
                        clock_start, clock_end, planned_events, received, accepted, rejected, dead_lettered, completed)
                    VALUES ('old', '1', 'abc', '', 'old.yaml', '0.1', 0, 1, 0, 0, 0, 0, 0, 1)
                    """)
        }
        try old.close()
        let ledger = try Ledger(path: path)
        let run = try ledger.requireRun()
        #expect(run.scenario == "old" && run.completed && run.refused == nil)
        #expect(try ledger.counts().refusals == 0)
        #expect(try ledger.refusalsByReason().isEmpty)
    }
}
