import Testing

@testable import TallyPipeline

/// A plan change inside a trial: the period's fees start when the trial ends, under the plan in force then, and that
/// plan's fee in advance goes on an in-advance invoice issued then, not on the in-arrears one.
@Suite("A plan change during a trial, with fees in advance")
struct TrialPlanChangeInAdvanceTests {
    /// Platform `fee` in advance, calls at 0.01 (the plans of ``ContractTermsWithFeesInAdvanceTests``).
    func plan(_ id: String, fee: ExactDecimal) throws -> Plan {
        try ContractTermsWithFeesInAdvanceTests().plan(id, fee: fee)
    }

    /// Seat 31 in advance, and no usage charge.
    var seats: Plan {
        var seat = Charge(name: "Seat", metric: nil, model: .flat(amount: 31))
        seat.billing = .inAdvance
        return Plan(id: "seats", charges: [seat])
    }

    func january(_ customer: Customer) throws -> [Invoice] {
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric],
            plans: [try plan("base", fee: 31), try plan("plus", fee: 62), seats], customers: [customer])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add(customer.id, "calls", count: 100, at: "2026-01-20T08:00:00Z")
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    @Test func anUpgradeInsideTheTrialIsChargedInAdvanceWhenTheTrialEnds() throws {
        // Trial 14 days from Jan 1 (fees start Jan 15); base (Platform 31 in advance) upgraded to plus (62) on Jan 10,
        // inside the trial. January has 31 days.
        //   -A issued Jan 15: plus's Platform 62 x 17/31 = 34.00 (base's time was all trial: never charged).
        //   in arrears (Feb 1): Calls on base until Jan 10 0.00; Calls 100 x 0.01 = 1.00; no "Remaining time" line,
        //   since plus's fee was charged in advance. (Before: no -A, and Remaining time on plus 34.00 in arrears.)
        var customer = Customer(id: "c", plan: "base")
        customer.trial = TimeSpan(milliseconds: 14 * 86_400_000)
        customer.changes = [PlanChange(at: try instant("2026-01-10"), plan: "plus")]
        let invoices = try january(customer)
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001"])
        #expect(invoices[0].issued == (try instant("2026-01-15")))
        #expect(invoices[0].lines.map(\.amount) == [34])
        #expect(invoices[1].lines.map(\.amount) == [0, 1])
        #expect(!invoices[1].lines.contains { $0.name.hasPrefix("Remaining time") })
        #expect(invoices[1].total == 1)
    }

    @Test func aSubscriptionUpgradedInsideItsTrialGetsItsOwnInAdvanceInvoiceThen() throws {
        // The same subscription ("api") beside "seats" (Seat 31 in advance) from Jan 1 with no trial: -A issued Jan 1
        // holds Seat 31.00; -A2 issued Jan 15 holds api's plus Platform 62 x 17/31 = 34.00.
        var api = Subscription(id: "api", plan: "base")
        api.trial = TimeSpan(milliseconds: 14 * 86_400_000)
        api.changes = [PlanChange(at: try instant("2026-01-10"), plan: "plus")]
        let customer = Customer(id: "c", subscriptions: [api, Subscription(id: "seats", plan: "seats")])
        let invoices = try january(customer)
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001-A2", "INV-20260101-000001"])
        #expect(
            invoices.map(\.issued) == [try instant("2026-01-01"), try instant("2026-01-15"), try instant("2026-02-01")])
        #expect(invoices[0].lines.map(\.amount) == [31])
        #expect(invoices[1].lines.map(\.amount) == [34])
        #expect(!invoices[2].lines.contains { $0.name.hasPrefix("Remaining time") })
    }
}
