import Testing

@testable import TallyPipeline

@Suite("Subscriptions: fees in advance, trials, plan changes")
struct SubscriptionTests {
    func fee(_ name: String, _ amount: ExactDecimal, _ billing: FeeBilling) -> Charge {
        var charge = Charge(name: name, metric: nil, model: .flat(amount: amount))
        charge.billing = billing
        return charge
    }

    func bill(
        _ plans: [Plan], _ customers: [Customer], months count: Int, from: String = "2026-01-01"
    ) throws
        -> [Invoice]
    {
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: plans, customers: customers)
        let schedule = try months(count, from: from)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    @Test func inAdvanceFeeHasItsOwnInvoiceBeforeTheArrearsOne() throws {
        let plan = Plan(
            id: "pro",
            charges: [
                fee("Platform", 31, .inAdvance),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01"))),
            ])
        // Starts Jan 21: 11 of January's 31 days -> 31 x 11/31 = 11.00, issued Jan 21.
        let invoices = try bill(
            [plan], [Customer(id: "c", plan: "pro", start: try instant("2026-01-21T00:00:00Z"))], months: 2)
        #expect(
            invoices.map(\.number) == [
                "INV-20260101-000001-A", "INV-20260101-000001", "INV-20260201-000001-A", "INV-20260201-000001",
            ])
        #expect(invoices[0].inAdvance && invoices[0].total == 11)
        #expect(invoices[0].issued == (try instant("2026-01-21T00:00:00Z")))
        // The arrears invoice holds the usage only (no calls: 0.00), issued at the period's end.
        #expect(!invoices[1].inAdvance && invoices[1].lines.map(\.name) == ["Calls"])
        #expect(invoices[1].issued == (try instant("2026-02-01T00:00:00Z")))
        // February in full: 31.00.
        #expect(invoices[2].total == 31)
    }

    @Test func upgradeProratesAsStripeDoes() throws {
        // Stripe's example: 10 a month to 20 a month halfway. April has 30 days; Apr 16 leaves 15.
        // -(10 x 15/30) = -5.00 and +(20 x 15/30) = 10.00: 5.00 more.
        let basic = Plan(id: "basic", charges: [fee("Seat", 10, .inAdvance)])
        let premium = Plan(id: "premium", charges: [fee("Seat", 20, .inAdvance)])
        var customer = Customer(id: "c", plan: "basic")
        customer.changes = [PlanChange(at: try instant("2026-04-16T00:00:00Z"), plan: "premium")]
        let invoices = try bill([basic, premium], [customer], months: 1, from: "2026-04-01")
        #expect(invoices.count == 2)
        #expect(invoices[0].total == 10)
        #expect(invoices[1].lines.map(\.amount) == [-5, 10])
        #expect(invoices[1].total == 5)
    }

    @Test func downgradeWaitsForThePeriodEndAndUpgradeDoesNot() throws {
        let small = Plan(id: "small", charges: [fee("Base", 100, .inArrears)])
        let large = Plan(id: "large", charges: [fee("Base", 200, .inArrears)])
        var up = Customer(id: "up", plan: "small")
        up.changes = [PlanChange(at: try instant("2026-01-15T00:00:00Z"), plan: "large")]
        var down = Customer(id: "down", plan: "large")
        down.changes = [PlanChange(at: try instant("2026-01-15T00:00:00Z"), plan: "small")]
        let invoices = try bill([small, large], [up, down], months: 2)
        // Lago's upgrade: 100 x 14/31 = 45.161... -> 45.16; 200 x 17/31 = 109.677... -> 109.68.
        #expect(invoices.of("up").map(\.total) == [(try dec("154.84")), 200])
        // The downgrade asked on Jan 15 applies from Feb 1: 200.00, then 100.00.
        #expect(invoices.of("down").map(\.total) == [200, 100])
    }

    @Test func trialMakesFixedFeesFreeUntilItEnds() throws {
        var plan = Plan(id: "basic", charges: [fee("Base", 62, .inArrears)])
        plan.trial = TimeSpan(milliseconds: 14 * 86_400_000)
        // Trial Jan 1 - Jan 15: 17 of 31 days -> 62 x 17/31 = 34.00; February 62.00.
        let invoices = try bill([plan], [Customer(id: "c", plan: "basic")], months: 2)
        #expect(invoices.map(\.total) == [34, 62])
    }

    @Test func immediateCancellationCreditsTheUnusedDaysToTheBalance() throws {
        let plan = Plan(id: "premium", charges: [fee("Seat", 20, .inAdvance)])
        var customer = Customer(id: "c", plan: "premium")
        customer.changes = [PlanChange(at: try instant("2026-02-15T00:00:00Z"), plan: nil)]
        let invoices = try bill([plan], [customer], months: 3)
        // Jan 20.00; Feb 20.00 in advance, then -(20 x 14/28) = -10.00, nothing due; no March invoice.
        #expect(invoices.map(\.total) == [20, 20, -10])
        #expect(invoices[2].amountDue == 0)
    }

    @Test func customersWithoutTheNewKeysAreBilledAsBefore() throws {
        let plan = Plan(id: "p", charges: [fee("Base", 99, .inArrears)])
        let invoices = try bill([plan], [Customer(id: "c", plan: "p")], months: 1)
        #expect(invoices.count == 1 && invoices[0].issued == nil && invoices[0].number == "INV-20260101-000001")
    }

    @Test func validatorRefusesUsageBilledInAdvanceAndUnknownPlans() throws {
        var charge = Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1))
        charge.billing = .inAdvance
        var customer = Customer(id: "c", plan: "p")
        customer.changes = [PlanChange(at: try instant("2026-01-10T00:00:00Z"), plan: "nope")]
        #expect(throws: CatalogErrors.self) {
            try Catalog(
                currency: try currency("USD"), metrics: [callsMetric], plans: [Plan(id: "p", charges: [charge])],
                customers: [customer])
        }
    }
}
