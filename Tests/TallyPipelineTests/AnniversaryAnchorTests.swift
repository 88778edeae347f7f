import Testing

@testable import TallyPipeline

@Suite("Billing anchors: anniversary schedules beside the calendar one")
struct AnniversaryAnchorTests {
    func anniversary(_ id: String, plan: String = "pro", from start: String) throws -> Customer {
        var customer = Customer(id: id, plan: plan, start: try instant(start))
        customer.anchor = .anniversary
        return customer
    }

    /// 30.00 a month in arrears and 0.10 a call.
    func proPlan() throws -> Plan {
        Plan(
            id: "pro",
            charges: [
                Charge(name: "Base fee", metric: nil, model: .flat(amount: 30)),
                Charge(name: "Calls", metric: "calls", model: .perUnit(unitPrice: try dec("0.10"))),
            ])
    }

    @Test func anchoredOnThe15thEveryPeriodStartsOnThe15th() throws {
        // The run: Jan, Feb, Mar 2026 (ends Apr 1). From Jan 15: Jan 15 + 1, 2, 3 months;
        // all three start before Apr 1, the last ends after it (Apr 15).
        let own = try months(3).anchored(at: try instant("2026-01-15T00:00:00Z"))
        #expect(
            own.periods.map(\.start.iso8601) == [
                "2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z", "2026-03-15T00:00:00Z",
            ])
        #expect(own.periods[2].end.iso8601 == "2026-04-15T00:00:00Z")
        // Half-open: Feb 15 00:00 is the second period's first instant.
        #expect(own.periodIndex(containing: try instant("2026-02-14T23:59:59.999Z")) == 0)
        #expect(own.periodIndex(containing: try instant("2026-02-15T00:00:00Z")) == 1)
        // The anchor keeps its time of day: from Jan 15 09:30 the next period starts Feb 15 09:30.
        let timed = try months(2).anchored(at: try instant("2026-01-15T09:30:00Z"))
        #expect(timed.periods[1].start.iso8601 == "2026-02-15T09:30:00Z")
    }

    @Test func anchoredOnThe31stClampsToMonthEndsAndReturns() throws {
        // Stripe's example: anchored on Jan 31 -> Feb 28, Mar 31, Apr 30 (the calendar schedule's own rule).
        let own = try months(3).anchored(at: try instant("2026-01-31T00:00:00Z"))
        #expect(
            own.periods.map(\.start.iso8601) == [
                "2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z",
            ])
        #expect(
            own.periods.map(\.end.iso8601) == ["2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"])
        // Lengths: Jan 31 -> Feb 28 = 28 days, Feb 28 -> Mar 31 = 31 days, Mar 31 -> Apr 30 = 30 days.
        #expect(own.periods.map { $0.length.milliseconds / 86_400_000 } == [28, 31, 30])
        // Leap year: anchored on Jan 31, 2028, February's period starts on the 29th.
        let leap = try months(2, from: "2028-01-01").anchored(at: try instant("2028-01-31T00:00:00Z"))
        #expect(leap.periods[1].start.iso8601 == "2028-02-29T00:00:00Z")
    }

    @Test func anchoredOnFebruary29th() throws {
        // Anchored on Feb 29, 2028: Mar 29 (the anchor day exists), ... Feb 28, 2029 (no 29th), then Mar 29, 2029.
        let own = try months(13, from: "2028-02-01").anchored(at: try instant("2028-02-29T00:00:00Z"))
        #expect(own.periods[1].start.iso8601 == "2028-03-29T00:00:00Z")
        #expect(own.periods[12].start.iso8601 == "2029-02-28T00:00:00Z")
        #expect(own.periods[12].end.iso8601 == "2029-03-29T00:00:00Z")
        // 13 periods from Feb 1, 2028 end Mar 1, 2029; the 13th own period starts Feb 28, 2029: still inside.
        #expect(own.periods.count == 13)
    }

    @Test func onlyPeriodsStartingInsideTheRunAreKept() throws {
        // The run: 3 months from Jan 1 (ends Apr 1). From Feb 10: Feb 10, Mar 10 (Apr 10 starts after Apr 1).
        let own = try months(3).anchored(at: try instant("2026-02-10T00:00:00Z"))
        #expect(own.periods.map(\.start.iso8601) == ["2026-02-10T00:00:00Z", "2026-03-10T00:00:00Z"])
        // A fixed length: 7d periods from Jan 1 (4 of them, ending Jan 29); from Jan 3: Jan 3, 10, 17, 24.
        let weekly = PeriodSchedule(start: try instant("2026-01-01T00:00:00Z"), count: 4, interval: .fixed(.days(7)))
        let ownWeeks = weekly.anchored(at: try instant("2026-01-03T00:00:00Z"))
        #expect(ownWeeks.periods.map(\.start.iso8601).last == "2026-01-24T00:00:00Z")
        #expect(ownWeeks.periods.count == 4)
    }

    @Test func usageIsAggregatedAndRatedPerCustomerPeriod() throws {
        // Both customers make a call on Jan 20 and on Feb 14 23:59:59 and Feb 15 00:00.
        // calendar: Jan 1 call (30.10), Feb 2 calls (30.20), Mar none (30.00).
        // anniversary from Jan 15: Jan 15 - Feb 15 holds Jan 20 and Feb 14 (30.20); Feb 15 - Mar 15
        // holds Feb 15 (30.10); Mar 15 - Apr 15 none (30.00).
        let customers = [Customer(id: "cal", plan: "pro"), try anniversary("ann", from: "2026-01-15T00:00:00Z")]
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: [try proPlan()], customers: customers)
        let schedule = try months(3)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        for customer in ["cal", "ann"] {
            for at in ["2026-01-20T10:00:00Z", "2026-02-14T23:59:59Z", "2026-02-15T00:00:00Z"] {
                try builder.add(customer, "calls", at: at)
            }
        }
        let usage = builder.usage()
        #expect(try usage.quantity(customer: "cal", metric: "calls", period: 1) == 2)
        #expect(try usage.quantity(customer: "ann", metric: "calls", period: 0) == 2)
        #expect(try usage.quantity(customer: "ann", metric: "calls", period: 1) == 1)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: usage)
        #expect(invoices.of("cal").map(\.total) == [try dec("30.10"), try dec("30.20"), 30])
        #expect(invoices.of("ann").map(\.total) == [try dec("30.20"), try dec("30.10"), 30])
        // By period end, then catalog order: Feb 1 cal, Feb 15 ann, Mar 1 cal, Mar 15 ann, Apr 1 cal, Apr 15 ann.
        #expect(
            invoices.map(\.number) == [
                "INV-20260101-000001", "INV-20260115-000002", "INV-20260201-000001", "INV-20260215-000002",
                "INV-20260301-000001", "INV-20260315-000002",
            ])
        // An anniversary invoice says when it is issued (its period's end); a calendar one is as before.
        #expect(invoices[1].issued == (try instant("2026-02-15T00:00:00Z")))
        #expect(invoices[0].issued == nil)
    }

    @Test func aDowngradeWaitsForTheEndOfTheCustomersOwnPeriod() throws {
        // From Jan 15 on pro (30.00); on Feb 1 it asks for basic (10.00), a downgrade: it takes effect
        // at the end of its period containing Feb 1, Feb 15 (not Mar 1). Invoices: 30.00, 10.00.
        let basic = Plan(id: "basic", charges: [Charge(name: "Base fee", metric: nil, model: .flat(amount: 10))])
        var customer = try anniversary("ann", from: "2026-01-15T00:00:00Z")
        customer.changes = [PlanChange(at: try instant("2026-02-01T00:00:00Z"), plan: "basic")]
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [callsMetric], plans: [try proPlan(), basic], customers: [customer])
        let schedule = try months(2)
        var builder = UsageBuilder(catalog: catalog, schedule: schedule)
        let invoices = try Biller(catalog: catalog, schedule: schedule).invoices(for: builder.usage())
        #expect(invoices.map(\.total) == [30, 10])
        #expect(invoices.map(\.period.start.iso8601) == ["2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z"])
    }
}
