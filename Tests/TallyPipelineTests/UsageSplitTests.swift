import Testing

@testable import TallyPipeline

@Suite("Usage rated under the plan in force when it happened; usage during a trial")
struct UsageSplitTests {
    /// starter: 10 a month, 100 calls included then 0.10; pro: 31 a month, 1,000 included then 0.05.
    func plans() throws -> [Plan] {
        [
            Plan(
                id: "starter",
                charges: [
                    Charge(name: "Base fee", metric: nil, model: .flat(amount: 10)),
                    Charge(
                        name: "Calls", metric: "calls",
                        model: .graduated([Tier(upTo: 100, unitPrice: 0), Tier(upTo: nil, unitPrice: try dec("0.10"))])),
                ]),
            Plan(
                id: "pro",
                charges: [
                    Charge(name: "Base fee", metric: nil, model: .flat(amount: 31)),
                    Charge(
                        name: "Calls", metric: "calls",
                        model: .graduated([Tier(upTo: 1000, unitPrice: 0), Tier(upTo: nil, unitPrice: try dec("0.05"))])
                    ),
                ]),
        ]
    }

    func bill(
        _ plans: [Plan], _ customers: [Customer], metrics: [Metric] = [callsMetric], months count: Int = 1,
        from: String = "2026-01-01", events: (inout UsageBuilder) throws -> Void
    ) throws -> [Invoice] {
        let catalog = try Catalog(currency: try currency("USD"), metrics: metrics, plans: plans, customers: customers)
        let schedule = try months(count, from: from)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try events(&builder)
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    func customer(_ plan: String, changes: [(String, String?, PlanChange.Timing?)]) throws -> Customer {
        var customer = Customer(id: "c", plan: plan)
        customer.changes = try changes.map { at, plan, timing in
            var change = PlanChange(at: try instant(at), plan: plan)
            change.timing = timing
            return change
        }
        return customer
    }

    @Test func upgradeRatesEachPartUnderItsOwnPlan() throws {
        // starter (100 included, then 0.10) to pro (1,000 included, then 0.05) on Jan 11, 10 of 31 days in.
        // 150 calls on Jan 5, 1,200 on Jan 20:
        //   Base fee on starter: 10 x 10/31 = 3.2258 -> 3.23; its calls: (150 - 100) x 0.10 = 5.00
        //   Base fee on pro: 31 x 21/31 = 21.00; its calls: (1,200 - 1,000) x 0.05 = 10.00. Total 39.23.
        let invoices = try bill(
            try plans(), [try customer("starter", changes: [("2026-01-11T00:00:00Z", "pro", nil)])]
        ) { usage in
            try usage.add("c", "calls", count: 150, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "calls", count: 1200, at: "2026-01-20T08:00:00Z")
        }
        #expect(invoices.count == 1)
        let until = " on starter until 2026-01-11T00:00:00Z"
        #expect(invoices[0].lines.map(\.name) == ["Base fee" + until, "Calls" + until, "Base fee", "Calls"])
        #expect(invoices[0].lines.map(\.amount) == [try dec("3.23"), 5, 21, 10])
        #expect(invoices[0].lines.map(\.quantity) == [1, 150, 1, 1200].map { ExactDecimal($0) })
        #expect(invoices[0].total == (try dec("39.23")))
    }

    @Test func changeAtPeriodBoundaryBillsAsWithoutSplit() throws {
        // Upgrade on Feb 1: January is starter's whole, February pro's whole.
        // Jan: 10 + (150 - 100) x 0.10 = 15.00. Feb: 31 + (1,200 - 1,000) x 0.05 = 41.00.
        let invoices = try bill(
            try plans(), [try customer("starter", changes: [("2026-02-01T00:00:00Z", "pro", nil)])], months: 2
        ) { usage in
            try usage.add("c", "calls", count: 150, at: "2026-01-05T08:00:00Z")
            try usage.add("c", "calls", count: 1200, at: "2026-02-10T08:00:00Z")
        }
        #expect(invoices.map(\.total) == [15, 41])
        #expect(invoices.map { $0.lines.map(\.name) } == [["Base fee", "Calls"], ["Base fee", "Calls"]])
    }

    @Test func immediateDowngradeAndCancellationSplitToo() throws {
        // pro to starter on Jan 21 at once (20 of 31 days on pro), then cancelled at once on Jan 26.
        // 500 calls on Jan 10 (pro's, included: 0.00), 150 on Jan 22 (starter's: 50 x 0.10 = 5.00),
        // 400 on Jan 28 (after the cancellation: on no invoice).
        // Fees: 31 x 20/31 = 20.00 on pro; starter Jan 21-26, 5 days: 10 x 5/31 = 1.6129 -> 1.61. Total 26.61.
        let invoices = try bill(
            try plans(),
            [
                try customer(
                    "pro",
                    changes: [("2026-01-21T00:00:00Z", "starter", .immediately), ("2026-01-26T00:00:00Z", nil, nil)])
            ]
        ) { usage in
            try usage.add("c", "calls", count: 500, at: "2026-01-10T08:00:00Z")
            try usage.add("c", "calls", count: 150, at: "2026-01-22T08:00:00Z")
            try usage.add("c", "calls", count: 400, at: "2026-01-28T08:00:00Z")
        }
        #expect(invoices.count == 1)
        #expect(invoices[0].lines.map(\.amount) == [20, 0, try dec("1.61"), 5])
        #expect(invoices[0].lines.map(\.quantity) == [1, 500, 1, 150].map { ExactDecimal($0) })
        #expect(invoices[0].total == (try dec("26.61")))
    }

    @Test func weightedSumPartsAddUpToThePeriod() throws {
        // April, 30 days: 100 GB from Apr 1 00:00; upgraded on Apr 16 from 1.00 to 2.00 per GB-month.
        // Each plan holds 100 GB for 15 of 30 days: 100 x 15/30 = 50 GB-months -> 50.00 and 100.00.
        let storage = Metric(key: "gb", aggregation: .weightedSum)
        let small = Plan(id: "small", charges: [Charge(name: "GB", metric: "gb", model: .perUnit(unitPrice: 1))])
        let large = Plan(id: "large", charges: [Charge(name: "GB", metric: "gb", model: .perUnit(unitPrice: 2))])
        let invoices = try bill(
            [small, large], [try customer("small", changes: [("2026-04-16T00:00:00Z", "large", nil)])],
            metrics: [storage], from: "2026-04-01"
        ) { usage in
            try usage.add("c", "gb", quantity: 100, at: "2026-04-01T00:00:00Z")
        }
        #expect(invoices[0].lines.map(\.quantity) == [50, 50])
        #expect(invoices[0].lines.map(\.amount) == [50, 100])
    }

    @Test func proratedSeatsCountTheDaysOfEachPart() throws {
        // April, 30 days: 2 seats added Apr 1, upgraded on Apr 16 from 10 to 20 a seat, both prorated.
        // Old part: 2 x 10 x 15/30 = 10.00; new part opens at 2 seats: 2 x 20 x 15/30 = 20.00.
        let seats = Metric(key: "seats", aggregation: .sum, recurring: true)
        var cheap = Charge(name: "Seats", metric: "seats", model: .perUnit(unitPrice: 10))
        cheap.prorated = true
        var dear = Charge(name: "Seats", metric: "seats", model: .perUnit(unitPrice: 20))
        dear.prorated = true
        let invoices = try bill(
            [Plan(id: "team", charges: [cheap]), Plan(id: "business", charges: [dear])],
            [try customer("team", changes: [("2026-04-16T00:00:00Z", "business", nil)])],
            metrics: [seats], from: "2026-04-01"
        ) { usage in
            try usage.add("c", "seats", quantity: 2, at: "2026-04-01T00:00:00Z")
        }
        #expect(invoices[0].lines.map(\.amount) == [10, 20])
    }

    @Test func freeTrialUsageIsOnNoInvoice() throws {
        // Trial 14d from Jan 1 (to Jan 15), usage free; 31 a month; 0.01 a call.
        // 1,000 calls on Jan 10 (free), 500 on Jan 20: fee 31 x 17/31 = 17.00, calls 500 x 0.01 = 5.00.
        var plan = Plan(
            id: "p",
            charges: [
                Charge(name: "Fee", metric: nil, model: .flat(amount: 31)),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.01"))),
            ])
        plan.trial = TimeSpan(milliseconds: 14 * 86_400_000)
        plan.trialUsage = .free
        var billed = Customer(id: "billed", plan: "p")
        billed.trialUsage = .billed
        let invoices = try bill([plan], [Customer(id: "c", plan: "p"), billed]) { usage in
            for id in ["c", "billed"] {
                try usage.add(id, "calls", count: 1000, at: "2026-01-10T08:00:00Z")
                try usage.add(id, "calls", count: 500, at: "2026-01-20T08:00:00Z")
            }
        }
        #expect(invoices[0].lines.map(\.amount) == [17, 5])
        #expect(invoices[0].lines.map(\.quantity) == [1, 500].map { ExactDecimal($0) })
        // Billed usage (the default, overridden back here): 17.00 + 1,500 x 0.01 = 32.00.
        #expect(invoices[1].total == 32)
    }

    @Test func periodWhollyInAFreeTrialHasNoUsageLine() throws {
        // A 45-day free trial from Jan 1 ends Feb 15: January's usage charge (tier 1's flat fee 5 included)
        // has no line; February: fee 28 x 14/28 = 14.00, calls after Feb 15: 200 x 0.01 + 5 = 7.00.
        var plan = Plan(
            id: "p",
            charges: [
                Charge(name: "Fee", metric: nil, model: .flat(amount: 28)),
                Charge(
                    name: "Calls", metric: "calls",
                    model: .graduated([Tier(upTo: nil, unitPrice: try dec("0.01"), flatFee: 5)])),
            ])
        plan.trial = TimeSpan(milliseconds: 45 * 86_400_000)
        plan.trialUsage = .free
        let invoices = try bill([plan], [Customer(id: "c", plan: "p")], months: 2) { usage in
            try usage.add("c", "calls", count: 100, at: "2026-01-20T08:00:00Z")
            try usage.add("c", "calls", count: 50, at: "2026-02-10T08:00:00Z")
            try usage.add("c", "calls", count: 200, at: "2026-02-20T08:00:00Z")
        }
        #expect(invoices[0].lines.map(\.name) == ["Fee"])
        #expect(invoices[0].total == 0)
        #expect(invoices[1].lines.map(\.amount) == [14, 7])
    }
}
