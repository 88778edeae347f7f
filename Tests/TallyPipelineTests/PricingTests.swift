import Testing

@testable import TallyPipeline

@Suite("Pricing models")
struct PricingTests {
    /// 0-100 at 0.10 with a 5.00 tier fee, 100-1000 at 0.05, above at 0.01.
    func graduatedTiers() throws -> [Tier] {
        [
            Tier(upTo: 100, unitPrice: try dec("0.10"), flatFee: 5),
            Tier(upTo: 1000, unitPrice: try dec("0.05")),
            Tier(upTo: nil, unitPrice: try dec("0.01")),
        ]
    }

    @Test func graduatedExactlyAtUpToStaysInTheTier() throws {
        let rated = try Pricing.graduated(quantity: 100, tiers: try graduatedTiers())
        // 100 x 0.10 + 5 = 15; tier 2 starts above 100, so it is not reached
        #expect(rated.amount == 15)
        guard case .graduated(let slices) = rated.breakdown else {
            Issue.record("not graduated")
            return
        }
        #expect(slices.count == 1)
        #expect(slices[0] == TierSlice(tier: 1, units: 100, unitPrice: try dec("0.10"), flatFee: 5, amount: 15))
    }

    @Test func graduatedJustAboveUpToReachesTheNextTier() throws {
        let rated = try Pricing.graduated(quantity: 101, tiers: try graduatedTiers())
        // 100 x 0.10 + 5 = 15, + 1 x 0.05 = 0.05 -> 15.05
        #expect(rated.amount == (try dec("15.05")))
        guard case .graduated(let slices) = rated.breakdown else {
            Issue.record("not graduated")
            return
        }
        #expect(slices.map(\.tier) == [1, 2])
        #expect(slices[1].units == 1)
        #expect(slices[1].amount == (try dec("0.05")))
    }

    @Test func graduatedFractionalQuantityAcrossABoundary() throws {
        let rated = try Pricing.graduated(quantity: try dec("100.5"), tiers: try graduatedTiers())
        // 15 + 0.5 x 0.05 = 15 + 0.025 = 15.025 (unrounded)
        #expect(rated.amount == (try dec("15.025")))
        guard case .graduated(let slices) = rated.breakdown else {
            Issue.record("not graduated")
            return
        }
        #expect(slices[1].units == (try dec("0.5")))
    }

    @Test func graduatedAcrossAllTiers() throws {
        let rated = try Pricing.graduated(quantity: 1500, tiers: try graduatedTiers())
        // 15 + 900 x 0.05 = 45 + 500 x 0.01 = 5 -> 65
        #expect(rated.amount == 65)
    }

    @Test func graduatedZeroUsageStillChargesTierOneFlatFee() throws {
        let rated = try Pricing.graduated(quantity: 0, tiers: try graduatedTiers())
        // 0 x 0.10 + 5 = 5
        #expect(rated.amount == 5)
        guard case .graduated(let slices) = rated.breakdown else {
            Issue.record("not graduated")
            return
        }
        #expect(slices == [TierSlice(tier: 1, units: 0, unitPrice: try dec("0.10"), flatFee: 5, amount: 5)])
    }

    /// 0-100 at 1.00 plus a 2.00 fee; above 100 at 0.50.
    func volumeTiers() throws -> [Tier] {
        [Tier(upTo: 100, unitPrice: 1, flatFee: 2), Tier(upTo: nil, unitPrice: try dec("0.50"))]
    }

    @Test func volumeTotalDropsWhenCrossingIntoACheaperTier() throws {
        let atLimit = try Pricing.volume(quantity: 100, tiers: try volumeTiers())
        let above = try Pricing.volume(quantity: 101, tiers: try volumeTiers())
        // 100 x 1.00 + 2 = 102
        #expect(atLimit.amount == 102)
        // 101 x 0.50 + 0 = 50.50: the whole quantity moves to tier 2
        #expect(above.amount == (try dec("50.50")))
        #expect(above.amount < atLimit.amount)
        #expect(
            above.breakdown
                == .volume(
                    TierSlice(tier: 2, units: 101, unitPrice: try dec("0.50"), flatFee: 0, amount: try dec("50.5"))))
    }

    @Test func volumeAtZeroIsTierOne() throws {
        // 0 x 1.00 + 2 = 2
        #expect(try Pricing.volume(quantity: 0, tiers: try volumeTiers()).amount == 2)
    }

    @Test func packageExactlyFullAndOneOver() throws {
        let full = try Pricing.package(quantity: 200, size: 100, price: 5, freeUnits: 0, roundUp: true)
        let oneOver = try Pricing.package(quantity: 201, size: 100, price: 5, freeUnits: 0, roundUp: true)
        let roundedDown = try Pricing.package(quantity: 201, size: 100, price: 5, freeUnits: 0, roundUp: false)
        // ceil(200 / 100) = 2 packages x 5 = 10
        #expect(full.amount == 10)
        // ceil(201 / 100) = 3 x 5 = 15
        #expect(oneOver.amount == 15)
        // floor(201 / 100) = 2 x 5 = 10
        #expect(roundedDown.amount == 10)
        #expect(
            oneOver.breakdown
                == .package(PackageBreakdown(freeUnits: 0, packageSize: 100, packages: 3, packagePrice: 5)))
    }

    @Test func packageFreeUnits() throws {
        // 50 <= 50 free: nothing
        #expect(try Pricing.package(quantity: 50, size: 100, price: 5, freeUnits: 50, roundUp: true).amount == 0)
        // ceil((151 - 50) / 100) = ceil(1.01) = 2 x 5 = 10
        #expect(try Pricing.package(quantity: 151, size: 100, price: 5, freeUnits: 50, roundUp: true).amount == 10)
    }

    func event(_ id: String, _ second: Int, _ value: String) throws -> EventValue {
        EventValue(
            timestamp: Instant(millisecondsSinceEpoch: Int64(second) * 1_000), eventID: id, value: try dec(value))
    }

    @Test func percentagePerEventMinimumAndMaximum() throws {
        let terms = PercentageTerms(
            rate: try dec("2.9"), fixedFee: try dec("0.30"), perEventMin: try dec("0.50"), perEventMax: 5)
        let rated = try Pricing.percentage(
            events: [try event("a", 1, "10"), try event("b", 2, "5"), try event("c", 3, "1000")], terms: terms)
        // a: 10 x 2.9% = 0.29 + 0.30 = 0.59 (inside the bounds)
        // b: 5 x 2.9% = 0.145 + 0.30 = 0.445 -> raised to 0.50
        // c: 1000 x 2.9% = 29 + 0.30 = 29.30 -> lowered to 5.00
        // 0.59 + 0.50 + 5.00 = 6.09
        #expect(rated.amount == (try dec("6.09")))
        guard case .percentage(let breakdown) = rated.breakdown else {
            Issue.record("not percentage")
            return
        }
        #expect(breakdown.raisedToMinimum == 1)
        #expect(breakdown.loweredToMaximum == 1)
        #expect(breakdown.billableValue == 1015)
    }

    @Test func percentageFreeEventsAndFreeAmount() throws {
        let terms = PercentageTerms(rate: 10, freeEvents: 1, freeAmount: 15)
        // Given out of order: pricing sorts by (timestamp, id).
        let events = [
            try event("d", 4, "5"), try event("c", 3, "20"), try event("b", 2, "10"), try event("a", 1, "100"),
        ]
        let rated = try Pricing.percentage(events: events, terms: terms)
        // a (100): the first event, free by count, and it does not use the free amount
        // b (10): wholly inside the 15 free -> nothing, 5 of the free amount left
        // c (20): 5 free, 15 billable x 10% = 1.50
        // d (5): 5 x 10% = 0.50
        // 1.50 + 0.50 = 2.00
        #expect(rated.amount == 2)
        #expect(rated.quantity == 135)  // 100 + 10 + 20 + 5
        guard case .percentage(let breakdown) = rated.breakdown else {
            Issue.record("not percentage")
            return
        }
        #expect(
            breakdown
                == PercentageBreakdown(
                    events: 4, freeEvents: 1, freeValue: 15, billableValue: 20,
                    chargedEvents: 2, raisedToMinimum: 0, loweredToMaximum: 0))
    }

    @Test func percentageTiesOrderByEventID() throws {
        // Same timestamp: "x1" sorts before "x2", so "x1" is the free event.
        let terms = PercentageTerms(rate: 10, freeEvents: 1)
        let rated = try Pricing.percentage(events: [try event("x2", 1, "50"), try event("x1", 1, "10")], terms: terms)
        // x1 free; x2: 50 x 10% = 5
        #expect(rated.amount == 5)
    }

    @Test func matrixUnlistedCombinationUsesTheDefault() throws {
        let prices = MatrixPrices(
            dimensions: ["region"],
            prices: [
                MatrixPrice(values: ["eu"], unitPrice: try dec("0.20")),
                MatrixPrice(values: ["us"], unitPrice: try dec("0.10")),
            ],
            defaultPrice: try dec("0.50"))
        let rated = try Pricing.matrix(groups: [(["apac"], 10), (["eu"], 5), (["us"], 20)], prices: prices)
        // apac: 10 x 0.50 (default) = 5; eu: 5 x 0.20 = 1; us: 20 x 0.10 = 2 -> 8
        #expect(rated.amount == 8)
        guard case .matrix(let cells) = rated.breakdown else {
            Issue.record("not matrix")
            return
        }
        #expect(cells.map(\.usedDefaultPrice) == [true, false, false])
        #expect(cells[0].unitPrice == (try dec("0.50")))
    }

    @Test func stairstepChargesTheTierPrice() throws {
        let tiers = [
            Tier(upTo: 10, unitPrice: 0, flatFee: 20), Tier(upTo: 100, unitPrice: 0, flatFee: 50),
            Tier(upTo: nil, unitPrice: 0, flatFee: 100),
        ]
        // 0 -> tier 1 = 20; 10 (at up_to) -> tier 1 = 20; 11 -> tier 2 = 50; 500 -> tier 3 = 100
        #expect(Pricing.stairstep(quantity: 0, tiers: tiers).amount == 20)
        #expect(Pricing.stairstep(quantity: 10, tiers: tiers).amount == 20)
        #expect(Pricing.stairstep(quantity: 11, tiers: tiers).breakdown == .stairstep(tier: 2, price: 50))
        #expect(Pricing.stairstep(quantity: 500, tiers: tiers).amount == 100)
    }

    @Test func graduatedPercentage() throws {
        let tiers = [PercentageTier(upTo: 1000, rate: 3, flatFee: 1), PercentageTier(upTo: nil, rate: 2)]
        // 1000 x 3% = 30 + 1 fee = 31; 500 x 2% = 10 -> 41
        #expect(try Pricing.graduatedPercentage(amount: 1500, tiers: tiers).amount == 41)
        // 0: tier 1 reached, 0 x 3% + 1 = 1
        #expect(try Pricing.graduatedPercentage(amount: 0, tiers: tiers).amount == 1)
        // 1000.5: 31 + 0.5 x 2% = 0.01 -> 31.01
        #expect(try Pricing.graduatedPercentage(amount: try dec("1000.5"), tiers: tiers).amount == (try dec("31.01")))
    }

    @Test func flatProratesOnceToTheCurrencyDigits() throws {
        // 100 x 17 / 31 = 54.8387... -> 54.84, half-up to 2 digits in one division
        #expect(
            try Pricing.flat(amount: 100, activeDays: 17, periodDays: 31, minorDigits: 2).amount == (try dec("54.84")))
        // a full period is not prorated: 100
        #expect(try Pricing.flat(amount: 100, activeDays: 31, periodDays: 31, minorDigits: 2).amount == 100)
        // JPY: 1000 x 16 / 31 = 516.129... -> 516
        #expect(try Pricing.flat(amount: 1000, activeDays: 16, periodDays: 31, minorDigits: 0).amount == 516)
    }

    @Test func perUnitIsUnrounded() throws {
        // 3 x 0.005 = 0.015, left unrounded for the rating stage
        #expect(try Pricing.perUnit(quantity: 3, unitPrice: try dec("0.005")).amount == (try dec("0.015")))
    }
}
