import Testing

@testable import TallyPipeline

@Suite("Catalog validation: invalid catalogs are refused with every problem and its path")
struct CatalogValidationTests {
    typealias F = MeteringFixture
    let usd = Currency(code: "USD") ?? Currency(code: "EUR")!
    let calls = Metric(key: "calls", aggregation: .count)

    func problems(
        _ charges: [Charge], customers: [Customer]? = nil, discounts: [Discount] = [], taxes: [TaxRate] = []
    ) -> [String] {
        do {
            _ = try Catalog(
                currency: usd, metrics: [calls], plans: [Plan(id: "p", charges: charges)],
                customers: customers ?? [Customer(id: "acme", plan: "p")], discounts: discounts, taxRates: taxes)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("tiers whose up_to does not increase")
    func tiersNotIncreasing() {
        let tiers = [Tier(upTo: 100, unitPrice: 0), Tier(upTo: 100, unitPrice: 1), Tier(upTo: nil, unitPrice: 2)]
        #expect(
            problems([Charge(name: "c", metric: "calls", model: .graduated(tiers))])
                == ["plans[0].charges[0].tiers[1].up_to: up_to must increase from tier to tier: 100 is not above 100"])
    }

    @Test("a charge naming an unknown metric, and a usage charge without one")
    func unknownMetric() {
        #expect(
            problems([Charge(name: "c", metric: "cals", model: .perUnit(unitPrice: 1))])
                == ["plans[0].charges[0].metric: unknown metric 'cals', expected one of: calls"])
        #expect(
            problems([Charge(name: "c", metric: nil, model: .perUnit(unitPrice: 1))])
                == ["plans[0].charges[0].metric: a usage charge needs a metric"])
    }

    @Test("a negative price, a percentage over 100, a package size of 0")
    func badNumbers() {
        #expect(
            problems([Charge(name: "c", metric: "calls", model: .perUnit(unitPrice: -1))])
                == ["plans[0].charges[0].unit_price: a unit price cannot be negative, got -1"])
        #expect(
            problems([Charge(name: "c", metric: "calls", model: .percentage(PercentageTerms(rate: F.decimal("100.5"))))]
            )
                == ["plans[0].charges[0].rate: a percentage must be between 0 and 100, got 100.5"])
        #expect(
            problems([
                Charge(name: "c", metric: "calls", model: .package(size: 0, price: 5, freeUnits: 0, roundUp: true))
            ])
                == ["plans[0].charges[0].package_size: a package size must be above 0, got 0"])
    }

    @Test("every problem at once, in input order: an unknown plan, a discount over 100%, a tax over 100%")
    func everyProblem() {
        let found = problems(
            [Charge(name: "c", metric: "calls", model: .perUnit(unitPrice: 1))],
            customers: [Customer(id: "acme", plan: "p"), Customer(id: "globex", plan: "gold")],
            discounts: [Discount(name: "d", customer: "acme", kind: .percent(120), duration: .once)],
            taxes: [TaxRate(name: "t", jurisdiction: "X", rate: 101)])
        #expect(
            found == [
                "customers[1].plan: unknown plan 'gold', expected one of: p",
                "discounts[0].percent: a percentage must be between 0 and 100, got 120",
                "taxes[0].rate: a percentage must be between 0 and 100, got 101",
            ])
    }

    @Test("a valid catalog is accepted")
    func valid() {
        #expect(
            problems([Charge(name: "c", metric: "calls", model: .perUnit(unitPrice: F.decimal("0.000000000001")))])
                == [])
    }
}
