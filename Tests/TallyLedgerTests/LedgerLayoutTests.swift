import Foundation
import GRDB
import TallyPipeline
import Testing

@testable import TallyLedger

/// The table layout itself: names stored once, whole events in rejections, the view, and the README's queries.
@Suite("Ledger layout")
struct LedgerLayoutTests {
    /// The README's three example queries, word for word but for the invoice number.
    static let usagePerCustomerPerDay = """
        SELECT customer, metric, date(timestamp / 1000, 'unixepoch') AS day,
               count(*) AS events, total(quantity) AS approx_quantity
        FROM events_view GROUP BY customer, metric, day ORDER BY customer, metric, day;
        """
    static let outcomesByReason = """
        SELECT 'rejected' AS outcome, reason, count(*) AS events FROM rejections GROUP BY reason
        UNION ALL
        SELECT 'dead_lettered', reason, count(*) FROM dead_letters GROUP BY reason
        ORDER BY events DESC;
        """
    static func eventsBehindLine(_ number: String) -> String {
        """
        SELECT e.seq, e.event_id, e.quantity, strftime('%Y-%m-%dT%H:%M:%fZ', e.timestamp / 1000.0, 'unixepoch') AS at
        FROM invoices i
        JOIN invoice_lines l ON l.invoice_id = i.id
        JOIN events_view e ON e.customer = i.customer AND e.metric = l.metric AND e.period = i.period_index
        WHERE i.number = '\(number)' AND l.position = 0
        ORDER BY e.timestamp, e.event_id;
        """
    }

    @Test func namesAreStoredOnceAndTheViewGivesThemBack() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        try ledger.queue.read { db in
            // Only accepted and rejected events name a tenant, customer, metric or source: the 10 malformed gb
            // events and the 2 initech events are dead letters, kept as their payload.
            #expect(try String.fetchAll(db, sql: "SELECT name FROM tenants ORDER BY no") == ["default"])
            #expect(try String.fetchAll(db, sql: "SELECT name FROM customers ORDER BY name") == ["acme", "globex"])
            #expect(try String.fetchAll(db, sql: "SELECT name FROM metrics ORDER BY no") == ["api_calls"])
            #expect(try String.fetchAll(db, sql: "SELECT name FROM sources ORDER BY no") == ["kong"])
            // 500 api_calls each, all from the stream, none late or over a soft limit.
            let perCustomer = try Row.fetchAll(
                db,
                sql: """
                    SELECT customer, metric, source, origin, count(*) AS n, sum(late) AS late, sum(over_soft_limit) AS over
                    FROM events_view GROUP BY customer, metric, source, origin ORDER BY customer
                    """
            ).map {
                "\($0["customer"] as String) \($0["metric"] as String) \($0["source"] as String) \($0["origin"] as String) \($0["n"] as Int) \($0["late"] as Int) \($0["over"] as Int)"
            }
            #expect(perCustomer == ["acme api_calls kong stream 500 0 0", "globex api_calls kong stream 500 0 0"])
            // The 50 rejected re-sends: each names the tenant and id of the first copy, which is in events.
            #expect(
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM rejections WHERE reason = 'duplicate' AND timestamp IS NOT NULL")
                    == 50)
            #expect(
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM rejections r JOIN events e ON e.event_id = r.event_id AND e.tenant_no = r.tenant_no
                        """) == 50)
            // A re-send is the same event, so the rejection keeps the whole of it: every column
            // equals its first copy's (properties are NULL on both: the scenario sets none).
            #expect(
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM rejections r JOIN events e ON e.event_id = r.event_id AND e.tenant_no = r.tenant_no
                        WHERE r.customer_no = e.customer_no AND r.metric_no = e.metric_no AND r.quantity = e.quantity
                          AND r.timestamp = e.timestamp AND r.source_no = e.source_no AND r.properties IS e.properties AND r.raw IS NULL
                        """) == 50)
        }
    }

    @Test func theReadmeQueriesGiveTheHandComputedFigures() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        let number = try #require(try ledger.invoices().first?.number)
        #expect(number == "INV-20260101-000001")
        try ledger.queue.read { db in
            // 1,000 api_calls of quantity 1 over January, 500 per customer.
            let usage = try Row.fetchAll(db, sql: Self.usagePerCustomerPerDay)
            #expect(usage.map { $0["events"] as Int }.reduce(0, +) == 1000)
            #expect(Set(usage.map { $0["customer"] as String }) == ["acme", "globex"])
            #expect(usage.allSatisfy { ($0["day"] as String).hasPrefix("2026-01-") })
            // 50 duplicates rejected; 10 malformed + 2 initech dead-lettered.
            let outcomes = try Row.fetchAll(db, sql: Self.outcomesByReason).map {
                "\($0["outcome"] as String) \($0["reason"] as String) \($0["events"] as Int)"
            }
            #expect(
                outcomes == [
                    "rejected duplicate 50", "dead_lettered schema_invalid 10", "dead_lettered unknown_customer 2",
                ])
            // acme's API calls line (position 0) is its 500 events.
            let behind = try Row.fetchAll(db, sql: Self.eventsBehindLine(number))
            #expect(behind.count == 500)
            #expect(behind.allSatisfy { ($0["quantity"] as String) == "1" })
        }
    }

    @Test func aReplayAddsTheNewCustomerToTheNamesAndARecordingKeepsItsNumber() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("a.db").path
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path)
        let ledger = try Ledger(path: path)
        _ = try DeadLetterReplay.replay(
            ledger, fixedYAML: LedgerFixtures.scenario(withInitech: true), load: LedgerFixtures.terms)
        try LedgerFixtures.record(LedgerFixtures.scenario(), into: path, batchSize: 7)
        try ledger.queue.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") == 3)
            let initech = try Row.fetchAll(
                db, sql: "SELECT event_id, origin FROM events_view WHERE customer = 'initech' ORDER BY event_id"
            )
            .map { "\($0["event_id"] as String) \($0["origin"] as String)" }
            #expect(initech == ["x-1 replay", "x-2 replay"])
        }
    }

    @Test func quantitiesAreWrittenAsTheirCanonicalText() throws {
        let values = [
            "0", "1", "-7", "9223372036854775807", "-9223372036854775808", "100000000000000000000", "1.50", "0.001",
            "-2.5", "12.000",
        ]
        var batch = LedgerBatch(origin: 0)
        for text in values {
            let value = try ExactDecimal(parsing: text)
            let span = batch.appendQuantity(value)
            let written = String(decoding: batch.text[span.start..<span.start + span.count], as: UTF8.self)
            #expect(written == value.description, "\(text)")
        }
    }

    @Test func aPreReleaseLedgerIsRefusedWithAMessage() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("old.db").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES (?)", arguments: [LedgerSchema.preReleaseV1])
        }
        try queue.close()
        #expect {
            try Ledger(path: path)
        } throws: { error in
            (error as? LedgerError)?.message.contains("pre-release layout") == true
        }
    }
}
