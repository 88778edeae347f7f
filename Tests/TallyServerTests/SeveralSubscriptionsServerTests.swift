import Foundation
import TallyServer
import Testing

@Suite("tally-server serves customers with several subscriptions")
struct SeveralSubscriptionsServerTests {
    /// Tenant acme-co: acme holds api (0.01 a call) from the start and support (31 a month) from Jan 17.
    static let catalog = """
        name: server-subscriptions
        tenant: acme-co
        start: 2026-01-01T00:00:00Z
        periods: 2
        currency: USD
        metrics:
          - { key: api_calls, aggregation: count }
        plans:
          - { id: api, charges: [{ name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }] }
          - { id: support, charges: [{ name: Support, model: flat, amount: 31 }] }
        customers:
          - id: acme
            subscriptions:
              - { id: api, plan: api }
              - { id: help, plan: support, start: 2026-01-17T00:00:00Z }
        """

    @Test func oneInvoiceHoldsEverySubscriptionsLines() async throws {
        let folder = try ServerFixtures.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = try CatalogFile.load(yaml: Self.catalog, file: "subscriptions.yaml")
        let server = try await RunningServer.start(ledgerPath: folder.appendingPathComponent("l.sqlite").path) {
            $0.catalogs = [catalog]
        }
        defer { Task { await server.stop() } }
        let sent = try await server.call(
            "POST", "/v1/ingest/batch",
            body: ServerFixtures.batch(["e1", "e2", "e3"].map { ServerFixtures.event($0) }))
        #expect(sent.body.json("accepted") == "3")
        // January: API calls 3 x 0.01 = 0.03 (api); Support 31 x 15/31 = 15.00 (help, Jan 17 - Feb 1). 15.03.
        let invoices = try await server.call("GET", "/v1/invoices?period=0")
        #expect(invoices.body.json("invoices.0.lines.0.subscription") == "api")
        #expect(invoices.body.json("invoices.0.lines.1.subscription") == "help")
        #expect(invoices.body.json("invoices.0.lines.1.amount") == "15.00")
        #expect(invoices.body.json("invoices.0.amount_due") == "15.03")
        #expect(invoices.body.json("invoices.1") == nil)
    }
}
