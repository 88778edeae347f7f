import Testing

@testable import TallyPipeline
@testable import TallySandbox

@Suite("Billing a run over its threads")
struct RunBillingTests {
    @Test("a thread gets at least 4,096 customers, and there are never more parts than threads")
    func partsFollowCustomersAndThreads() {
        #expect(RunBilling.parts(customers: 1_000, threads: 2) == 1)  // 1,000 / 4,096 = 0
        #expect(RunBilling.parts(customers: 8_192, threads: 2) == 2)  // 8,192 / 4,096 = 2
        #expect(RunBilling.parts(customers: 10_000, threads: 3) == 2)  // 10,000 / 4,096 = 2
        #expect(RunBilling.parts(customers: 1_000_000, threads: 2) == 2)
        #expect(RunBilling.parts(customers: 1_000_000, threads: 1) == 1)
        #expect(RunBilling.parts(customers: 0, threads: 4) == 1)
    }

    @Test("billed in two ranges, a run has the same invoices in the same order, and the same expect: figures")
    func twoRangesMatchOne() throws {
        // stage-credits: acme and globex over 4 periods, credits carried in each one's ledger.
        let scenario = try Repository.load("stage-credits.yaml")
        let (run, meter) = try ScenarioRunner.runKeepingMeter(scenario, threads: 1, observer: nil, progress: nil)
        let biller = Biller(catalog: scenario.catalog, schedule: scenario.schedule)
        for keeping in [true, false] {
            let billed = try RunBilling.bill(
                biller, usage: meter.usage, parts: 2, expectations: scenario.expectations, keepingInvoices: keeping)
            #expect(billed.count == 8)  // 2 customers x 4 periods
            #expect(billed.invoices == (keeping ? run.invoices : []))
            // From the scenario's comment: acme due 0, 0, 0, 60.00; globex 100, 100, 0, 100.
            #expect(billed.expectedFigures["acme"]?.map(\.amountDue) == [0, 0, 0, 60])
            #expect(billed.expectedFigures["globex"]?.map(\.amountDue) == [100, 100, 0, 100])
        }
        #expect(
            run.invoices.map(\.customer) == ["acme", "globex", "acme", "globex", "acme", "globex", "acme", "globex"])
    }

    @Test("of two ranges that fail, the error is the one billing on one thread stops at")
    func errorIsTheFirstInBillingOrder() throws {
        // Each customer's one call, priced at 38 nines, overflows: "early" in February (period 1),
        // "late" in January (period 0). In billing's order January comes first, so "late" fails first.
        let huge = try ExactDecimal(parsing: "99999999999999999999999999999999999999")
        let plan = Plan(id: "p", charges: [Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: huge))])
        let currency = try #require(Currency(code: "USD"))
        let catalog = try Catalog(
            currency: currency, metrics: [Metric(key: "calls", aggregation: .count)], plans: [plan],
            customers: [Customer(id: "early", plan: "p"), Customer(id: "late", plan: "p")])
        let schedule = PeriodSchedule(start: try Instant(iso8601: "2026-01-01T00:00:00Z"), count: 2)
        var meter = Meter(catalog: catalog, schedule: schedule)
        for (id, customer, at) in [("e1", "early", "2026-02-03T00:00:00Z"), ("l1", "late", "2026-01-03T00:00:00Z")]
            .sorted(by: { $0.2 < $1.2 })
        {
            let time = try Instant(iso8601: at)
            let event = Event(
                id: id, tenant: "t", customer: customer, metric: "calls", quantity: 2, timestamp: time, source: "sdk",
                properties: EventProperties())
            #expect(
                meter.ingest(event, receivedAt: time)
                    == .accepted(Acceptance(late: false, overSoftLimit: false, period: at.hasPrefix("2026-01") ? 0 : 1))
            )
        }
        let biller = Biller(catalog: catalog, schedule: schedule)
        var errors: [BillingError] = []
        for parts in [1, 2] {
            do {
                _ = try RunBilling.bill(
                    biller, usage: meter.usage, parts: parts, expectations: Expectations(), keepingInvoices: true)
                Issue.record("expected an overflow with \(parts) part(s)")
            } catch {
                errors.append(error)
            }
        }
        #expect(errors.map(\.customer) == ["late", "late"])
        #expect(errors.map(\.period) == [0, 0])
        #expect(errors.first == errors.last)
    }
}
