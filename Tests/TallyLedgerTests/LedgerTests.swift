import Foundation
import GRDB
import TallyPipeline
import TallySandbox
import Testing

@testable import TallyLedger

@Suite("Ledger")
struct LedgerTests {
    @Test func sha256MatchesTheFIPSVectors() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // 56 bytes: the padding needs a second block.
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func recordsEveryEventOnceWithItsOutcome() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        let run = try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        // 1,000 api_calls accepted; 50 re-sends rejected; 10 malformed gb + 2 initech dead-lettered: 1,062 in.
        #expect(
            try ledger.counts()
                == LedgerCounts(
                    runs: 1, events: 1000, rejections: 50, deadLetters: 12, pendingDeadLetters: 12,
                    invoices: 2, invoiceLines: 4))
        #expect(run.counts.received == 1062)
        let invoices = try ledger.invoices()
        #expect(invoices == run.invoices.map(InvoiceRecord.init))
        // 500 x 0.01 = 5.00 each; gb: 0 x 0.10 = 0.00.
        #expect(invoices.map(\.customer) == ["acme", "globex"])
        #expect(invoices.map(\.total) == ["5.00", "5.00"])
        #expect(invoices.map { $0.lines.map(\.quantity) } == [["500", "0"], ["500", "0"]])
        let recorded = try ledger.requireRun()
        #expect(recorded.completed && recorded.received == 1062 && recorded.accepted == 1000)
        #expect(recorded.scenarioSHA256 == SHA256.hex(LedgerFixtures.scenario()))
        #expect(
            recorded.clockStart.iso8601 == "2026-01-01T00:00:00Z" && recorded.clockEnd.iso8601 == "2026-02-01T00:00:00Z"
        )
        #expect(try ledger.integrityCheck() == "ok")
        let journal = try ledger.queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")

        let letters = try ledger.deadLetters()
        #expect(
            Dictionary(grouping: letters, by: \.reason).mapValues(\.count) == [
                "schema_invalid": 10, "unknown_customer": 2,
            ])
        let initech = letters.filter { $0.reason == "unknown_customer" }
        #expect(initech.map(\.eventID) == ["x-1", "x-2"])
        #expect(initech.first?.detail == "customer 'initech' is not in the catalog")
        #expect(letters.filter { $0.payloadKind == "raw" }.count == 10)

        // Quantities are exact text, and properties round-trip through JSON with their quotes.
        let (quantityType, regions) = try ledger.queue.read { db in
            (
                try String.fetchOne(db, sql: "SELECT DISTINCT typeof(quantity) FROM events"),
                try String.fetchAll(db, sql: "SELECT DISTINCT properties FROM events ORDER BY 1")
            )
        }
        #expect(quantityType == "text")
        #expect(regions == [#"{"region":"eu \"west\""}"#, #"{"region":"us-east"}"#])
    }

    @Test func reRecordingStoresNothingTwice() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        let first = (try ledger.counts(), try ledger.invoices())
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path, batchSize: 7)
        #expect(try ledger.counts() == first.0)
        #expect(try ledger.invoices() == first.1)
    }

    @Test func aLedgerRefusesASecondScenario() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let other = LedgerFixtures.scenario(unitPrice: "0.02")
        #expect(throws: LedgerError.self) {
            try LedgerFixtures.recorder(other, into: path, create: false)
        }
    }

    @Test func openingAMissingOrBrokenFileIsAnError() throws {
        let folder = try LedgerFixtures.folder()
        #expect(throws: LedgerError.self) { try Ledger(path: folder.appendingPathComponent("missing.db").path) }
        let junk = folder.appendingPathComponent("junk.db")
        try Data("not a database, just text that is long enough to look like a header........".utf8).write(to: junk)
        #expect(throws: LedgerError.self) { try Ledger(path: junk.path) }
    }

    @Test func resumingAfterACrashCompletesTheRunIdentically() throws {
        let folder = try LedgerFixtures.folder()
        let clean = folder.appendingPathComponent("clean.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: clean)

        let crashed = folder.appendingPathComponent("crashed.db").path
        let yaml = LedgerFixtures.scenario()
        let scenario = try LedgerFixtures.load(yaml)
        // Batches of 100: the first 537 events leave 5 committed batches and 37 buffered rows that die with the process.
        let recorder = try LedgerFixtures.recorder(yaml, into: crashed, batchSize: 100)
        _ = try ScenarioRunner.run(scenario, observer: RecordingObserver(recorder: recorder, crashAfter: 537))
        // The 5 handed-over batches are committed by the writer thread; the 37 buffered rows never are.
        recorder.waitForWrites()
        let ledger = try Ledger(path: crashed)
        let partial = try ledger.counts()
        #expect(partial.events + partial.rejections + partial.deadLetters == 500)
        #expect(partial.invoices == 0)
        #expect(try ledger.requireRun().completed == false)
        // A batch whose transaction was open when the process died: SQLite rolls it back.
        struct Crash: Error {}
        #expect(throws: Crash.self) {
            try ledger.queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO events (event_id, tenant_no, seq, customer_no, metric_no, quantity, timestamp, source_no, received_at, flags, origin)
                        VALUES ('half-written', 0, 999999, 0, 0, '1', 0, 0, 0, 0, 0)
                        """)
                throw Crash()
            }
        }
        #expect(try ledger.counts() == partial)
        #expect(try ledger.integrityCheck() == "ok")

        try LedgerFixtures.record(yaml, into: crashed)
        let cleanLedger = try Ledger(path: clean)
        #expect(try ledger.counts() == cleanLedger.counts())
        #expect(try ledger.invoices() == cleanLedger.invoices())
        #expect(try Reconciliation.run(ledger, load: LedgerFixtures.terms).isClean)
    }

    @Test func replayingDeadLettersAcceptsEachOnce() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        let fixed = LedgerFixtures.scenario(withInitech: true)

        let first = try DeadLetterReplay.replay(ledger, fixedYAML: fixed, load: LedgerFixtures.terms)
        // The 2 initech events are accepted; the 10 malformed gb events stay dead.
        #expect(first.tried == 12 && first.accepted == 2 && first.stillDead == [.schemaInvalid: 10] && first.rebilled)
        let afterFirst = (try ledger.counts(), try ledger.invoices())
        #expect(
            afterFirst.0
                == LedgerCounts(
                    runs: 1, events: 1002, rejections: 50, deadLetters: 12, pendingDeadLetters: 10,
                    invoices: 3, invoiceLines: 6))
        // initech: 2 x 0.01 = 0.02; acme and globex unchanged at 5.00.
        #expect(afterFirst.1.map(\.total) == ["5.00", "5.00", "0.02"])
        #expect(afterFirst.1.last?.customer == "initech")

        let second = try DeadLetterReplay.replay(ledger, fixedYAML: fixed, load: LedgerFixtures.terms)
        #expect(second.tried == 10 && second.accepted == 0 && !second.rebilled)
        #expect(try ledger.counts() == afterFirst.0)
        #expect(try ledger.invoices() == afterFirst.1)
        // The ledger's events now bill exactly the re-billed invoices.
        #expect(try Reconciliation.run(ledger, load: LedgerFixtures.terms).isClean)
        // Re-recording the run after the replay still stores nothing twice.
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        #expect(try ledger.counts() == afterFirst.0)
    }

    @Test func reratingUnderItsOwnCatalogChangesNothing() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let report = try Rerating.run(
            try Ledger(path: path), plansYAML: LedgerFixtures.scenario(), file: "same.yaml", load: LedgerFixtures.terms,
            loadPlans: LedgerFixtures.plans)
        #expect(report.lines.map(\.customer) == ["acme", "globex"])
        #expect(report.lines.allSatisfy { $0.difference.isZero })
        #expect(report.total.difference.isZero && report.total.old == ExactDecimal(10))
    }

    @Test func reratingUnderAChangedPriceGivesTheHandComputedDifference() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let report = try Rerating.run(
            try Ledger(path: path), plansYAML: LedgerFixtures.scenario(unitPrice: "0.015"), file: "dearer.yaml",
            load: LedgerFixtures.terms, loadPlans: LedgerFixtures.plans)
        // Each: 500 x 0.015 = 7.50 new, 500 x 0.01 = 5.00 old, difference 2.50; total 15.00 - 10.00 = 5.00.
        let usd = try #require(Currency(code: "USD"))
        #expect(report.lines.map { usd.format($0.new) } == ["7.50", "7.50"])
        #expect(report.lines.map { usd.format($0.difference) } == ["2.50", "2.50"])
        #expect(usd.format(report.total.difference) == "5.00")
        #expect(report.notAccepted.isEmpty)
    }

    @Test func reconcileFindsAnEditedInvoiceLine() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        #expect(try Reconciliation.run(ledger, load: LedgerFixtures.terms).isClean)
        try ledger.queue.write { db in
            try db.execute(
                sql: """
                    UPDATE invoice_lines SET quantity = '499'
                    WHERE metric = 'api_calls' AND invoice_id = (SELECT id FROM invoices WHERE customer = 'globex')
                    """)
        }
        let report = try Reconciliation.run(ledger, load: LedgerFixtures.terms)
        // globex's 500 events against an invoiced 499: 500 - 499 = 1.
        #expect(
            report.differences.map {
                "\($0.customer) \($0.metric) \($0.period) \($0.invoiced) \($0.recomputed) \($0.difference)"
            }
                == ["globex api_calls 0 499 500 1"])
    }
}
