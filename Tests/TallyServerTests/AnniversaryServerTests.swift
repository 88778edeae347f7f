import Foundation
import TallyServer
import Testing

/// The service on a catalog with a calendar and an anniversary customer: "period N" is each customer's own.
///
/// The catalog is `Scenarios/subscription-anniversary-periods.yaml`, whose header works every figure by
/// hand: 2 monthly periods from Jan 1, 2026; plan pro = 20.00 a month + 0.10 a call, hard quota 2 calls a
/// period. calendar-co has P0 Jan 1 - Feb 1 and P1 Feb 1 - Mar 1; anniv-co, from Jan 20, has
/// P0 Jan 20 - Feb 20 and P1 Feb 20 - Mar 20. The events are the scenario's, sent over HTTP with the
/// received-at `tally run` gives them (their timestamps), so the invoices must be its golden file's bytes.
@Suite(.serialized) struct AnniversaryServerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let scenario = "subscription-anniversary-periods"

    let folder: URL
    init() throws { folder = try ServerFixtures.folder() }

    func start() async throws -> RunningServer {
        let url = Self.root.appendingPathComponent("Scenarios/\(Self.scenario).yaml")
        let catalog = try CatalogFile.load(yaml: String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
        let keys = try KeyStore.load(
            yaml: "keys:\n" + KeyStore.fileEntry(id: "t", tenant: "default", mode: .test, key: ServerFixtures.testKey),
            file: "keys.yaml")
        return try await RunningServer.start(ledgerPath: folder.appendingPathComponent("ledger.sqlite").path) {
            $0.catalogs = [catalog]
            $0.keys = keys
        }
    }

    /// Sends the scenario's events `(id, customer, timestamp)` in one batch, each received at its timestamp
    /// as the scenario's `events:` are.
    static func send(
        _ events: [(String, String, String)], to server: RunningServer
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        let lines = events.map { id, customer, at in
            ServerFixtures.event(id, tenant: "default", customer: customer, at: at, receivedAt: at)
        }
        return try await server.call("POST", "/v1/ingest/batch", body: ServerFixtures.batch(lines))
    }

    @Test func periodsPreviewAndQuotasFollowEachCustomersOwnPeriods() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let first = try await Self.send(
            [
                ("a1", "anniv-co", "2026-01-19T23:59:59Z"), ("c1", "calendar-co", "2026-01-25T10:00:00Z"),
                ("a2", "anniv-co", "2026-01-25T12:00:00Z"), ("c2", "calendar-co", "2026-02-05T10:00:00Z"),
                ("a3", "anniv-co", "2026-02-05T12:00:00Z"),
            ], to: server)
        #expect(first.status == 202)
        #expect(first.body.json("accepted") == "5")
        // a1 is before anniv-co's start (Jan 20): accepted, in no period of its own.
        #expect(first.body.json("results.0.outcome") == "accepted")
        #expect(first.body.json("results.0.period") == nil)
        #expect(first.body.json("results.1.period") == "0")  // c1, Jan 25: January
        #expect(first.body.json("results.2.period") == "0")  // a2, Jan 25: Jan 20 - Feb 20
        #expect(first.body.json("results.3.period") == "1")  // c2, Feb 5: February
        #expect(first.body.json("results.4.period") == "0")  // a3, Feb 5: still Jan 20 - Feb 20

        // The book's clock is the last received-at, Feb 5 12:00: anniv-co's current period is its own P0,
        // a2 and a3: 20 + 2 x 0.10 = 20.20; calendar-co's is February, c2: 20 + 0.10 = 20.10.
        let anniversary = try await server.call("GET", "/v1/invoices/preview?customer=anniv-co")
        #expect(anniversary.status == 200)
        #expect(anniversary.body.json("invoices.0.number") == "INV-20260120-000002")
        #expect(anniversary.body.json("invoices.0.period.start") == "2026-01-20T00:00:00Z")
        #expect(anniversary.body.json("invoices.0.period.end") == "2026-02-20T00:00:00Z")
        #expect(anniversary.body.json("invoices.0.total") == "20.20")
        #expect(anniversary.body.json("invoices.1") == nil)
        let calendar = try await server.call("GET", "/v1/invoices/preview?customer=calendar-co")
        #expect(calendar.body.json("invoices.0.number") == "INV-20260201-000001")
        #expect(calendar.body.json("invoices.0.total") == "20.10")

        // Quotas count per own period: on Jan 30 anniv-co has used 2 of 2 (a2, a3), calendar-co 1 of 2 (c1).
        for (customer, status, used, reason) in [
            ("anniv-co", 429, "2", "quota_exceeded"), ("calendar-co", 200, "1", "within_quota"),
        ] {
            let access = try await server.call(
                "POST", "/v1/canAccess",
                body: #"{"customer_id":"\#(customer)","metric":"api_calls","at":"2026-01-30T00:00:00Z"}"#)
            #expect(access.status == status)
            #expect(access.body.json("used") == used)
            #expect(access.body.json("reason") == reason)
        }

        let second = try await Self.send(
            [
                ("a4", "anniv-co", "2026-02-19T23:59:59Z"), ("a5", "anniv-co", "2026-02-20T00:00:00Z"),
                ("a6", "anniv-co", "2026-03-10T10:00:00Z"),
            ], to: server)
        // a4 is the third call of anniv-co's P0: over the hard quota of 2. a5 opens its P1 (on the
        // boundary), and a6 (Mar 10) is in P1 too, though the run's schedule ends Mar 1.
        #expect(second.body.json("results.0.reason") == "quota_exceeded")
        #expect(second.body.json("results.1.period") == "1")
        #expect(second.body.json("results.2.period") == "1")

        // Now is Mar 10 10:00: anniv-co's P1, a5 and a6: 20 + 2 x 0.10 = 20.20; calendar-co has no period then.
        let later = try await server.call("GET", "/v1/invoices/preview?customer=anniv-co")
        #expect(later.body.json("invoices.0.number") == "INV-20260220-000002")
        #expect(later.body.json("invoices.0.total") == "20.20")
        let none = try await server.call("GET", "/v1/invoices/preview?customer=calendar-co")
        #expect(none.status == 404)
        #expect(
            none.body.json("error.message")
                == "no billing period of customer 'calendar-co' contains 2026-03-10T10:00:00Z (its periods run from "
                + "2026-01-01T00:00:00Z to 2026-03-01T00:00:00Z)")

        // Period N is each customer's own N-th, in the document's order (by the end of the period covered).
        let periodZero = try await server.call("GET", "/v1/invoices?period=0")
        #expect(periodZero.body.json("invoices.0.number") == "INV-20260101-000001")
        #expect(periodZero.body.json("invoices.0.total") == "20.10")  // c1: 20 + 0.10
        #expect(periodZero.body.json("invoices.1.number") == "INV-20260120-000002")
        #expect(periodZero.body.json("invoices.1.total") == "20.20")  // a2, a3: 20 + 0.20
        #expect(periodZero.body.json("invoices.2") == nil)
        let periodOne = try await server.call("GET", "/v1/invoices?period=1")
        #expect(periodOne.body.json("invoices.0.number") == "INV-20260201-000001")
        #expect(periodOne.body.json("invoices.0.total") == "20.10")  // c2: 20 + 0.10
        #expect(periodOne.body.json("invoices.1.number") == "INV-20260220-000002")
        #expect(periodOne.body.json("invoices.1.total") == "20.20")  // a5, a6: 20 + 0.20
        #expect(periodOne.body.json("invoices.2") == nil)
        let beyond = try await server.call("GET", "/v1/invoices?period=2")
        #expect(beyond.status == 404)
        #expect(beyond.body.json("error.field") == "period")

        // Every invoice, ordered by the end of its period: Feb 1, Feb 20, Mar 1, Mar 20; the very bytes
        // `tally run` writes for the same events (ScenarioGoldenTests holds it to this golden file).
        let all = try await server.call("GET", "/v1/invoices")
        #expect(
            (0..<4).map { all.body.json("invoices.\($0).number") } == [
                "INV-20260101-000001", "INV-20260120-000002", "INV-20260201-000001", "INV-20260220-000002",
            ])
        let golden = try String(
            contentsOf: Self.root.appendingPathComponent("Fixtures/\(Self.scenario)/invoices.json"), encoding: .utf8)
        #expect(all.body == golden)
    }
}
