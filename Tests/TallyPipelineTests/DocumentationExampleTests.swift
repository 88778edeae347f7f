import TallyPipeline
import Testing

/// The example of the DocC article "Following an event from the gateway to the invoice"
/// (Sources/TallyPipeline/TallyPipeline.docc/FollowingAnEvent.md), run as written, through the
/// public API only, so the article cannot drift from what the library does.
@Suite("Documentation: the overview article's example")
struct DocumentationExampleTests {
    @Test func oneEventFromTheGatewayToTheInvoice() throws {
        let calls = Metric(key: "api_calls", aggregation: .count)
        let starter = Plan(
            id: "starter",
            charges: [
                Charge(name: "Base fee", metric: nil, model: .flat(amount: 49)),
                Charge(
                    name: "API calls", metric: "api_calls",
                    model: .graduated([
                        Tier(upTo: 1000, unitPrice: 0),
                        Tier(upTo: nil, unitPrice: try #require(ExactDecimal("0.002"))),
                    ])),
            ])
        let catalog = try Catalog(
            currency: try #require(Currency(code: "USD")), metrics: [calls], plans: [starter],
            customers: [Customer(id: "acme", plan: "starter")])
        let schedule = PeriodSchedule(start: try Instant(iso8601: "2026-01-01T00:00:00Z"), count: 1)

        var meter = Meter(catalog: catalog, schedule: schedule)
        let event = Event(
            id: "evt-0001", tenant: "weather-co", customer: "acme", metric: "api_calls",
            quantity: 1, timestamp: try Instant(iso8601: "2026-01-05T10:00:00Z"), source: "kong")
        let outcome = meter.ingest(event, receivedAt: try Instant(iso8601: "2026-01-05T10:00:02Z"))
        guard case .accepted(let acceptance) = outcome else {
            Issue.record("expected the event to be accepted, got \(outcome)")
            return
        }
        #expect(!acceptance.late && !acceptance.overSoftLimit && acceptance.period == 0)
        // A retry of the same report is a duplicate, counted and never billed.
        #expect(meter.ingest(event, receivedAt: try Instant(iso8601: "2026-01-05T10:00:03Z")) == .rejected(.duplicate))

        // acme's other 1,499 calls of January, a minute apart from 10:01 on 5 January.
        for n in 2...1500 {
            let at = try Instant(iso8601: "2026-01-05T10:00:00Z") + .minutes(Int64(n - 1))
            let call = Event(
                id: "evt-\(n)", tenant: "weather-co", customer: "acme", metric: "api_calls",
                quantity: 1, timestamp: at, source: "kong")
            #expect(meter.ingest(call, receivedAt: at + .seconds(2)).reason == nil)
        }
        // 1,500 accepted + 1 duplicate = 1,501 received.
        #expect(meter.counts.received == 1501)
        #expect(meter.counts.accepted == 1500)
        #expect(meter.counts.count(.duplicate) == 1)
        #expect(meter.counts.isBalanced)
        #expect(try meter.usage.quantity(customer: "acme", metric: "api_calls", period: 0) == 1500)

        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: meter.usage)
        #expect(invoices.count == 1)
        let january = invoices[0]
        #expect(january.number == "INV-20260101-000001")
        // Base fee: the whole period, so 49.00 unprorated.
        #expect(january.lines[0].amount == 49)
        // API calls: tier 1, 1,000 x 0 = 0; tier 2, 500 x 0.002 = 1.000 -> 1.00.
        #expect(january.lines[1].quantity == 1500)
        #expect(january.lines[1].amount == 1)
        // 49.00 + 1.00 = 50.00; no discount, tax or credit.
        #expect(january.subtotal == 50)
        #expect(january.total == 50)
        #expect(january.amountDue == 50)
        #expect(january.destination == .card)
    }
}
