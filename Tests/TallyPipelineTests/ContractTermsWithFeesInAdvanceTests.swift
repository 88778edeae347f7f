import Testing

@testable import TallyPipeline

/// The minimum commitment and the spend cap count no fee in advance: neither the fee on its in-advance invoice nor
/// the unused days credited and the rest of the period charged on the in-arrears invoice at a change or an end.
@Suite("Contract terms leave fees in advance out")
struct ContractTermsWithFeesInAdvanceTests {
    /// A plan `id` with a flat fee `fee` billed in advance and calls at 0.01, with a minimum commitment or a spend cap.
    func plan(_ id: String, fee: ExactDecimal, minimum: ExactDecimal? = nil, cap: ExactDecimal? = nil) throws -> Plan {
        var platform = Charge(name: "Platform", metric: nil, model: .flat(amount: fee))
        platform.billing = .inAdvance
        let calls = Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01")))
        return Plan(id: id, charges: [platform, calls], minimumCommitment: minimum, spendCap: cap)
    }

    /// January's in-arrears invoice of `customer` (January has 31 days).
    func januaryInArrears(
        _ customer: Customer, plans: [Plan], events: (inout UsageBuilder) throws -> Void
    ) throws -> Invoice {
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: plans, customers: [customer])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try events(&builder)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        return try #require(invoices.first { !$0.inAdvance })
    }

    @Test func anUpgradesProrationsDoNotMeetTheMinimumCommitment() throws {
        // base (Platform 31 in advance, minimum 40) upgraded to plus (Platform 62 in advance, minimum 40) on Jan 11;
        // 100 calls on Jan 5, under base. In arrears, Feb 1:
        //   Calls on base until Jan 11: 100 x 0.01 = 1.00; Unused time on base: -(31 x 21/31) = -21.00;
        //   Calls (plus) 0.00; Remaining time on plus: 62 x 21/31 = 42.00;
        //   minimum commitment 40 - (1.00 + 0.00) = true-up 39.00 (counting the -21.00 and 42.00 it would be 18.00).
        //   Total 1.00 - 21.00 + 0.00 + 42.00 + 39.00 = 61.00.
        var customer = Customer(id: "c", plan: "base")
        customer.changes = [PlanChange(at: try instant("2026-01-11"), plan: "plus")]
        let invoice = try januaryInArrears(
            customer, plans: [try plan("base", fee: 31, minimum: 40), try plan("plus", fee: 62, minimum: 40)]
        ) { usage in try usage.add("c", "calls", count: 100, at: "2026-01-05T08:00:00Z") }
        #expect(invoice.lines.map(\.amount) == [1, -21, 0, 42, 39].map { ExactDecimal($0) })
        #expect(invoice.lines.last?.kind == .minimumCommitmentTrueUp)
        #expect(invoice.total == 61)
    }

    @Test func theUnusedDaysOfAnEndDoNotMeetTheMinimumCommitment() throws {
        // base (Platform 31 in advance, minimum 40) ends on Jan 11: 10 of 31 days. 100 calls on Jan 5. In arrears:
        //   Calls 1.00; Unused time on base: -(31 x 21/31) = -21.00;
        //   minimum commitment prorated 40 x 10/31 = 12.9032258..., true-up 12.9032258... - 1.00 = 11.9032... -> 11.90
        //   (counting the -21.00 it would be 32.90). Total 1.00 - 21.00 + 11.90 = -8.10: amount due 0.00.
        let customer = Customer(id: "c", plan: "base", end: try instant("2026-01-11"))
        let invoice = try januaryInArrears(customer, plans: [try plan("base", fee: 31, minimum: 40)]) { usage in
            try usage.add("c", "calls", count: 100, at: "2026-01-05T08:00:00Z")
        }
        #expect(invoice.lines.map(\.amount) == [1, -21, try dec("11.90")])
        #expect(invoice.total == (try dec("-8.10")))
        #expect(invoice.amountDue == 0)
    }

    @Test func anUpgradesProrationsAreNotCappedBySpendCap() throws {
        // capped (Platform 31 in advance, spend cap 20) upgraded to capped-plus (Platform 62, cap 20) on Jan 11;
        // 1,000 calls on Jan 20, under capped-plus. In arrears:
        //   Calls on capped until Jan 11: 0.00; Unused time on capped: -21.00; Calls 1,000 x 0.01 = 10.00;
        //   Remaining time on capped-plus: 42.00. The usage, 10.00, is under the cap: no adjustment (counting the
        //   proration, 31.00, it would be -11.00). Total 0.00 - 21.00 + 10.00 + 42.00 = 31.00.
        var customer = Customer(id: "c", plan: "capped")
        customer.changes = [PlanChange(at: try instant("2026-01-11"), plan: "capped-plus")]
        let invoice = try januaryInArrears(
            customer, plans: [try plan("capped", fee: 31, cap: 20), try plan("capped-plus", fee: 62, cap: 20)]
        ) { usage in try usage.add("c", "calls", count: 1000, at: "2026-01-20T08:00:00Z") }
        #expect(invoice.lines.map(\.amount) == [0, -21, 10, 42].map { ExactDecimal($0) })
        #expect(invoice.total == 31)
    }
}

/// A prepaid grant usable in a period pays every invoice of it: the in-advance one does not close the period.
@Suite("Prepaid credits with fees in advance")
struct CreditsWithFeesInAdvanceTests {
    @Test func aGrantsLastPeriodPaysItsInArrearsInvoiceToo() throws {
        // Platform 31 in advance, calls 0.01; a 100.00 grant usable in January only. 5,000 calls on Jan 5.
        //   -A (Jan 1): 31.00, paid by the grant: 100 - 31 = 69.00 left, nothing expires yet.
        //   in arrears (Feb 1): Calls 5,000 x 0.01 = 50.00, paid by the grant: 69 - 50 = 19.00 left, which expires
        //   on this invoice, January's last. (Expiring on the -A, the 69.00 would be lost and 50.00 due.)
        var platform = Charge(name: "Platform", metric: nil, model: .flat(amount: 31))
        platform.billing = .inAdvance
        let calls = Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01")))
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric],
            plans: [Plan(id: "base", charges: [platform, calls])],
            customers: [Customer(id: "c", plan: "base")],
            credits: [PrepaidCredit(customer: "c", amount: 100, grantedInPeriod: 0, expiresAfterPeriods: 1)])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 5000, at: "2026-01-05T08:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001"])
        #expect(invoices.map(\.creditsApplied) == [31, 50])
        #expect(invoices.map(\.amountDue) == [0, 0])
        #expect(invoices[0].expiredCredits.isEmpty)
        #expect(invoices[1].expiredCredits.map(\.amount) == [19])
    }
}
