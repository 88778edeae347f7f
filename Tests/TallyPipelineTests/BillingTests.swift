import Testing

@testable import TallyPipeline

@Suite("Billing stages through the meter")
struct BillingTests {
    func usd() throws -> Currency { try currency("USD") }

    @Test func zeroUsageChargesTierOneFlatFee() throws {
        let plan = Plan(
            id: "p",
            charges: [
                Charge(
                    name: "Calls", metric: "calls",
                    model: .graduated([
                        Tier(upTo: 100, unitPrice: try dec("0.10"), flatFee: 5),
                        Tier(upTo: nil, unitPrice: try dec("0.05")),
                    ]))
            ])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // no events: 0 x 0.10 + 5 = 5.00
        #expect(invoices.count == 1)
        #expect(invoices[0].lines[0].amount == 5)
        #expect(invoices[0].total == 5)
    }

    @Test func tierBoundariesThroughTheMeter() throws {
        let plan = Plan(
            id: "p",
            charges: [
                Charge(
                    name: "Calls", metric: "calls",
                    model: .graduated([
                        Tier(upTo: 100, unitPrice: try dec("0.10")), Tier(upTo: nil, unitPrice: try dec("0.05")),
                    ]))
            ])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [Customer(id: "at", plan: "p"), Customer(id: "above", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("at", "calls", count: 100, at: "2026-01-05T10:00:00Z")
        try builder.add("above", "calls", count: 101, at: "2026-01-05T10:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // 100 x 0.10 = 10.00
        #expect(invoices.of("at")[0].subtotal == 10)
        // 100 x 0.10 + 1 x 0.05 = 10.05
        #expect(invoices.of("above")[0].subtotal == (try dec("10.05")))
    }

    @Test func usageNumberedInAnotherOrderIsReadPerCustomer() throws {
        // The biller guesses each customer's usage number from its catalog position; here the
        // usage was metered on a catalog listing the customers the other way round, on two plans.
        let cheap = Plan(
            id: "cheap", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.10")))])
        let dear = Plan(id: "dear", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1))])
        let customers = [
            Customer(id: "a", plan: "cheap"), Customer(id: "b", plan: "dear"), Customer(id: "c", plan: "cheap"),
        ]
        let metered = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [cheap, dear], customers: customers.reversed())
        let billed = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [cheap, dear], customers: customers)
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: metered, schedule: schedule)
        try builder.add("a", "calls", count: 1, at: "2026-01-05T10:00:00Z")
        try builder.add("b", "calls", count: 2, at: "2026-01-05T10:00:00Z")
        try builder.add("c", "calls", count: 3, at: "2026-01-05T10:00:00Z")
        let usage = builder.usage()
        // Metered as c, b, a: numbers 0, 1, 2. A right guess, a wrong one, one out of range.
        #expect(usage.knownCustomerNumber("c", guessing: 0) == 0)
        #expect(usage.knownCustomerNumber("a", guessing: 0) == 2)
        #expect(usage.knownCustomerNumber("b", guessing: 9) == 1)
        #expect(usage.knownCustomerNumber("nobody", guessing: 0) == nil)
        let invoices = try Biller(catalog: billed, schedule: schedule).invoices(for: usage)
        #expect(invoices.map(\.customer) == ["a", "b", "c"])
        #expect(invoices.of("a")[0].total == (try dec("0.10")))  // 1 x 0.10
        #expect(invoices.of("b")[0].total == 2)  // 2 x 1
        #expect(invoices.of("c")[0].total == (try dec("0.30")))  // 3 x 0.10
    }

    @Test func flatProrationForACustomerStartingMidPeriod() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 31))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "mid", plan: "p", start: try instant("2026-01-16T12:00:00Z")),
                Customer(id: "odd", plan: "p", start: try instant("2026-01-15T00:00:00Z")),
                Customer(id: "late", plan: "p", start: try instant("2026-02-01T00:00:00Z")),
            ])
        let schedule = try months(2)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        let mid = invoices.of("mid")
        // Jan 16 12:00 -> Feb 1 = 15.5 days -> ceil = 16 active of 31: 31 x 16 / 31 = 16.00
        #expect(mid[0].lines[0].amount == 16)
        #expect(
            mid[0].lines[0].breakdown
                == .flat(FlatBreakdown(fullAmount: 31, activeDays: 16, periodDays: 31, prorated: true)))
        // February is whole: 31.00
        #expect(mid[1].lines[0].amount == 31)
        // Jan 15 -> Feb 1 = 17 days: 31 x 17 / 31 = 17.00
        #expect(invoices.of("odd")[0].lines[0].amount == 17)
        // starts with February: no January invoice
        #expect(invoices.of("late").count == 1)
        #expect(invoices.of("late")[0].period.index == 1)
    }

    func commitmentCatalog(customers: [Customer]) throws -> Catalog {
        let plan = Plan(
            id: "p", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1))],
            minimumCommitment: 100)
        return try Catalog(currency: try usd(), metrics: [callsMetric], plans: [plan], customers: customers)
    }

    @Test func minimumCommitmentTrueUpInAFullAndAHalfPeriod() throws {
        let catalog = try commitmentCatalog(customers: [
            Customer(id: "full", plan: "p"),
            Customer(id: "half", plan: "p", start: try instant("2026-02-15T00:00:00Z")),
            Customer(id: "over", plan: "p"),
        ])
        let schedule = try months(1, from: "2026-02-01")
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("full", "calls", count: 30, at: "2026-02-03T00:00:00Z")
        try builder.add("half", "calls", count: 20, at: "2026-02-20T00:00:00Z")
        try builder.add("over", "calls", count: 120, at: "2026-02-03T00:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        let full = invoices.of("full")[0]
        // 100 - 30 = 70 true-up, after the charge line
        #expect(full.lines.map(\.kind) == [.charge, .minimumCommitmentTrueUp])
        #expect(full.lines[1].amount == 70)
        #expect(full.subtotal == 100)
        // Feb 15 -> Mar 1 = 14 of 28 days: commit' = 100 x 14 / 28 = 50; 50 - 20 = 30
        let half = invoices.of("half")[0]
        #expect(half.lines[1].amount == 30)
        #expect(half.subtotal == 50)
        // 120 >= 100: no true-up
        #expect(invoices.of("over")[0].lines.count == 1)
    }

    @Test func proratedCommitmentIsRoundedOnceOnTheTrueUp() throws {
        let catalog = try commitmentCatalog(customers: [
            Customer(id: "c", plan: "p", start: try instant("2026-01-15T00:00:00Z"))
        ])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 10, at: "2026-01-20T00:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // 17 of 31 days: 100 x 17 / 31 = 54.8387...; - 10 = 44.8387... -> 44.84
        #expect(invoices[0].lines[1].amount == (try dec("44.84")))
        #expect(invoices[0].lines[1].unroundedAmount == (try dec("44.838709677419")))
    }

    @Test func spendCapAdjustment() throws {
        let plan = Plan(
            id: "p", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1))], spendCap: 50)
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [Customer(id: "big", plan: "p"), Customer(id: "small", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("big", "calls", count: 80, at: "2026-01-03T00:00:00Z")
        try builder.add("small", "calls", count: 40, at: "2026-01-03T00:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        let big = invoices.of("big")[0]
        // 80 > 50: adjustment 50 - 80 = -30
        #expect(big.lines.map(\.kind) == [.charge, .spendCapAdjustment])
        #expect(big.lines[1].amount == -30)
        #expect(big.subtotal == 50)
        // 40 <= 50: untouched
        #expect(invoices.of("small")[0].lines.count == 1)
    }

    @Test func percentDiscountForTwoPeriods() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 100))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "c", plan: "p"),
                Customer(id: "joins", plan: "p", start: try instant("2026-02-01T00:00:00Z")),
            ],
            discounts: [
                Discount(name: "Launch 10%", customer: "c", kind: .percent(10), duration: .periods(2)),
                Discount(name: "Welcome 10%", customer: "joins", kind: .percent(10), duration: .periods(2)),
            ])
        let schedule = try months(3)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        let c = invoices.of("c")
        // periods 1 and 2: round(100 x 10%) = 10 -> total 90; period 3: none -> 100
        #expect(c.map(\.discountTotal) == [10, 10, 0])
        #expect(c.map(\.total) == [90, 90, 100])
        #expect(c[2].discounts.isEmpty)
        // counted from the customer's first invoice (Feb): Feb and Mar discounted
        #expect(invoices.of("joins").map(\.discountTotal) == [10, 10])
    }

    @Test func fixedOnceDiscountBiggerThanTheInvoiceCarriesItsRest() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 30))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")],
            discounts: [Discount(name: "Sign-up credit", customer: "c", kind: .fixed(50), duration: .once)])
        let schedule = try months(3)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // P1: min(50, 30) = 30, rest 50 - 30 = 20 -> total 0
        #expect(invoices[0].discounts[0].amount == 30)
        #expect(invoices[0].discounts[0].carriedForward == 20)
        #expect(invoices[0].total == 0)
        // P2: min(0 + 20, 30) = 20, rest 0 -> total 30 - 20 = 10
        #expect(invoices[1].discounts[0].amount == 20)
        #expect(invoices[1].discounts[0].carriedForward == 0)
        #expect(invoices[1].total == 10)
        // P3: nothing left, no discount line
        #expect(invoices[2].discounts.isEmpty)
        #expect(invoices[2].total == 30)
    }

    @Test func fixedDiscountSpreadsByLargestRemainder() throws {
        let plan = Plan(
            id: "p",
            charges: [
                Charge(name: "A", metric: nil, model: .flat(amount: 10)),
                Charge(name: "B", metric: nil, model: .flat(amount: 10)),
                Charge(name: "C", metric: nil, model: .flat(amount: 10)),
            ])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")],
            discounts: [Discount(name: "Ten off", customer: "c", kind: .fixed(10), duration: .forever)])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // 1000 cents x 1000 / 3000 = 333 rem 1/3 each; 1 cent left goes to the first line (tie -> earlier)
        #expect(invoices[0].discounts[0].perLine == [try dec("3.34"), try dec("3.33"), try dec("3.33")])
        #expect(invoices[0].discountTotal == 10)
        #expect(invoices[0].total == 20)
    }

    @Test func taxOnTheDiscountedAmountForTwoJurisdictionsAndAnExemptCustomer() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 100))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "ca", plan: "p", taxJurisdiction: "US-CA"),
                Customer(id: "de", plan: "p", taxJurisdiction: "DE"),
                Customer(id: "exempt", plan: "p", taxJurisdiction: "US-CA", taxExempt: true),
                Customer(id: "nowhere", plan: "p"),
            ],
            discounts: [Discount(name: "10% off", customer: "ca", kind: .percent(10), duration: .forever)],
            taxRates: [
                TaxRate(name: "CA state", jurisdiction: "US-CA", rate: 6),
                TaxRate(name: "DE VAT", jurisdiction: "DE", rate: 19),
                TaxRate(name: "LA county", jurisdiction: "US-CA", rate: try dec("1.25")),
            ])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        let ca = invoices.of("ca")[0]
        // taxable 100 - 10 = 90; state 90 x 6% = 5.40; county 90 x 1.25% = 1.125 -> 1.13 (rates add, no compounding)
        #expect(ca.taxes.map(\.name) == ["CA state", "LA county"])
        #expect(ca.taxes.map(\.amount) == [try dec("5.40"), try dec("1.13")])
        #expect(ca.taxTotal == (try dec("6.53")))
        // 100 - 10 + 6.53 = 96.53
        #expect(ca.total == (try dec("96.53")))
        // 100 x 19% = 19 -> 119
        #expect(invoices.of("de")[0].taxTotal == 19)
        #expect(invoices.of("de")[0].total == 119)
        #expect(invoices.of("exempt")[0].taxes.isEmpty)
        #expect(invoices.of("exempt")[0].total == 100)
        #expect(invoices.of("nowhere")[0].taxes.isEmpty)
    }

    @Test func prepaidCreditsAcrossPeriodsExpiringThenTheBalance() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 60))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [Customer(id: "c", plan: "p", creditBalance: 25)],
            credits: [
                PrepaidCredit(customer: "c", amount: 50, grantedInPeriod: 1, expiresAfterPeriods: 1),
                PrepaidCredit(customer: "c", amount: 100, grantedInPeriod: 0, expiresAfterPeriods: 2),
            ])
        let schedule = try months(3)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // P0: the 100 grant pays 60, 40 left; due 0
        #expect(
            invoices[0].credits == [
                CreditApplication(source: .prepaid(grantedInPeriod: 0, catalogIndex: 1), amount: 60, remaining: 40)
            ])
        #expect(invoices[0].amountDue == 0)
        // P1: oldest grant first: 40 from the P0 grant, then 20 of the P1 grant (30 left); due 0
        #expect(invoices[1].credits.map(\.amount) == [40, 20])
        #expect(invoices[1].amountDue == 0)
        // the P1 grant's last usable period is P1: its 30 expire here
        #expect(invoices[1].expiredCredits == [ExpiredCredit(grantedInPeriod: 1, catalogIndex: 0, amount: 30)])
        // P2: no grant left; the 25 balance pays; 60 - 25 = 35 due
        #expect(invoices[2].credits == [CreditApplication(source: .balance, amount: 25, remaining: 0)])
        #expect(invoices[2].amountDue == 35)
        #expect(invoices[2].expiredCredits.isEmpty)
    }

    @Test func rolloverOfUnusedIncludedUnitsWithACapOverThreePeriods() throws {
        let plan = Plan(
            id: "p",
            charges: Plan.shorthandCharges(
                metric: "calls", baseFee: nil, includedUnits: 100, overagePrice: 1, usageName: "Calls"),
            rollover: Rollover(metric: "calls", maxPeriods: 1, cap: 30))
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
        let schedule = try months(3)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 50, at: "2026-01-10T00:00:00Z")
        try builder.add("c", "calls", count: 10, at: "2026-02-10T00:00:00Z")
        try builder.add("c", "calls", count: 150, at: "2026-03-10T00:00:00Z")
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        // P0: 50 used of 100 included; 50 unused -> capped at 30 roll forward; no overage
        #expect(
            invoices[0].rollover
                == RolloverSummary(
                    metric: "calls", includedUnits: 100, available: 0, used: 0, expired: 0, carriedForward: 30))
        #expect(invoices[0].total == 0)
        // P1: 10 covered by the P0 bucket first (20 of it left); 0 remaining -> 100 unused -> capped 30
        #expect(
            invoices[1].rollover
                == RolloverSummary(
                    metric: "calls", includedUnits: 100, available: 30, used: 10, expired: 0, carriedForward: 30))
        #expect(invoices[1].lines[0].rolloverUnitsUsed == 10)
        #expect(invoices[1].lines[0].quantity == 0)
        // P2: the P0 bucket (usable only in P1) expires with 20; the P1 bucket's 30 cover usage first:
        // 150 - 30 = 120 rated -> (120 - 100) x 1.00 = 20.00; nothing unused
        #expect(
            invoices[2].rollover
                == RolloverSummary(
                    metric: "calls", includedUnits: 100, available: 30, used: 30, expired: 20, carriedForward: 0))
        #expect(invoices[2].lines[0].quantity == 120)
        #expect(invoices[2].lines[0].rolloverUnitsUsed == 30)
        #expect(invoices[2].lines[0].amount == 20)
    }

    @Test func routingFollowsTheBillingType() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 1))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "card", plan: "p", billing: .card), Customer(id: "ar", plan: "p", billing: .invoice),
            ])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        #expect(invoices.map(\.destination) == [.card, .invoice])
    }

    @Test func invoiceNumbersAreDeterministic() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 1))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [Customer(id: "first", plan: "p"), Customer(id: "second", plan: "p")])
        let schedule = try months(2, from: "2026-01-15")
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let usage = builder.usage()
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: usage)
        // period start date, then the customer's 1-based catalog position in 6 digits; order: period, then customer
        #expect(
            invoices.map(\.number) == [
                "INV-20260115-000001", "INV-20260115-000002", "INV-20260215-000001", "INV-20260215-000002",
            ])
        #expect(try Biller(catalog: catalog, schedule: schedule).invoices(for: usage) == invoices)
    }

    @Test func invoicesHandedOverOneByOneComeInTheSameOrder() throws {
        // Credit carries between periods in the ledger, so a streamed run must keep it too:
        // "first" has a 1.50 balance against a 1.00 flat fee, "second" none.
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 1))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "first", plan: "p", creditBalance: try dec("1.50")), Customer(id: "second", plan: "p"),
            ])
        let schedule = try months(2, from: "2026-01-15")
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        var handed: [Invoice] = []
        try Biller(catalog: catalog, schedule: schedule).forEachInvoice(for: builder.usage()) { handed.append($0) }
        #expect(
            handed.map(\.number) == [
                "INV-20260115-000001", "INV-20260115-000002", "INV-20260215-000001", "INV-20260215-000002",
            ])
        // first: P1 balance pays 1.00 (0.50 left), due 0.00; P2 balance pays 0.50, due 0.50. second: due 1.00 both times.
        #expect(handed.map(\.amountDue) == [0, 1, try dec("0.50"), 1])
        #expect(try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage()) == handed)
    }

    @Test func customerRangesBilledApartMakeTheSameInvoices() throws {
        // Flat 1.00 plus 0.10 a call; c2's 1.50 balance carries from P1 to P2 in its own ledger.
        let plan = Plan(
            id: "p",
            charges: [
                Charge(name: "Base", metric: nil, model: .flat(amount: 1)),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.10"))),
            ])
        let balance = try dec("1.50")
        let customers = (1...5).map { Customer(id: "c\($0)", plan: "p", creditBalance: $0 == 2 ? balance : .zero) }
        let catalog = try Catalog(currency: try usd(), metrics: [callsMetric], plans: [plan], customers: customers)
        let schedule = try months(2)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c1", "calls", count: 3, at: "2026-01-05T10:00:00Z")
        try builder.add("c3", "calls", count: 10, at: "2026-02-05T10:00:00Z")
        let usage = builder.usage()
        let biller = Biller(catalog: catalog, schedule: schedule)
        var parts: [[Invoice]] = []
        for range in [0..<1, 1..<3, 3..<5, 5..<5, 4..<9] {
            var part: [Invoice] = []
            try biller.forEachInvoice(for: usage, customers: range) { part.append($0) }
            parts.append(part)
        }
        #expect(parts[3].isEmpty)  // no customer
        #expect(parts[4].map(\.customer) == ["c5", "c5"])  // clamped to the catalog
        // Each period in turn, range after range: the order of billing the whole catalog.
        let merged = (0..<2).flatMap { period in parts[0..<3].flatMap { $0.filter { $0.period.index == period } } }
        #expect(merged == (try biller.invoices(for: usage)))
        #expect(merged.map(\.number).prefix(2) == ["INV-20260101-000001", "INV-20260101-000002"])
        // P1: c1 1 + 3 x 0.10 = 1.30; c2 1.00 paid by balance (0.50 left); c3-c5 1.00.
        // P2: c1 1.00; c2 1.00 - 0.50 = 0.50; c3 1 + 10 x 0.10 = 2.00; c4, c5 1.00.
        #expect(merged.map(\.amountDue) == [try dec("1.30"), 0, 1, 1, 1, 1, try dec("0.50"), 2, 1, 1])
    }

    @Test func invoiceNumberDigitsArePaddedNotCut() {
        func padded(_ value: Int, _ width: Int) -> String {
            var text: [UInt8] = []
            InvoiceStage.appendPadded(value, width, to: &text)
            return String(decoding: text, as: UTF8.self)
        }
        #expect(padded(7, 6) == "000007")
        #expect(padded(0, 2) == "00")
        // A position past 999,999 keeps all seven digits.
        #expect(padded(1_234_567, 6) == "1234567")
        #expect(padded(2026, 4) == "2026")
        // Powers of ten and the largest Int: every digit, none lost at the top.
        #expect(padded(10, 2) == "10" && padded(100, 2) == "100")
        #expect(padded(Int.max, 4) == "9223372036854775807")
        // Never reached by dates or positions, and spelled as before: two zeros, then "-5".
        #expect(padded(-5, 4) == "00-5")
    }

    @Test func linesAreRoundedBeforeTheyAreSummed() throws {
        let price = try dec("0.005")
        let plan = Plan(
            id: "p",
            charges: [
                Charge(name: "A", metric: "calls", model: .perUnit(unitPrice: price)),
                Charge(name: "B", metric: "calls", model: .perUnit(unitPrice: price)),
                Charge(name: "C", metric: "calls", model: .perUnit(unitPrice: price)),
            ])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", at: "2026-01-02T00:00:00Z")
        let invoice = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())[0]
        // each line 1 x 0.005 = 0.005 -> 0.01; 3 x 0.01 = 0.03, not round(0.015) = 0.02
        #expect(invoice.lines.map(\.unroundedAmount) == [price, price, price])
        #expect(invoice.lines.map(\.amount) == [try dec("0.01"), try dec("0.01"), try dec("0.01")])
        #expect(invoice.subtotal == (try dec("0.03")))
    }

    @Test func yenHasNoMinorDigits() throws {
        let plan = Plan(
            id: "p",
            charges: [
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.5"))),
                Charge(name: "Base", metric: nil, model: .flat(amount: 1000)),
            ])
        let catalog = try Catalog(
            currency: try currency("JPY"), metrics: [callsMetric], plans: [plan],
            customers: [
                Customer(id: "c", plan: "p", taxJurisdiction: "JP", start: try instant("2026-01-16T00:00:00Z"))
            ],
            taxRates: [TaxRate(name: "JP consumption", jurisdiction: "JP", rate: 10)])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 3, at: "2026-01-20T00:00:00Z")
        let invoice = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())[0]
        // 3 x 0.5 = 1.5 -> 2 yen; 1000 x 16 / 31 = 516.13 -> 516 yen
        #expect(invoice.lines.map(\.amount) == [2, 516])
        // tax per line: 2 x 10% = 0.2 -> 0; 516 x 10% = 51.6 -> 52
        #expect(invoice.taxes[0].perLine == [0, 52])
        // 518 + 52 = 570
        #expect(invoice.total == 570)
        #expect(invoice.currency.format(invoice.total) == "570")
    }

    @Test func kuwaitiDinarHasThreeMinorDigits() throws {
        let plan = Plan(
            id: "p", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.0005")))])
        let catalog = try Catalog(
            currency: try currency("KWD"), metrics: [callsMetric], plans: [plan],
            customers: [Customer(id: "c", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 3, at: "2026-01-20T00:00:00Z")
        let invoice = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())[0]
        // 3 x 0.0005 = 0.0015 -> 0.002 (half-up at 3 digits)
        #expect(invoice.lines[0].amount == (try dec("0.002")))
        #expect(invoice.currency.format(invoice.total) == "0.002")
    }

    @Test func shorthandPlanBillsLikeExplicitGraduatedTiers() throws {
        let shorthand = Plan(
            id: "p",
            charges: Plan.shorthandCharges(
                metric: "calls", baseFee: 49, includedUnits: 1000, overagePrice: try dec("0.002"),
                usageName: "API calls"))
        let explicit = Plan(
            id: "p",
            charges: [
                Charge(name: "Base fee", metric: nil, model: .flat(amount: 49)),
                Charge(
                    name: "API calls", metric: "calls",
                    model: .graduated([
                        Tier(upTo: 1000, unitPrice: 0), Tier(upTo: nil, unitPrice: try dec("0.002")),
                    ])),
            ])
        let schedule = try months(2)
        func bill(_ plan: Plan) throws -> [Invoice] {
            let catalog = try Catalog(
                currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
            var builder = UsageBuilder(catalog: catalog, schedule: schedule)
            try builder.add("c", "calls", count: 1500, at: "2026-01-10T00:00:00Z")
            try builder.add("c", "calls", count: 700, at: "2026-02-10T00:00:00Z")
            return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        }
        let viaShorthand = try bill(shorthand)
        #expect(viaShorthand == (try bill(explicit)))
        // Jan: 49 + (1500 - 1000) x 0.002 = 49 + 1 = 50; Feb: 49 + 0 = 49
        #expect(viaShorthand.map(\.total) == [50, 49])
    }

    @Test func matrixAndPercentageThroughTheMeter() throws {
        let requests = Metric(key: "requests", aggregation: .count, groupBy: ["region"])
        let payments = Metric(key: "payments", aggregation: .sum, property: "amount")
        let plan = Plan(
            id: "p",
            charges: [
                Charge(
                    name: "Requests", metric: "requests",
                    model: .matrix(
                        MatrixPrices(
                            dimensions: ["region"], prices: [MatrixPrice(values: ["us"], unitPrice: try dec("0.10"))],
                            defaultPrice: try dec("0.25")))),
                Charge(
                    name: "Payments", metric: "payments",
                    model: .percentage(PercentageTerms(rate: 2, fixedFee: try dec("0.30")))),
            ])
        let catalog = try Catalog(
            currency: try usd(), metrics: [requests, payments], plans: [plan], customers: [Customer(id: "c", plan: "p")]
        )
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "requests", count: 4, at: "2026-01-02T00:00:00Z", properties: ["region": "us"])
        try builder.add("c", "requests", count: 3, at: "2026-01-02T00:00:00Z", properties: ["region": "eu"])
        try builder.add("c", "payments", at: "2026-01-03T00:00:00Z", properties: ["amount": "10.00"])
        try builder.add("c", "payments", at: "2026-01-04T00:00:00Z", properties: ["amount": "25.50"])
        let invoice = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())[0]
        // eu (unlisted): 3 x 0.25 = 0.75; us: 4 x 0.10 = 0.40 -> 1.15
        #expect(invoice.lines[0].amount == (try dec("1.15")))
        // 10 x 2% + 0.30 = 0.50; 25.50 x 2% + 0.30 = 0.51 + 0.30 = 0.81 -> 1.31
        #expect(invoice.lines[1].amount == (try dec("1.31")))
    }

    @Test func usageFromAnotherScheduleIsRefused() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 1))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
        var builder = UsageBuilder(catalog: catalog, schedule: try months(1))
        let usage = builder.usage()
        #expect(throws: BillingError.self) {
            try Biller(catalog: catalog, schedule: try months(2)).invoices(for: usage)
        }
    }

    @Test func overflowIsAThrownErrorWithContext() throws {
        let huge = try dec("99999999999999999999999999999999999999")
        let plan = Plan(id: "p", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: huge))])
        let catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: [Customer(id: "c", plan: "p")])
        let schedule = try months(1)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        try builder.add("c", "calls", count: 2, at: "2026-01-02T00:00:00Z")
        let usage = builder.usage()
        do {
            _ = try Biller(catalog: catalog, schedule: schedule).invoices(for: usage)
            Issue.record("expected an overflow")
        } catch {
            #expect(error.stage == .rating)
            #expect(error.customer == "c")
            #expect(error.cause == .overflow)
        }
    }
}
