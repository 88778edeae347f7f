import Foundation
import GRDB
import TallyPipeline
import Testing

@testable import TallyLedger

@Suite("Ledger: a service's journal")
struct LedgerJournalTests {
    static let received = Instant(millisecondsSinceEpoch: 1_767_225_600_000)  // 2026-01-01T00:00:00Z

    static func event(_ id: String, _ quantity: Int = 1, properties: EventProperties = [:]) -> Event {
        Event(
            id: id, tenant: "acme@test", customer: "cust-1", metric: "api_calls", quantity: ExactDecimal(quantity),
            timestamp: Instant(millisecondsSinceEpoch: 1_767_225_000_000), source: "kong", properties: properties)
    }

    static func accepted(_ event: Event, late: Bool = false) -> JournalEntry {
        JournalEntry(
            eventID: event.id, payload: .event(event), receivedAt: received,
            outcome: .accepted(Acceptance(late: late, overSoftLimit: false, period: 0)))
    }

    /// Five entries in two commits: two accepted (one with properties, one late), a duplicate of the first, a raw
    /// dead letter, then the first id accepted again (as a meter does once its dedup window forgot it).
    static let entries: [[JournalEntry]] = [
        [
            accepted(event("e-1")),
            accepted(event("e-2", 7, properties: ["region": "eu \"west\""]), late: true),
            JournalEntry(
                eventID: "e-1", payload: .event(event("e-1")), receivedAt: received, outcome: .rejected(.duplicate)),
            JournalEntry(
                eventID: "", payload: .raw("{not json"), receivedAt: received, outcome: .deadLettered(.schemaInvalid),
                detail: "expected a JSON object"),
        ],
        [accepted(event("e-1", 3))],
    ]

    static func count(_ table: String, _ ledger: Ledger) throws -> Int {
        try ledger.queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    @Test("each entry is stored once at the next seq, accepted ones appended to service_events, and read back as sent")
    func entriesRoundTrip() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("journal.db").path
        do {
            let journal = try LedgerJournal(ledger: try Ledger(path: path, create: true))
            for commit in Self.entries { try journal.append(commit) }
            #expect(journal.nextSeq == 5)
        }
        // Reopened, as a restarted service does: it continues after the last entry.
        let ledger = try Ledger(path: path)
        let journal = try LedgerJournal(ledger: ledger)
        #expect(journal.nextSeq == 5)
        var read: [JournalEntry] = []
        try journal.forEachEntry { read.append($0) }
        #expect(read == Self.entries.flatMap { $0 })
        // 3 accepted (e-1 twice: the ledger does not judge duplicates, the meter did), 1 rejection, 1 dead letter.
        #expect(try Self.count("service_events", ledger) == 3)
        #expect(try Self.count("events", ledger) == 0)
        #expect(try Self.count("rejections", ledger) == 1)
        #expect(try Self.count("dead_letters", ledger) == 1)
        #expect(try ledger.counts().events == 3)
        let seqs = try ledger.queue.read {
            try Int64.fetchAll($0, sql: "SELECT seq FROM service_events ORDER BY rowid")
        }
        #expect(seqs == [0, 1, 4])
        let shown = try ledger.queue.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT seq || ' ' || event_id || ' ' || customer || ' ' || quantity || ' ' || late || ' ' || origin
                    FROM events_view ORDER BY seq
                    """)
        }
        #expect(shown == ["0 e-1 cust-1 1 0 stream", "1 e-2 cust-1 7 1 stream", "4 e-1 cust-1 3 0 stream"])
    }

    @Test("a failed commit stores nothing and uses up no seq")
    func failedCommitStoresNothing() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("failed.db").path
        let ledger = try Ledger(path: path, create: true)
        let journal = try LedgerJournal(ledger: ledger)
        try journal.append(Self.entries[0])
        // Another writer took seq 4 behind the journal's back: the commit fails as a whole.
        try ledger.queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO service_events (seq, tenant_no, event_id, customer_no, metric_no, quantity, timestamp,
                        source_no, received_at, flags) VALUES (4, 0, 'other', 0, 0, '1', 0, 0, 0, 0)
                    """)
        }
        #expect(throws: LedgerError.self) { try journal.append(Self.entries[1]) }
        #expect(journal.nextSeq == 4)
        #expect(try Self.count("service_events", ledger) == 3)
    }

    @Test("a ledger a service wrote before migration v5 opens: its events are read in seq order with the new ones")
    func ledgerBeforeServiceEventsStillOpens() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("v4.db").path
        let old = try DatabaseQueue(path: path)
        try LedgerSchema.migrator.migrate(
            old, upTo: "v4 service requests: when each was answered, for the idempotency window")
        // As the service wrote it then: accepted events in events (keyed by id, so "z-0" sorts after "a-2"),
        // a duplicate in rejections, at seq 0, 1, 2.
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tenants VALUES (0, 'acme@test');
                    INSERT INTO customers VALUES (0, 'cust-1');
                    INSERT INTO metrics VALUES (0, 'api_calls');
                    INSERT INTO sources VALUES (0, 'kong');
                    INSERT INTO events (event_id, tenant_no, seq, customer_no, metric_no, quantity, timestamp, source_no,
                        received_at, period, flags, origin)
                    VALUES ('z-0', 0, 0, 0, 0, '1', 1767225000000, 0, 1767225600000, 0, 0, 0),
                           ('a-2', 0, 2, 0, 0, '2', 1767225000000, 0, 1767225600000, 0, 0, 0);
                    INSERT INTO rejections (seq, tenant_no, event_id, reason, customer_no, metric_no, quantity, timestamp,
                        source_no, received_at)
                    VALUES (1, 0, 'z-0', 'duplicate', 0, 0, '1', 1767225000000, 0, 1767225600000);
                    """)
        }
        try old.close()
        let ledger = try Ledger(path: path)
        let journal = try LedgerJournal(ledger: ledger)
        #expect(journal.nextSeq == 3)
        try journal.append([Self.accepted(Self.event("n-3", 4))])
        var read: [(String, String)] = []
        try journal.forEachEntry { entry in
            let outcome =
                switch entry.outcome {
                case .accepted: "accepted"
                case .rejected(let reason), .deadLettered(let reason): reason.rawValue
                }
            read.append((entry.eventID, outcome))
        }
        #expect(read.map { "\($0.0) \($0.1)" } == ["z-0 accepted", "z-0 duplicate", "a-2 accepted", "n-3 accepted"])
        #expect(try ledger.counts().events == 3)
        let viewed = try ledger.queue.read {
            try String.fetchAll($0, sql: "SELECT event_id FROM events_view ORDER BY seq")
        }
        #expect(viewed == ["z-0", "a-2", "n-3"])
    }
}
