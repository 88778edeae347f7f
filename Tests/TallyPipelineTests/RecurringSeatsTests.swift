import Testing

@testable import TallyPipeline

/// Recurring metrics (levels that carry between periods) and charges prorated by the days a unit was held.
@Suite("Recurring metrics and prorated charges")
struct RecurringSeatsTests {
    let seats = Metric(key: "seats", aggregation: .sum, recurring: true)
    let gauge = Metric(key: "gauge", aggregation: .latest, recurring: true)

    func usd() throws -> Currency { try currency("USD") }

    func charge(_ metric: String, _ model: PricingModel, prorated: Bool) -> Charge {
        var charge = Charge(name: "Seats", metric: metric, model: model)
        charge.prorated = prorated
        return charge
    }

    /// Bills one customer `c` on a plan of `charges` over `periods` months from `start`, after `events`.
    func bill(
        _ charges: [Charge], metrics: [Metric]? = nil, periods: Int, start: String = "2026-01-01",
        customer: Customer = Customer(id: "c", plan: "p"), events: [(ExactDecimal, String, String)]
    ) throws -> [Invoice] {
        let catalog = try Catalog(
            currency: try usd(), metrics: metrics ?? [seats, gauge], plans: [Plan(id: "p", charges: charges)],
            customers: [customer])
        let schedule = try months(periods, from: start)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        for (quantity, metric, at) in events { try builder.add("c", metric, quantity: quantity, at: at) }
        return try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
    }

    @Test("a recurring sum carries its level; a period without events bills the level it ended at")
    func sumCarries() throws {
        let invoices = try bill(
            [charge("seats", .perUnit(unitPrice: 10), prorated: false)], periods: 3,
            events: [
                (5, "seats", "2026-01-03T00:00:00Z"), (2, "seats", "2026-02-03T00:00:00Z"),
                (-1, "seats", "2026-02-20T00:00:00Z"),
            ])
        // January: level 5 -> 50.00; February: 5 + 2 - 1 = 6 -> 60.00; March, no events: 6 -> 60.00
        #expect(invoices.map(\.total) == [50, 60, 60])
        #expect(invoices.map { $0.lines[0].quantity } == [5, 6, 6])
    }

    @Test("a recurring latest carries its last reading; a non-recurring one starts again at 0")
    func latestCarries() throws {
        let plain = Metric(key: "plain", aggregation: .latest)
        let invoices = try bill(
            [
                charge("gauge", .perUnit(unitPrice: 2), prorated: false),
                charge("plain", .perUnit(unitPrice: 2), prorated: false),
            ],
            metrics: [gauge, plain], periods: 3,
            events: [
                (7, "gauge", "2026-01-03T00:00:00Z"), (4, "gauge", "2026-01-09T00:00:00Z"),
                (7, "plain", "2026-01-03T00:00:00Z"), (9, "gauge", "2026-03-01T05:00:00Z"),
            ])
        // gauge: January latest 4 -> 8.00; February carries 4 -> 8.00; March reads 9 -> 18.00
        // plain: January 7 -> 14.00; February and March 0
        #expect(invoices.map { $0.lines[0].amount } == [8, 8, 18])
        #expect(invoices.map { $0.lines[1].amount } == [14, 0, 0])
    }

    @Test("Lago's prorated seat: 1 seat at 10.00 held 22 of 30 days is 7.33")
    func lagoSeat() throws {
        // June 2026 has 30 days; June 9 12:00 to July 1 is 21.5 days -> 22 (a started day counts whole).
        let invoices = try bill(
            [charge("seats", .perUnit(unitPrice: 10), prorated: true)], periods: 2, start: "2026-06-01",
            events: [(1, "seats", "2026-06-09T12:00:00Z")])
        // June: 10 x 22 / 30 = 7.333.. -> 7.33; July: held all 31 days, 10 x 31 / 31 = 10.00
        #expect(invoices.map(\.total) == [try dec("7.33"), 10])
        // quantity shown: 22 / 30 = 0.733333333333333333 (18 digits, half-up)
        #expect(invoices[0].lines[0].quantity == (try dec("0.733333333333333333")))
    }

    @Test("prorated graduated: units split by tier along the level's path, fees of tiers the peak reached")
    func graduatedPath() throws {
        let tiers = [Tier(upTo: 5, unitPrice: 10, flatFee: 100), Tier(upTo: nil, unitPrice: 5, flatFee: 50)]
        // 30-day June; an event on June X at 10:00 holds 31 - X days.
        let invoices = try bill(
            [charge("seats", .graduated(tiers), prorated: true)], periods: 1, start: "2026-06-01",
            events: [
                (4, "seats", "2026-06-10T10:00:00Z"), (2, "seats", "2026-06-16T10:00:00Z"),
                (-3, "seats", "2026-06-25T10:00:00Z"),
            ])
        // days held 21, 15, 6. Tier 1: 4x21 + 1x15 - 2x6 = 87 unit-days; tier 2: 1x15 - 1x6 = 9.
        // (87 x 10 + 9 x 5) / 30 = 915 / 30 = 30.50; peak 6 reached tier 2: + 100 + 50 = 180.50 (Lago: 180.5)
        #expect(invoices[0].total == (try dec("180.50")))
        guard case .graduated(let slices) = invoices[0].lines[0].breakdown else {
            Issue.record("expected a graduated breakdown")
            return
        }
        // shown units per tier: 87 / 30 = 2.9, 9 / 30 = 0.3
        #expect(slices.map(\.units) == [try dec("2.9"), try dec("0.3")])
    }

    @Test("prorated volume: the closing level's tier prices every unit-day, its fee whole")
    func volume() throws {
        let tiers = [
            Tier(upTo: 100, unitPrice: 2, flatFee: 10), Tier(upTo: 200, unitPrice: 1),
            Tier(upTo: nil, unitPrice: try dec("0.5"), flatFee: 50),
        ]
        let invoices = try bill(
            [charge("seats", .volume(tiers), prorated: true)], periods: 1, start: "2026-06-01",
            events: [
                (300, "seats", "2026-06-11T10:00:00Z"), (-6, "seats", "2026-06-21T10:00:00Z"),
                (6, "seats", "2026-06-28T10:00:00Z"),
            ])
        // unit-days 300x20 - 6x10 + 6x3 = 5958; closing 300 is tier 3: 5958 x 0.5 / 30 = 99.30 + 50 = 149.30
        #expect(invoices[0].total == (try dec("149.30")))
        #expect(invoices[0].lines[0].quantity == (try dec("198.6")))  // 5958 / 30
    }

    @Test("a constant level bills the same prorated or not")
    func constantLevelAgrees() throws {
        let tiers = [Tier(upTo: 5, unitPrice: 10, flatFee: 100), Tier(upTo: nil, unitPrice: 5, flatFee: 50)]
        let events: [(ExactDecimal, String, String)] = [(8, "seats", "2026-01-01T00:00:00Z")]
        let prorated = try bill([charge("seats", .graduated(tiers), prorated: true)], periods: 2, events: events)
        let plain = try bill([charge("seats", .graduated(tiers), prorated: false)], periods: 2, events: events)
        // 8 seats all month: 5 x 10 + 3 x 5 + 100 + 50 = 215.00, both months, both ways
        #expect(prorated.map(\.total) == [215, 215])
        #expect(plain.map(\.total) == [215, 215])
    }

    @Test("a prorated latest gauge is held at each reading until the next")
    func latestProrated() throws {
        // January, 31 days. Opening 0; reading 10 on Jan 1 00:00 (31 days), 4 on Jan 21 06:00 (10.75 -> 11 days).
        let invoices = try bill(
            [charge("gauge", .perUnit(unitPrice: 3), prorated: true)], periods: 2,
            events: [(10, "gauge", "2026-01-01T00:00:00Z"), (4, "gauge", "2026-01-21T06:00:00Z")])
        // January: (10 x 31 + (4 - 10) x 11) x 3 / 31 = (310 - 66) x 3 / 31 = 732 / 31 = 23.612.. -> 23.61
        // February (28 days): 4 carried all month, 4 x 28 x 3 / 28 = 12.00
        #expect(invoices.map(\.total) == [try dec("23.61"), 12])
    }

    @Test("a subscription that ends inside the period stops the days at its end")
    func subscriptionEnds() throws {
        // Seats 3 from January; the subscription ends Feb 15 00:00. February has 28 days.
        let customer = Customer(id: "c", plan: "p", end: try instant("2026-02-15T00:00:00Z"))
        let invoices = try bill(
            [charge("seats", .perUnit(unitPrice: 10), prorated: true)], periods: 3, customer: customer,
            events: [(3, "seats", "2026-01-01T00:00:00Z"), (1, "seats", "2026-02-10T12:00:00Z")])
        // January: 3 x 31 x 10 / 31 = 30.00
        // February: active 14 days; 3 x 14 + 1 x (Feb 10 12:00 -> Feb 15 = 4.5 -> 5 days) = 47 unit-days
        //   47 x 10 / 28 = 16.785.. -> 16.79; March: no invoice
        #expect(invoices.map(\.total) == [30, try dec("16.79")])
    }

    @Test("recurring and prorated where they make no sense are refused at their keys")
    func refused() {
        func problems(_ metrics: [Metric], _ charges: [Charge]) -> [String] {
            do {
                _ = try Catalog(
                    currency: Currency(code: "USD")!, metrics: metrics, plans: [Plan(id: "p", charges: charges)],
                    customers: [Customer(id: "c", plan: "p")])
                return []
            } catch {
                return error.errors.map(\.description)
            }
        }
        #expect(
            problems([Metric(key: "n", aggregation: .max, recurring: true)], [])
                == [
                    "metrics[0].recurring: max does not describe a level that can carry into the next period; recurring needs sum (changes of a level), latest (readings of it) or weighted_sum"
                ])
        let plainSum = Metric(key: "s", aggregation: .sum)
        #expect(
            problems([plainSum], [charge("s", .perUnit(unitPrice: 1), prorated: true)])
                == [
                    "plans[0].charges[0].prorated: metric 's' is not recurring; only a recurring metric's level can be prorated by time"
                ])
        #expect(
            problems(
                [seats], [charge("seats", .stairstep([Tier(upTo: nil, unitPrice: 0, flatFee: 1)]), prorated: true)])
                == ["plans[0].charges[0].prorated: only per_unit, graduated and volume charges can be prorated"])
        let stored = Metric(key: "gb", aggregation: .weightedSum, recurring: true)
        #expect(
            problems([stored], [charge("gb", .perUnit(unitPrice: 1), prorated: true)])
                == ["plans[0].charges[0].prorated: weighted_sum is already a time-weighted average; remove prorated"])
    }

    @Test("a non-recurring metric reads as before: each period on its own")
    func nonRecurringUnchanged() throws {
        let plain = Metric(key: "seats", aggregation: .sum)
        let invoices = try bill(
            [charge("seats", .perUnit(unitPrice: 10), prorated: false)], metrics: [plain], periods: 2,
            events: [(5, "seats", "2026-01-03T00:00:00Z")])
        // January 5 -> 50.00; February no events -> 0.00
        #expect(invoices.map(\.total) == [50, 0])
    }
}
