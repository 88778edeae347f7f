import Testing

@testable import TallyPipeline

/// The contract terms finance negotiates: charge minimums, tax codes, scoped discounts, pricing
/// units, tiered blocks and commitments over a term. Every expected figure is worked by hand.
@Suite("Contract terms")
struct ContractTermsTests {
    func usd() throws -> Currency { try currency("USD") }

    /// Bills one plan for the customers, with `events` of (customer, calls, day of January).
    func bill(
        _ plan: Plan, customers: [Customer], events: [(String, Int, Int)], periods: Int = 1,
        discounts: [Discount] = [], taxRates: [TaxRate] = [], configure: (inout Catalog) -> Void = { _ in }
    ) throws -> [Invoice] {
        var catalog = try Catalog(
            currency: try usd(), metrics: [callsMetric], plans: [plan], customers: customers,
            discounts: discounts, taxRates: taxRates)
        configure(&catalog)
        let schedule = try months(periods)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        for (customer, count, day) in events where count > 0 {
            let month = (day - 1) / 28 + 1
            let dayOfMonth = (day - 1) % 28 + 1
            let text = "2026-\(month < 10 ? "0" : "")\(month)-\(dayOfMonth < 10 ? "0" : "")\(dayOfMonth)T10:00:00Z"
            try builder.add(customer, "calls", count: count, at: text)
        }
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    // MARK: - Charge minimums

    func minimumPlan(minimumCommitment: ExactDecimal? = nil) throws -> Plan {
        var calls = Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.10")))
        calls.minAmount = 10
        return Plan(
            id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 5)), calls],
            minimumCommitment: minimumCommitment)
    }

    @Test func chargeMinimumTruesUpThatChargeAlone() throws {
        let invoices = try bill(
            try minimumPlan(), customers: [Customer(id: "low", plan: "p"), Customer(id: "high", plan: "p")],
            events: [("low", 30, 5), ("high", 150, 5)])
        let low = invoices.of("low")[0]
        // 30 x 0.10 = 3.00 < 10: true-up 7.00 after the charge lines; the 5.00 base fee does not count
        #expect(low.lines.map(\.kind) == [.charge, .charge, .chargeMinimumTrueUp])
        #expect(low.lines[2].amount == 7)
        #expect(low.lines[2].name == "Calls minimum true-up")
        #expect(low.lines[2].chargeIndex == 1)
        #expect(low.subtotal == 15)  // 5 + 3 + 7
        // 150 x 0.10 = 15.00 >= 10: no true-up
        #expect(invoices.of("high")[0].lines.count == 2)
    }

    @Test func chargeMinimumIsProratedAndCountsTowardsThePlanMinimum() throws {
        let invoices = try bill(
            try minimumPlan(minimumCommitment: 40),
            customers: [Customer(id: "c", plan: "p", start: try instant("2026-01-15T00:00:00Z"))],
            events: [("c", 20, 20)])
        let invoice = invoices[0]
        // 17 of 31 days. Base 5 x 17/31 = 2.741... -> 2.74; calls 20 x 0.10 = 2.00
        // charge minimum 10 x 17/31 = 5.4838...; - 2 = 3.4838... -> 3.48
        #expect(invoice.lines[2].amount == (try dec("3.48")))
        #expect(invoice.lines[2].unroundedAmount == (try dec("3.483870967742")))
        // plan minimum 40 x 17/31 = 21.9354...; spent 2.74 + 2.00 + 3.48 = 8.22; true-up 13.7154... -> 13.72
        #expect(invoice.lines.map(\.kind) == [.charge, .charge, .chargeMinimumTrueUp, .minimumCommitmentTrueUp])
        #expect(invoice.lines[3].amount == (try dec("13.72")))
    }

    // MARK: - Both free allowances of a percentage charge

    func payment(_ id: String, _ second: Int, _ value: String) throws -> EventValue {
        EventValue(
            timestamp: Instant(millisecondsSinceEpoch: Int64(second) * 1_000), eventID: id, value: try dec(value))
    }

    func bothAllowances(_ rule: PercentageTerms.FreeAllowance) throws -> PercentageTerms {
        var terms = PercentageTerms(rate: try dec("1.2"), fixedFee: try dec("0.10"), freeEvents: 3, freeAmount: 500)
        terms.freeAllowance = rule
        return terms
    }

    @Test func lagoRuleReproducesLagosPublishedExample() throws {
        // getlago.com percentage model: 3 events or $500 free; payments 200, 100, 100, 50.
        let events = [
            try payment("a", 1, "200"), try payment("b", 2, "100"), try payment("c", 3, "100"),
            try payment("d", 4, "50"),
        ]
        let lago = try Pricing.percentage(events: events, terms: try bothAllowances(.firstLimit))
        // the fourth payment is past the event limit: 50 x 1.2% + 0.10 = 0.70
        #expect(lago.amount == (try dec("0.70")))
        guard case .percentage(let breakdown) = lago.breakdown else {
            Issue.record("not percentage")
            return
        }
        #expect(
            breakdown
                == PercentageBreakdown(
                    events: 4, freeEvents: 3, freeValue: 400, billableValue: 50,
                    chargedEvents: 1, raisedToMinimum: 0, loweredToMaximum: 0))
        // Tally's rule: 3 free events, then the 50 is inside the 500 free amount
        #expect(try Pricing.percentage(events: events, terms: try bothAllowances(.eventsThenAmount)).amount == 0)
    }

    @Test func lagoRuleEndsTheAllowanceWhenTheAmountRunsOutFirst() throws {
        let events = [
            try payment("a", 1, "300"), try payment("b", 2, "300"), try payment("c", 3, "100"),
            try payment("d", 4, "700"),
        ]
        let lago = try Pricing.percentage(events: events, terms: try bothAllowances(.firstLimit))
        // a: 300 waived (200 left); b: 200 waived, 100 x 1.2% + 0.10 = 1.30; c: 1.20 + 0.10 = 1.30;
        // d: 8.40 + 0.10 = 8.50; 1.30 + 1.30 + 8.50 = 11.10
        #expect(lago.amount == (try dec("11.10")))
        // Tally: a, b, c free events; d: 500 waived, 200 x 1.2% + 0.10 = 2.50
        #expect(
            try Pricing.percentage(events: events, terms: try bothAllowances(.eventsThenAmount)).amount
                == (try dec("2.50")))
    }

    @Test func lagoRuleWithOneAllowanceIsTallysRule() throws {
        let events = [try payment("a", 1, "300"), try payment("b", 2, "300")]
        for (events3, amount) in [(3, ExactDecimal.zero), (0, ExactDecimal(400))] {
            var lago = PercentageTerms(rate: 10, freeEvents: events3, freeAmount: amount)
            let tally = try Pricing.percentage(events: events, terms: lago)
            lago.freeAllowance = .firstLimit
            #expect(try Pricing.percentage(events: events, terms: lago) == tally)
        }
    }

    // MARK: - Tax codes, prices that include tax, rounding

    func taxRates() -> [TaxRate] {
        var reduced = TaxRate(name: "VAT reduced", jurisdiction: "DE", rate: 7)
        reduced.code = "reduced"
        return [TaxRate(name: "VAT", jurisdiction: "DE", rate: 19), reduced]
    }

    func codedPlan(includesTax: Bool = false) throws -> Plan {
        var books = Charge(name: "Books", metric: "calls", model: .perUnit(unitPrice: try dec("1.07")))
        books.taxCode = "reduced"
        var donations = Charge(name: "Donation", metric: nil, model: .flat(amount: 10))
        donations.taxCode = TaxRate.exemptCode
        var plan = Plan(
            id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 119)), books, donations])
        plan.pricesIncludeTax = includesTax
        return plan
    }

    @Test func taxCodesPickTheRatesOfEachLine() throws {
        let invoices = try bill(
            try codedPlan(), customers: [Customer(id: "c", plan: "p", taxJurisdiction: "DE")],
            events: [("c", 10, 5)], taxRates: taxRates())
        let invoice = invoices[0]
        // lines 119.00 (standard), 10.70 (reduced), 10.00 (exempt)
        // 19%: 22.61 + 0 + 0; 7%: 0 + 0.749 -> 0.75 + 0
        #expect(invoice.taxes.map(\.perLine) == [[try dec("22.61"), 0, 0], [0, try dec("0.75"), 0]])
        #expect(invoice.total == (try dec("163.06")))  // 139.70 + 22.61 + 0.75
    }

    @Test func pricesThatIncludeTaxAreCarvedOut() throws {
        let invoices = try bill(
            try codedPlan(includesTax: true), customers: [Customer(id: "c", plan: "p", taxJurisdiction: "DE")],
            events: [("c", 10, 5)], taxRates: taxRates())
        let invoice = invoices[0]
        // 119 x 19/119 = 19.00; 10.70 x 7/107 = 0.70; the total is the subtotal, 139.70
        #expect(invoice.taxes.map(\.amount) == [19, try dec("0.70")])
        #expect(invoice.taxTotal == (try dec("19.70")))
        #expect(invoice.total == (try dec("139.70")))
        #expect(invoice.pricesIncludeTax)
    }

    @Test func aCodedRateShowsOnlyWhereALineCarriesItsCode() throws {
        let plan = Plan(id: "p", charges: [Charge(name: "Base", metric: nil, model: .flat(amount: 100))])
        let invoices = try bill(
            plan, customers: [Customer(id: "c", plan: "p", taxJurisdiction: "DE")], events: [], taxRates: taxRates())
        #expect(invoices[0].taxes.map(\.name) == ["VAT"])
    }

    @Test func taxRoundedOncePerInvoice() throws {
        let fee = try dec("0.13")
        let plan = Plan(
            id: "p", charges: (1...3).map { Charge(name: "Fee \($0)", metric: nil, model: .flat(amount: fee)) })
        let customers = [Customer(id: "c", plan: "p", taxJurisdiction: "DE")]
        let perLine = try bill(plan, customers: customers, events: [], taxRates: taxRates())
        // 0.13 x 19% = 0.0247 -> 0.02, three times: 0.06
        #expect(perLine[0].taxTotal == (try dec("0.06")))
        let perInvoice = try bill(plan, customers: customers, events: [], taxRates: taxRates()) {
            $0.taxRounding = .invoice
        }
        // 0.0247 x 3 = 0.0741 -> 0.07, rounded once
        #expect(perInvoice[0].taxTotal == (try dec("0.07")))
        #expect(perInvoice[0].taxes[0].unroundedAmount == (try dec("0.0741")))
        #expect(perInvoice[0].taxes[0].perLine == [try dec("0.0247"), try dec("0.0247"), try dec("0.0247")])
    }

    @Test func anUnknownOrReservedTaxCodeIsRefused() throws {
        var charge = Charge(name: "Books", metric: "calls", model: .perUnit(unitPrice: 1))
        charge.taxCode = "reduce"
        var rate = TaxRate(name: "Odd", jurisdiction: "DE", rate: 5)
        rate.code = "exempt"
        #expect(throws: CatalogErrors.self) {
            try Catalog(
                currency: try usd(), metrics: [callsMetric], plans: [Plan(id: "p", charges: [charge])],
                customers: [], taxRates: taxRates())
        }
        do {
            _ = try Catalog(
                currency: try usd(), metrics: [callsMetric], plans: [Plan(id: "p", charges: [charge])],
                customers: [], taxRates: taxRates() + [rate])
            Issue.record("a catalog with an unknown and a reserved tax code was accepted")
        } catch let error as CatalogErrors {
            #expect(error.errors.map(\.pathDescription) == ["plans[0].charges[0].tax_code", "taxes[2].code"])
        }
    }

    // MARK: - Scoped discounts

    func twoChargePlan() throws -> Plan {
        Plan(
            id: "p",
            charges: [
                Charge(name: "Base", metric: nil, model: .flat(amount: 60)),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1)),
            ])
    }

    @Test func aPlanWideDiscountLimitedToAMetricTakesNothingOffTheOtherLines() throws {
        var percent = Discount(name: "Calls 25%", customer: nil, kind: .percent(25), duration: .forever)
        percent.plan = "p"
        percent.metrics = ["calls"]
        var fixed = Discount(name: "Calls 10 off", customer: nil, kind: .fixed(10), duration: .forever)
        fixed.plan = "p"
        fixed.charges = ["Calls"]
        let invoices = try bill(
            try twoChargePlan(), customers: [Customer(id: "a", plan: "p"), Customer(id: "b", plan: "p")],
            events: [("a", 40, 5), ("b", 8, 5)], discounts: [percent, fixed])
        // a: lines 60, 40. 25% of 40 = 10 -> net 30; then 10 off the calls line alone
        #expect(invoices.of("a")[0].discounts.map(\.perLine) == [[0, 10], [0, 10]])
        #expect(invoices.of("a")[0].total == 80)
        // b: lines 60, 8. 25% of 8 = 2 -> net 6; the 10 off is capped at the covered net, 6
        #expect(invoices.of("b")[0].discounts.map(\.amount) == [2, 6])
        #expect(invoices.of("b")[0].total == 60)
    }

    @Test func datesDecideWhichInvoicesADiscountIsInEffectOnAndItsDurationCountsThose() throws {
        var discount = Discount(name: "Summer", customer: nil, kind: .percent(10), duration: .forever)
        discount.plan = "p"
        discount.start = try instant("2026-02-01T00:00:00Z")
        discount.expires = try instant("2026-04-01T00:00:00Z")
        let invoices = try bill(
            try twoChargePlan(), customers: [Customer(id: "c", plan: "p")], events: [], periods: 4,
            discounts: [discount])
        // Jan: before its start. Feb, Mar: 10% of the 60.00 base fee. Apr: expired.
        #expect(invoices.map(\.discountTotal) == [0, 6, 6, 0])
        var once = discount
        once.expires = nil
        once.duration = .once
        // `once` is the first invoice it is in effect on: February, not the customer's first.
        let counted = try bill(
            try twoChargePlan(), customers: [Customer(id: "c", plan: "p")], events: [], periods: 4, discounts: [once])
        #expect(counted.map(\.discountTotal) == [0, 6, 0, 0])
    }

    // MARK: - Tiered blocks and pricing units

    func kbTiers(_ mode: TieredBlocks.Mode) throws -> TieredBlocks {
        TieredBlocks(
            tiers: [
                BlockTier(upTo: 1000, blockSize: 100, blockPrice: 1),
                BlockTier(upTo: 101_000, blockSize: 1000, blockPrice: 1),
                BlockTier(upTo: nil, blockSize: 1000, blockPrice: try dec("0.5")),
            ], mode: mode)
    }

    @Test func tieredBlocksInBothOfKillBillsModes() throws {
        // all_tiers, 5,325: 1,000 in tier 1 = 10 blocks of 100; 4,325 in tier 2 = ceil(4.325) = 5 blocks: 15
        #expect(try Pricing.tieredBlocks(quantity: 5325, terms: try kbTiers(.allTiers)).amount == 15)
        // all_tiers, 101,001: 10 + 100 + 1 block of tier 3 at 0.5 = 110.5
        #expect(try Pricing.tieredBlocks(quantity: 101_001, terms: try kbTiers(.allTiers)).amount == (try dec("110.5")))
        // top_tier (Kill Bill's test figures): 1,000 -> 10; 101,000 -> 101; 101,001 -> 102 x 0.5 = 51; 300,000 -> 150
        for (quantity, amount) in [(1000, "10"), (101_000, "101"), (101_001, "51"), (300_000, "150")] {
            #expect(
                try Pricing.tieredBlocks(quantity: ExactDecimal(quantity), terms: try kbTiers(.topTier)).amount
                    == (try dec(amount)))
        }
        // nothing at 0, in either mode
        #expect(try Pricing.tieredBlocks(quantity: 0, terms: try kbTiers(.allTiers)).amount == 0)
        #expect(
            try Pricing.tieredBlocks(quantity: 0, terms: try kbTiers(.topTier)).breakdown
                == .tieredBlocks(mode: .topTier, []))
    }

    @Test func aTierMustHoldWholeBlocks() throws {
        let terms = TieredBlocks(
            tiers: [
                BlockTier(upTo: 250, blockSize: 100, blockPrice: 1), BlockTier(upTo: nil, blockSize: 0, blockPrice: 1),
            ],
            mode: .allTiers)
        do {
            _ = try Catalog(
                currency: try usd(), metrics: [callsMetric],
                plans: [Plan(id: "p", charges: [Charge(name: "Units", metric: "calls", model: .tieredBlocks(terms))])],
                customers: [])
            Issue.record("a tier of 2.5 blocks and a block of 0 units were accepted")
        } catch let error as CatalogErrors {
            #expect(
                error.errors.map(\.pathDescription) == [
                    "plans[0].charges[0].tiers[0].up_to", "plans[0].charges[0].tiers[1].block_size",
                ])
        }
    }

    @Test func aPlanInCreditsConvertsEachLineOnce() throws {
        var tokens = Charge(name: "Tokens", metric: "calls", model: .perUnit(unitPrice: 3))
        tokens.minAmount = 5000
        var plan = Plan(id: "p", charges: [Charge(name: "Platform", metric: nil, model: .flat(amount: 5000)), tokens])
        plan.pricingUnit = PricingUnit(name: "credits", conversionRate: try dec("0.002"))
        let invoices = try bill(plan, customers: [Customer(id: "c", plan: "p")], events: [("c", 1234, 5)])
        let lines = invoices[0].lines
        // 5,000 credits x 0.002 = 10.00
        #expect(lines[0].amount == 10)
        #expect(lines[0].pricingUnitAmount == 5000)
        // 1,234 x 3 = 3,702 credits x 0.002 = 7.404 -> 7.40
        #expect(lines[1].pricingUnitAmount == 3702)
        #expect(lines[1].unroundedAmount == (try dec("7.404")))
        #expect(lines[1].amount == (try dec("7.40")))
        // minimum 5,000 credits: true-up 1,298 credits x 0.002 = 2.596 -> 2.60
        #expect(lines[2].kind == .chargeMinimumTrueUp)
        #expect(lines[2].pricingUnitAmount == 1298)
        #expect(lines[2].amount == (try dec("2.60")))
        #expect(invoices[0].total == 20)
    }

    // MARK: - Commitments over a term

    func committedPlan(_ billing: Commitment.Billing) -> Plan {
        var plan = Plan(
            id: "p",
            charges: [
                Charge(name: "Base", metric: nil, model: .flat(amount: 10)),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: 1)),
            ])
        plan.commitment = Commitment(amount: 100, periods: 2, billing: billing)
        return plan
    }

    /// Calls of 30, 90 and 20 in January, February and March.
    func committedInvoices(_ billing: Commitment.Billing) throws -> [Invoice] {
        try bill(
            committedPlan(billing), customers: [Customer(id: "c", plan: "p")],
            events: [("c", 30, 5), ("c", 90, 33), ("c", 20, 61)], periods: 3)
    }

    @Test func aPrepaidCommitmentIsBilledUpfrontAndDrawnDown() throws {
        let invoices = try committedInvoices(.prepaid)
        // Jan: 10 + 30 + 100 prepaid - 30 drawn = 110 (70 left)
        #expect(invoices[0].lines.map(\.kind) == [.charge, .charge, .commitmentPrepayment, .commitmentDrawdown])
        #expect(invoices[0].total == 110)
        #expect(invoices[0].commitment?.remaining == 70)
        // Feb: 10 + 90 - 70 = 30: 20 of overage; the term ends, nothing forfeited
        #expect(invoices[1].total == 30)
        #expect(invoices[1].commitment?.overage == 20)
        #expect(invoices[1].commitment?.forfeited == 0)
        // Mar: a new term: 10 + 20 + 100 - 20 = 110
        #expect(invoices[2].total == 110)
        #expect(invoices[2].commitment?.periodInTerm == 1)
    }

    @Test func anInArrearsCommitmentTruesUpAtTheTermsEnd() throws {
        var plan = committedPlan(.inArrears)
        plan.commitment?.amount = 150
        let invoices = try bill(
            plan, customers: [Customer(id: "c", plan: "p")],
            events: [("c", 30, 5), ("c", 90, 33), ("c", 20, 61)], periods: 3)
        // Jan: 10 + 30 = 40 (120 left); Feb: 10 + 90 = 100, 90 drawn, 30 left: true-up 30 -> 130
        #expect(invoices.map(\.total) == [40, 130, 30])
        #expect(invoices[1].lines.last?.kind == .commitmentTrueUp)
        #expect(invoices[1].commitment?.trueUp == 30)
        #expect(invoices[1].commitment?.drawnInTerm == 120)
    }
}
