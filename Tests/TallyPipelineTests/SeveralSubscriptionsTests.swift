import Testing

@testable import TallyPipeline

@Suite("A customer with several subscriptions: each product on its own plan, one invoice per period")
struct SeveralSubscriptionsTests {
    /// api: 20 a month and 0.01 a call; api-pro: 62 a month and 0.005 a call; support: 31 a month and 2.00 a ticket.
    func plans(apiMinimum: ExactDecimal? = nil) throws -> [Plan] {
        [
            Plan(
                id: "api",
                charges: [
                    Charge(name: "API base", metric: nil, model: .flat(amount: 20)),
                    Charge(name: "API calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01"))),
                ], minimumCommitment: apiMinimum),
            Plan(
                id: "api-pro",
                charges: [
                    Charge(name: "API base", metric: nil, model: .flat(amount: 62)),
                    Charge(name: "API calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.005"))),
                ]),
            Plan(
                id: "support",
                charges: [
                    Charge(name: "Support", metric: nil, model: .flat(amount: 31)),
                    Charge(name: "Tickets", metric: "tickets", model: .perUnit(unitPrice: 2)),
                ]),
        ]
    }

    let metrics = [callsMetric, Metric(key: "tickets", aggregation: .count)]

    func subscription(
        _ id: String, _ plan: String, start: String? = nil, end: String? = nil, changes: [(String, String)] = []
    ) throws -> Subscription {
        var subscription = Subscription(
            id: id, plan: plan, start: try start.map(instant), end: try end.map(instant))
        subscription.changes = try changes.map { PlanChange(at: try instant($0.0), plan: $0.1) }
        return subscription
    }

    func bill(
        _ customer: Customer, plans: [Plan]? = nil, discounts: [Discount] = [], taxes: [TaxRate] = [],
        events: (inout UsageBuilder) throws -> Void
    ) throws -> [Invoice] {
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: metrics, plans: try plans ?? self.plans(), customers: [customer],
            discounts: discounts, taxRates: taxes)
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try events(&builder)
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    @Test func twoProductsOnOneInvoiceEachRatingItsOwnMetricsAndDays() throws {
        // January, 31 days. api from Jan 1, support from Jan 17 (15 days: Jan 17 to Feb 1).
        // 1,000 calls on Jan 5; a ticket on Jan 10 (before support starts: on no invoice), 3 on Jan 20.
        //   API base 20.00; API calls 1,000 x 0.01 = 10.00; Support 31 x 15/31 = 15.00; Tickets 3 x 2 = 6.00.
        //   Total 51.00, one invoice.
        let customer = Customer(
            id: "c",
            subscriptions: [try subscription("api", "api"), try subscription("help", "support", start: "2026-01-17")])
        let invoices = try bill(customer) { usage in
            try usage.add("c", "calls", count: 1000, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "tickets", at: "2026-01-10T08:00:00Z")
            try usage.add("c", "tickets", count: 3, at: "2026-01-20T08:00:00Z")
        }
        #expect(invoices.count == 1)
        #expect(invoices[0].lines.map(\.name) == ["API base", "API calls", "Support", "Tickets"])
        #expect(invoices[0].lines.map(\.amount) == [20, 10, 15, 6])
        #expect(invoices[0].lines.map(\.subscription) == [0, 0, 1, 1])
        #expect(invoices[0].total == 51)
        #expect(invoices[0].number == "INV-20260101-000001")
    }

    @Test func usageOfAMetricOutsideTheDatesOfTheSubscriptionPricingItIsCountedOutside() throws {
        // help (support, pricing tickets) from Jan 17 to Jan 25; api (pricing calls) from the start. acme's time
        // runs from the start, so every event is accepted; a ticket counts (has a period) only on help's dates,
        // a call on api's, and a metric no subscription prices (unpriced) on the customer's.
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: metrics + [Metric(key: "unpriced", aggregation: .count)],
            plans: try plans(),
            customers: [
                Customer(
                    id: "acme",
                    subscriptions: [
                        try subscription("api", "api"),
                        try subscription("help", "support", start: "2026-01-17", end: "2026-01-25"),
                    ])
            ])
        var meter = Meter(catalog: catalog, schedule: try months(1))
        var sent = 0
        func period(_ metric: String, _ at: String) throws -> Int? {
            sent += 1
            let timestamp = try instant(at)
            let event = Event(
                id: "e\(sent)", tenant: "t1", customer: "acme", metric: metric, quantity: 1, timestamp: timestamp,
                source: "sdk")
            guard case .accepted(let acceptance) = meter.ingest(event, receivedAt: timestamp) else {
                Issue.record("event \(sent) was not accepted")
                return nil
            }
            return acceptance.period
        }
        #expect(try period("tickets", "2026-01-10T08:00:00Z") == nil)
        #expect(try period("tickets", "2026-01-20T08:00:00Z") == 0)
        #expect(try period("tickets", "2026-01-26T08:00:00Z") == nil)
        #expect(try period("calls", "2026-01-10T08:00:00Z") == 0)
        #expect(try period("unpriced", "2026-01-10T08:00:00Z") == 0)
    }

    @Test func anUpgradeInOneSubscriptionSplitsOnlyItsOwnUsage() throws {
        // api upgraded to api-pro on Jan 11 (62 >= 20: at once), 10 of 31 days in; support all month.
        // 1,000 calls on Jan 5 (api's), 2,000 on Jan 20 (api-pro's):
        //   API base on api until Jan 11: 20 x 10/31 = 6.4516 -> 6.45; its calls 1,000 x 0.01 = 10.00;
        //   API base 62 x 21/31 = 42.00; API calls 2,000 x 0.005 = 10.00; Support 31.00; Tickets 0.00.
        //   Total 6.45 + 10 + 42 + 10 + 31 = 99.45.
        let customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("api", "api", changes: [("2026-01-11T00:00:00Z", "api-pro")]),
                try subscription("help", "support"),
            ])
        let invoices = try bill(customer) { usage in
            try usage.add("c", "calls", count: 1000, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "calls", count: 2000, at: "2026-01-20T08:00:00Z")
        }
        let until = " on api until 2026-01-11T00:00:00Z"
        #expect(invoices.count == 1)
        #expect(
            invoices[0].lines.map(\.name) == [
                "API base" + until, "API calls" + until, "API base", "API calls", "Support", "Tickets",
            ])
        #expect(invoices[0].lines.map(\.amount) == [try dec("6.45"), 10, 42, 10, 31, 0])
        #expect(invoices[0].total == (try dec("99.45")))
    }

    @Test func aMetricMovesFromOneSubscriptionToTheNextMidPeriod() throws {
        // "old" on api until Jan 16 (15 days), "new" on api-pro from Jan 16 (16 days), both pricing calls.
        // 100 calls on Jan 5 (old's), 200 on Jan 20 (new's):
        //   API base 20 x 15/31 = 9.6774 -> 9.68; API calls 100 x 0.01 = 1.00;
        //   API base 62 x 16/31 = 32.00; API calls 200 x 0.005 = 1.00. Total 43.68.
        let customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("old", "api", end: "2026-01-16"),
                try subscription("new", "api-pro", start: "2026-01-16"),
            ])
        let invoices = try bill(customer) { usage in
            try usage.add("c", "calls", count: 100, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "calls", count: 200, at: "2026-01-20T08:00:00Z")
        }
        #expect(invoices[0].lines.map(\.amount) == [try dec("9.68"), 1, 32, 1])
        #expect(invoices[0].lines.map(\.quantity) == [1, 100, 1, 200].map { ExactDecimal($0) })
        #expect(invoices[0].total == (try dec("43.68")))
    }

    @Test func commitmentsPerSubscriptionDiscountsAndTaxPerInvoice() throws {
        // api has a minimum commitment of 50: its own lines are 20 + 1,000 x 0.01 = 30, so a true-up of 20.00
        // (support's 31 does not count towards it). Subtotal 20 + 10 + 31 + 0 + 20 = 81.00; lines in the order
        // api's charges, api's true-up, support's charges: 20, 10, 20, 31, 0.
        // A 10% discount on plan support covers support's lines only: 31 x 10% = 3.10.
        // Tax 10% on each line's net: 2.00 + 1.00 + 2.00 + 27.90 x 10% = 2.79 + 0 = 7.79.
        // Total 81.00 - 3.10 + 7.79 = 85.69.
        var customer = Customer(
            id: "c", subscriptions: [try subscription("api", "api"), try subscription("help", "support")])
        customer.taxJurisdiction = "US-CA"
        var discount = Discount(name: "Support 10%", customer: nil, kind: .percent(10), duration: .forever)
        discount.plan = "support"
        let invoices = try bill(
            customer, plans: try plans(apiMinimum: 50), discounts: [discount],
            taxes: [TaxRate(name: "Sales tax", jurisdiction: "US-CA", rate: 10)]
        ) { usage in
            try usage.add("c", "calls", count: 1000, at: "2026-01-05T08:00:00Z")
        }
        #expect(invoices[0].lines.map(\.amount) == [20, 10, 20, 31, 0])
        #expect(invoices[0].lines.map(\.kind) == [.charge, .charge, .minimumCommitmentTrueUp, .charge, .charge])
        #expect(invoices[0].subtotal == 81)
        #expect(invoices[0].discounts.map(\.perLine) == [[0, 0, 0, try dec("3.10"), 0]])
        #expect(invoices[0].taxTotal == (try dec("7.79")))
        #expect(invoices[0].total == (try dec("85.69")))
    }

    @Test func theCatalogRefusesWhatOneInvoiceCannotHold() throws {
        func problems(_ subscriptions: [Subscription], plans extra: [Plan] = []) throws -> [String] {
            let (usd, plans) = (try currency("USD"), try plans() + extra)
            do {
                _ = try Catalog(
                    currency: usd, metrics: metrics, plans: plans,
                    customers: [Customer(id: "c", subscriptions: subscriptions)])
                return []
            } catch {
                return error.errors.map(\.description)
            }
        }
        // Two subscriptions pricing calls over overlapping dates.
        #expect(
            try problems([
                try subscription("a", "api", end: "2026-01-20"), try subscription("b", "api-pro", start: "2026-01-16"),
            ])
                == [
                    "customers[0].subscriptions[1].plan: metric 'calls' is priced by subscription 'a' too, over "
                        + "overlapping dates; expected each metric priced by one subscription at a time (move it "
                        + "between plans with changes, or end one subscription before the other starts)"
                ])
        // One after the other, and two products, are fine.
        #expect(
            try problems([
                try subscription("a", "api", end: "2026-01-16"), try subscription("b", "api-pro", start: "2026-01-16"),
            ])
            .isEmpty)
        // Ids once each; known plans; a plan with a fee in advance is fine.
        var inAdvance = Charge(name: "Seat", metric: nil, model: .flat(amount: 5))
        inAdvance.billing = .inAdvance
        #expect(
            try problems(
                [try subscription("a", "api"), try subscription("a", "seats"), try subscription("b", "nope")],
                plans: [Plan(id: "seats", charges: [inAdvance])])
                == [
                    "customers[0].subscriptions[1].id: duplicate subscription id 'a', expected each id once per customer",
                    "customers[0].subscriptions[2].plan: unknown plan 'nope', expected one of: api, api-pro, support, seats",
                ])
    }

    @Test func plansOfOneInvoiceAgreeOnTaxInclusionWhateverTheAnchor() throws {
        var gross = Plan(id: "gross", charges: [Charge(name: "Fee", metric: nil, model: .flat(amount: 10))])
        gross.pricesIncludeTax = true
        var customer = Customer(
            id: "c", subscriptions: [try subscription("api", "api"), try subscription("g", "gross")])
        customer.anchor = .anniversary
        let (usd, plans) = (try currency("USD"), try plans() + [gross])
        do {
            _ = try Catalog(currency: usd, metrics: metrics, plans: plans, customers: [customer])
            Issue.record("accepted plans that disagree on prices_include_tax")
        } catch {
            #expect(
                error.errors.map(\.description) == [
                    "customers[0].subscriptions[1].plan: plan 'gross' differs from plan 'api' of the first "
                        + "subscription in prices_include_tax or pricing_unit; expected the plans of one invoice to "
                        + "agree on them"
                ])
        }
    }
}
