import Testing

@testable import TallyPipeline

@Suite("Several subscriptions with fees in advance, and on their own anniversary")
struct SeveralSubscriptionsInAdvanceTests {
    /// A flat fee `name` of `amount`, billed in advance.
    func inAdvance(_ name: String, _ amount: ExactDecimal) -> Charge {
        var charge = Charge(name: name, metric: nil, model: .flat(amount: amount))
        charge.billing = .inAdvance
        return charge
    }

    /// base: Platform 31 in advance, 0.01 a call, minimum commitment 40. seats: Seat 62 in advance. extra: Extra 31 in
    /// advance. extra-plus: Extra 62 in advance. api: API base 20 in arrears, 0.01 a call.
    func plans() throws -> [Plan] {
        let calls = Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01")))
        return [
            Plan(id: "base", charges: [inAdvance("Platform", 31), calls], minimumCommitment: 40),
            Plan(id: "seats", charges: [inAdvance("Seat", 62)]),
            Plan(id: "extra", charges: [inAdvance("Extra", 31)]),
            Plan(id: "extra-plus", charges: [inAdvance("Extra", 62)]),
            Plan(id: "api", charges: [Charge(name: "API base", metric: nil, model: .flat(amount: 20)), calls]),
        ]
    }

    /// A subscription `id` on `plan`, with dates and changes (at, plan), as in ``SeveralSubscriptionsTests``.
    func subscription(
        _ id: String, _ plan: String, start: String? = nil, end: String? = nil, changes: [(String, String)] = []
    ) throws -> Subscription {
        try SeveralSubscriptionsTests().subscription(id, plan, start: start, end: end, changes: changes)
    }

    func bill(
        _ customers: [Customer], months count: Int = 1, discounts: [Discount] = [],
        events: (inout UsageBuilder) throws -> Void = { _ in }
    ) throws -> [Invoice] {
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: try plans(), customers: customers,
            discounts: discounts)
        let schedule = try months(count)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try events(&builder)
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    @Test func oneInAdvanceInvoicePerIssueInstantThenTheArrearsOne() throws {
        // January, 31 days. "platform" (base) from Jan 1; "seats" and "extra" both from Jan 11 (21 days left).
        //   -A  issued Jan 1:  Platform 31.00; the once discount of 5 lands here: total 26.00.
        //   -A2 issued Jan 11: Seat 62 x 21/31 = 42.00 and Extra 31 x 21/31 = 21.00, one invoice: 63.00.
        //   in arrears, Feb 1: Calls 100 x 0.01 = 1.00; minimum commitment 40 - 1.00 = true-up 39.00 (the 31.00 in
        //   advance does not count towards it): 40.00.
        let customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("platform", "base"), try subscription("seats", "seats", start: "2026-01-11"),
                try subscription("extra", "extra", start: "2026-01-11"),
            ])
        let welcome = Discount(name: "Welcome", customer: "c", kind: .fixed(5), duration: .once)
        let invoices = try bill([customer], discounts: [welcome]) { usage in
            try usage.add("c", "calls", count: 100, at: "2026-01-05T08:00:00Z")
        }
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001-A2", "INV-20260101-000001"])
        #expect(invoices.map(\.inAdvance) == [true, true, false])
        #expect(
            invoices.map { $0.issued?.iso8601 } == [
                "2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z", "2026-02-01T00:00:00Z",
            ])
        #expect(invoices.map(\.total) == [26, 63, 40])
        #expect(invoices[0].discountTotal == 5 && invoices[1].discountTotal == 0)
        #expect(invoices[1].lines.map(\.name) == ["Seat", "Extra"])
        #expect(invoices[1].lines.map(\.amount) == [42, 21])
        #expect(invoices[1].lines.map(\.subscription) == [1, 2])
        #expect(invoices[2].lines.map(\.amount) == [1, 39])
        #expect(invoices[2].lines.map(\.kind) == [.charge, .minimumCommitmentTrueUp])
        #expect(invoices[2].lines.map(\.subscription) == [0, 0])
    }

    @Test func endsAndUpgradesCreditUnusedDaysPerSubscriptionAndANegativeTotalPaysLater() throws {
        // January 31 days, February 28. "a" on seats ends Jan 21; "b" on extra moves to extra-plus on Jan 11 (an
        // upgrade, 62 >= 31: at once).
        //   Jan -A (Jan 1): Seat 62.00 + Extra 31.00 = 93.00.
        //   Jan in arrears: a: Unused time on seats, Jan 21 - Feb 1, -(62 x 11/31) = -22.00;
        //     b: Unused time on extra, Jan 11 - Feb 1, -(31 x 21/31) = -21.00; Remaining time on extra-plus
        //     62 x 21/31 = 42.00. Total -22 - 21 + 42 = -1.00: amount due 0, 1.00 to the credit balance.
        //   Feb -A (Feb 1): Extra 62.00 (extra-plus), the balance pays 1.00: amount due 61.00. No in-arrears invoice.
        let customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("a", "seats", end: "2026-01-21"),
                try subscription("b", "extra", changes: [("2026-01-11T00:00:00Z", "extra-plus")]),
            ])
        let invoices = try bill([customer], months: 2)
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001", "INV-20260201-000001-A"])
        #expect(invoices[0].lines.map(\.amount) == [62, 31])
        #expect(
            invoices[1].lines.map(\.name) == [
                "Unused time on seats: Seat from 2026-01-21T00:00:00Z",
                "Unused time on extra: Extra from 2026-01-11T00:00:00Z",
                "Remaining time on extra-plus: Extra from 2026-01-11T00:00:00Z",
            ])
        #expect(invoices[1].lines.map(\.amount) == [-22, -21, 42])
        #expect(invoices[1].lines.map(\.subscription) == [0, 1, 1])
        #expect(invoices[1].total == -1 && invoices[1].amountDue == 0)
        #expect(invoices[2].lines.map(\.amount) == [62] && invoices[2].lines.map(\.subscription) == [1])
        #expect(invoices[2].creditsApplied == 1 && invoices[2].amountDue == 61)
    }

    @Test func aTrialDelaysOnlyItsOwnSubscriptionsFee() throws {
        // "seats" from Jan 1; "extra" with a 10-day trial from Jan 1: its fee starts Jan 11, 21 of 31 days.
        //   -A (Jan 1): Seat 62.00. -A2 (Jan 11): Extra 31 x 21/31 = 21.00. Nothing in arrears.
        var extra = try subscription("extra", "extra")
        extra.trial = .days(10)
        let customer = Customer(id: "c", subscriptions: [try subscription("seats", "seats"), extra])
        let invoices = try bill([customer])
        #expect(invoices.map(\.number) == ["INV-20260101-000001-A", "INV-20260101-000001-A2"])
        #expect(invoices.map { $0.issued?.iso8601 } == ["2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z"])
        #expect(invoices.map(\.total) == [62, 21])
    }

    @Test func anAnniversaryCustomerWithSubscriptionsStartsAtItsEarliestSubscription() throws {
        // A run of January and February (it ends Mar 1). "c" holds api from Jan 11 and extra from Jan 21: its periods
        // are Jan 11 - Feb 11 (31 days) and Feb 11 - Mar 11 (28 days). "cal" holds extra with no start: it starts with
        // the run, so its periods are the calendar's.
        //   cal Jan (ends Feb 1): -A Extra 31.00.
        //   c P1 (ends Feb 11): -A issued Jan 21, Extra 31 x 21/31 = 21.00; in arrears API base 20.00 + 300 calls
        //     (Feb 5) x 0.01 = 3.00: 23.00 (the 50 calls of Jan 5, before its start, are on no invoice).
        //   cal Feb (ends Mar 1): -A Extra 31.00.
        //   c P2 (ends Mar 11): -A issued Feb 11, 31.00; in arrears 20.00 + 100 calls (Mar 5, after the run's end,
        //     inside its own period) x 0.01 = 1.00: 21.00.
        var customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("api", "api", start: "2026-01-11"),
                try subscription("extra", "extra", start: "2026-01-21"),
            ])
        customer.anchor = .anniversary
        var calendar = Customer(id: "cal", subscriptions: [try subscription("extra", "extra")])
        calendar.anchor = .anniversary
        let invoices = try bill([customer, calendar], months: 2) { usage in
            try usage.add("c", "calls", count: 50, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "calls", count: 300, at: "2026-02-05T08:00:00Z")
            try usage.add("c", "calls", count: 100, at: "2026-03-05T08:00:00Z")
        }
        #expect(
            invoices.map(\.number) == [
                "INV-20260101-000002-A", "INV-20260111-000001-A", "INV-20260111-000001", "INV-20260201-000002-A",
                "INV-20260211-000001-A", "INV-20260211-000001",
            ])
        #expect(
            invoices.map { $0.issued?.iso8601 } == [
                "2026-01-01T00:00:00Z", "2026-01-21T00:00:00Z", "2026-02-11T00:00:00Z", "2026-02-01T00:00:00Z",
                "2026-02-11T00:00:00Z", "2026-03-11T00:00:00Z",
            ])
        #expect(invoices.map(\.total) == [31, 21, 23, 31, 31, 21])
        #expect(invoices[2].lines.map(\.quantity) == [1, 300].map { ExactDecimal($0) })
    }

    @Test func theMeterCountsAnAnniversaryCustomersUsageInItsOwnPeriods() throws {
        // "c" holds api from Jan 11 and extra from Jan 21, on its anniversary: its periods are Jan 11 - Feb 11 and
        // Feb 11 - Mar 11. A call on Jan 5 is before its time (no period), Jan 15 and Feb 10 in its first period,
        // Feb 11 (on the boundary) and Mar 5 (after the run's end, Mar 1) in its second.
        var customer = Customer(
            id: "c",
            subscriptions: [
                try subscription("api", "api", start: "2026-01-11"),
                try subscription("extra", "extra", start: "2026-01-21"),
            ])
        customer.anchor = .anniversary
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: try plans(), customers: [customer])
        var meter = Meter(catalog: catalog, schedule: try months(2))
        var periods: [Int?] = []
        for (offset, at) in ["2026-01-05", "2026-01-15", "2026-02-10T23:00:00Z", "2026-02-11", "2026-03-05"]
            .enumerated()
        {
            let timestamp = try instant(at)
            let event = Event(
                id: "e\(offset)", tenant: "t1", customer: "c", metric: "calls", quantity: 1, timestamp: timestamp,
                source: "sdk")
            guard case .accepted(let acceptance) = meter.ingest(event, receivedAt: timestamp) else {
                Issue.record("the call at \(at) was not accepted")
                continue
            }
            periods.append(acceptance.period)
        }
        #expect(periods == [nil, 0, 0, 1, 1])
        #expect(
            meter.usage.periods(ofCustomer: meter.usage.knownCustomerNumber("c", guessing: 0)).map(\.start.iso8601) == [
                "2026-01-11T00:00:00Z", "2026-02-11T00:00:00Z",
            ])
    }
}
