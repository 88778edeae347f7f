import Testing

@testable import TallyPipeline

@Suite("The request path follows the plan in force at request time: plan changes, free trials, several subscriptions")
struct RequestPathPlansInForceTests {
    static let day: Int64 = 86_400_000

    /// starter: quota 3 calls, 1/s; pro: quota 5 calls, 10/s; support: quota 2 tickets, no spike arrest.
    static func plans() throws -> [Plan] {
        [
            Plan(
                id: "starter",
                charges: [
                    Charge(name: "Base fee", metric: nil, model: .flat(amount: 10)),
                    Charge(name: "API calls", metric: "api_calls", model: .perUnit(unitPrice: try dec("0.02"))),
                ],
                quotas: [Quota(metric: "api_calls", limit: 3, hard: true)],
                spikeArrests: [SpikeArrest(rate: 1, unit: .second)]),
            Plan(
                id: "pro",
                charges: [
                    Charge(name: "Base fee", metric: nil, model: .flat(amount: 31)),
                    Charge(name: "API calls", metric: "api_calls", model: .perUnit(unitPrice: try dec("0.01"))),
                ],
                quotas: [Quota(metric: "api_calls", limit: 5, hard: true)],
                spikeArrests: [SpikeArrest(rate: 10, unit: .second)]),
            Plan(
                id: "support",
                charges: [
                    Charge(name: "Support", metric: nil, model: .flat(amount: 20)),
                    Charge(name: "Tickets", metric: "tickets", model: .perUnit(unitPrice: 1)),
                ],
                quotas: [Quota(metric: "tickets", limit: 2, hard: true)]),
        ]
    }

    static func meter(_ customers: [Customer], plans: [Plan]? = nil, periods: Int = 1) throws -> Meter {
        let catalog = try Catalog(
            currency: try currency("USD"),
            metrics: [Metric(key: "api_calls", aggregation: .count), Metric(key: "tickets", aggregation: .count)],
            plans: try plans ?? Self.plans(), customers: customers)
        return Meter(catalog: catalog, schedule: try months(periods))
    }

    /// Meters one event at `at`, received then, and returns its outcome.
    @discardableResult
    static func meter(
        _ meter: inout Meter, _ id: String, _ customer: String, _ metric: String = "api_calls", at: String
    ) throws -> MeteringOutcome {
        let timestamp = try instant(at)
        return meter.ingest(
            Event(
                id: id, tenant: "t1", customer: customer, metric: metric, quantity: 1, timestamp: timestamp,
                source: "sdk"),
            receivedAt: timestamp)
    }

    static func access(
        _ meter: inout Meter, _ customer: String, _ metric: String = "api_calls", at: String
    ) throws
        -> AccessDecision
    {
        meter.canAccess(tenant: "t1", customer: customer, metric: metric, at: try instant(at))
    }

    /// starter, upgraded to pro on Jan 11 (at once: pro's fee 31 >= starter's 10).
    static func upgraded() throws -> Customer {
        var customer = Customer(id: "upco", plan: "starter")
        customer.changes = [PlanChange(at: try instant("2026-01-11T00:00:00Z"), plan: "pro")]
        return customer
    }

    @Test("after an upgrade the new plan's quota counts from the change on; before it, the old plan's")
    func quotaAcrossAnUpgrade() throws {
        var meter = try Self.meter([try Self.upgraded()])
        // Jan 5 under starter (quota 3): 3 calls accepted, the 4th rejected by metering (3 + 1 > 3).
        for k in 1...3 { #expect(try Self.meter(&meter, "u\(k)", "upco", at: "2026-01-05T10:0\(k):00Z").isAccepted) }
        #expect(try Self.meter(&meter, "u4", "upco", at: "2026-01-05T10:04:00Z") == .rejected(.quotaExceeded))
        // Before the change: limit 3, used 3, remaining 0: refused.
        let before = try Self.access(&meter, "upco", at: "2026-01-10T23:59:59Z")
        #expect(before.refusal == .quotaExceeded)
        #expect(before.limit == 3 && before.quota.used == 3 && before.remaining == 0)
        // From Jan 11, pro (quota 5) counts its own part of January: limit 5, used 0, remaining 5.
        let after = try Self.access(&meter, "upco", at: "2026-01-11T00:00:00Z")
        #expect(after.allowed)
        #expect(after.limit == 5 && after.quota.used == 0 && after.remaining == 5)
        // 2 calls under pro: used 2, remaining 5 - 2 = 3; starter's standing on Jan 6 is still 3 of 3.
        for k in 5...6 { #expect(try Self.meter(&meter, "u\(k)", "upco", at: "2026-01-20T10:0\(k):00Z").isAccepted) }
        let later = try Self.access(&meter, "upco", at: "2026-01-21T00:00:00Z")
        #expect(later.limit == 5 && later.quota.used == 2 && later.remaining == 3)
        let back = meter.entitlement(customer: "upco", metric: "api_calls", at: try instant("2026-01-06T00:00:00Z"))
        #expect(back.limit == 3 && back.used == 3 && back.remaining == 0 && !back.allowed)
        // Pro's 5: 3 more accepted (used 3, 4, 5), the 4th more rejected (5 + 1 > 5).
        for k in 7...9 { #expect(try Self.meter(&meter, "u\(k)", "upco", at: "2026-01-22T10:0\(k):00Z").isAccepted) }
        #expect(try Self.meter(&meter, "u10", "upco", at: "2026-01-23T10:00:00Z") == .rejected(.quotaExceeded))
    }

    @Test("a downgrade waits for the period's end: the old plan's quota until then, the new one's from then")
    func quotaAcrossADowngrade() throws {
        var customer = Customer(id: "downco", plan: "pro")
        // Asked on Jan 20; starter's fee 10 < pro's 31, so it takes effect on Feb 1.
        customer.changes = [PlanChange(at: try instant("2026-01-20T00:00:00Z"), plan: "starter")]
        var meter = try Self.meter([customer], periods: 2)
        for k in 1...4 { #expect(try Self.meter(&meter, "d\(k)", "downco", at: "2026-01-25T10:0\(k):00Z").isAccepted) }
        // Jan 25, still pro: limit 5, used 4, remaining 1, allowed.
        let january = try Self.access(&meter, "downco", at: "2026-01-26T00:00:00Z")
        #expect(january.allowed && january.limit == 5 && january.quota.used == 4 && january.remaining == 1)
        // Feb 1, starter: limit 3, used 0, remaining 3.
        let february = try Self.access(&meter, "downco", at: "2026-02-01T00:00:00Z")
        #expect(february.allowed && february.limit == 3 && february.quota.used == 0 && february.remaining == 3)
    }

    @Test("after a cancellation no invoice bills the usage, so no quota applies")
    func noQuotaAfterACancellation() throws {
        var customer = Customer(id: "leaver", plan: "starter")
        customer.changes = [PlanChange(at: try instant("2026-01-11T00:00:00Z"), plan: nil)]
        var meter = try Self.meter([customer])
        // Jan 5: 3 calls fill starter's quota of 3; Jan 10 a request is refused (used 3 >= 3).
        for k in 1...3 { #expect(try Self.meter(&meter, "c\(k)", "leaver", at: "2026-01-05T10:0\(k):00Z").isAccepted) }
        #expect(try Self.access(&meter, "leaver", at: "2026-01-10T00:00:00Z").refusal == .quotaExceeded)
        // From the cancellation on Jan 11: allowed, no limit, used 0, no remaining; an event is accepted, not
        // rejected quota_exceeded (it is on no invoice).
        let after = try Self.access(&meter, "leaver", at: "2026-01-12T00:00:00Z")
        #expect(after.allowed && after.limit == nil && after.quota.used == 0 && after.remaining == nil)
        #expect(try Self.meter(&meter, "c4", "leaver", at: "2026-01-12T10:00:00Z").isAccepted)
    }

    @Test("a free trial's usage counts towards no quota; the quota counts from the trial's end")
    func freeTrialUsageOutsideTheQuota() throws {
        var customer = Customer(id: "trialco", plan: "pro")
        customer.trial = TimeSpan(milliseconds: 14 * Self.day)
        customer.trialUsage = .free
        var meter = try Self.meter([customer])
        // 7 calls on Jan 3, in the trial (Jan 1 - 15): all accepted though pro's quota is 5.
        for k in 1...7 { #expect(try Self.meter(&meter, "t\(k)", "trialco", at: "2026-01-03T10:0\(k):00Z").isAccepted) }
        // In the trial no quota applies: allowed, no limit, used 0, no remaining.
        let inTrial = try Self.access(&meter, "trialco", at: "2026-01-14T23:59:59Z")
        #expect(inTrial.allowed && inTrial.limit == nil && inTrial.quota.used == 0 && inTrial.remaining == nil)
        // From Jan 15: limit 5, used 0 (the 7 free calls are not counted), remaining 5.
        let afterTrial = try Self.access(&meter, "trialco", at: "2026-01-15T00:00:00Z")
        #expect(afterTrial.allowed && afterTrial.limit == 5 && afterTrial.quota.used == 0 && afterTrial.remaining == 5)
        for k in 1...5 { #expect(try Self.meter(&meter, "a\(k)", "trialco", at: "2026-01-20T10:0\(k):00Z").isAccepted) }
        #expect(try Self.meter(&meter, "a6", "trialco", at: "2026-01-20T10:06:00Z") == .rejected(.quotaExceeded))
        let full = try Self.access(&meter, "trialco", at: "2026-01-21T00:00:00Z")
        #expect(full.refusal == .quotaExceeded && full.limit == 5 && full.quota.used == 5 && full.remaining == 0)
    }

    @Test("with several subscriptions a metric is judged by the plan of the subscription pricing it then")
    func severalSubscriptions() throws {
        var help = Subscription(id: "help", plan: "support")
        help.start = try instant("2026-01-05T00:00:00Z")
        let customer = Customer(id: "twoco", subscriptions: [Subscription(id: "api", plan: "starter"), help])
        var meter = try Self.meter([customer])
        // Jan 3: help has not started, so no subscription prices tickets: judged under the first, starter
        // (no quota on tickets: allowed, no limit).
        let early = try Self.access(&meter, "twoco", "tickets", at: "2026-01-03T10:00:00Z")
        #expect(early.allowed && early.limit == nil)
        // Jan 8: an api call at 10:00:00.000 takes starter's 1/s bucket; a ticket 500 ms later is support's
        // (no spike arrest): allowed, limit 2, used 0. Under starter's bucket it would be arrested (500 < 1000).
        #expect(try Self.access(&meter, "twoco", at: "2026-01-08T10:00:00.000Z").allowed)
        try Self.meter(&meter, "w2", "twoco", at: "2026-01-08T10:00:00.000Z")
        let ticket = try Self.access(&meter, "twoco", "tickets", at: "2026-01-08T10:00:00.500Z")
        #expect(ticket.allowed && ticket.limit == 2 && ticket.quota.used == 0 && ticket.remaining == 2)
        // An api call 600 ms after the first is starter's: arrested (600 < 1000 on the clock of ms x 1).
        #expect(try Self.access(&meter, "twoco", at: "2026-01-08T10:00:00.600Z").refusal == .spikeArrested)
        // 2 tickets metered: limit 2, used 2, remaining 0: refused; api calls: limit 3, used 1, remaining 2.
        try Self.meter(&meter, "w3", "twoco", "tickets", at: "2026-01-08T10:00:00.500Z")
        try Self.meter(&meter, "w4", "twoco", "tickets", at: "2026-01-08T10:01:00Z")
        let tickets = try Self.access(&meter, "twoco", "tickets", at: "2026-01-08T10:02:00Z")
        #expect(tickets.refusal == .quotaExceeded && tickets.quota.used == 2 && tickets.remaining == 0)
        let calls = try Self.access(&meter, "twoco", at: "2026-01-08T10:03:00Z")
        #expect(calls.allowed && calls.limit == 3 && calls.quota.used == 1 && calls.remaining == 2)
    }

    @Test("spike arrest is the plan in force's: pro's 10/s from the upgrade on, in buckets of its own")
    func spikeArrestAcrossAnUpgrade() throws {
        var meter = try Self.meter([try Self.upgraded()])
        // Jan 5, starter 1/s: 0 ms allowed, 500 ms arrested (500 < 1000).
        #expect(try Self.access(&meter, "upco", at: "2026-01-05T10:00:00.000Z").allowed)
        #expect(try Self.access(&meter, "upco", at: "2026-01-05T10:00:00.500Z").refusal == .spikeArrested)
        // Jan 20, pro 10/s on ms x 10: 0 allowed (next free 1000), 200 ms (2000) allowed (next free 3000),
        // 250 ms (2500 < 3000) arrested.
        #expect(try Self.access(&meter, "upco", at: "2026-01-20T10:00:00.000Z").allowed)
        #expect(try Self.access(&meter, "upco", at: "2026-01-20T10:00:00.200Z").allowed)
        #expect(try Self.access(&meter, "upco", at: "2026-01-20T10:00:00.250Z").refusal == .spikeArrested)
    }

    @Test("Margin Guard's levels are the plan in force's; its margin is the whole period's")
    func marginGuardLevelsAcrossAnUpgrade() throws {
        // lenient and strict: a fee of 100 each (strict's is at least lenient's: an upgrade, at once on Jan 16).
        // lenient blocks below 0%, strict below 50% (warn 70%, throttle 60%). Each call costs 1.00.
        let fee = [Charge(name: "Fee", metric: nil, model: .flat(amount: 100))]
        let plans = [
            Plan(id: "lenient", charges: fee, marginGuard: .standard),
            Plan(
                id: "strict", charges: fee,
                marginGuard: MarginGuard(
                    warnBelow: try dec("0.7"), throttleBelow: try dec("0.6"), blockBelow: try dec("0.5"))),
        ]
        var customer = Customer(id: "mco", plan: "lenient")
        customer.changes = [PlanChange(at: try instant("2026-01-16T00:00:00Z"), plan: "strict")]
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [Metric(key: "api_calls", aggregation: .count, cost: .flat(1))],
            plans: plans, customers: [customer])
        var meter = Meter(catalog: catalog, schedule: try months(1))
        for k in 0..<60 {
            try Self.meter(&meter, "m\(k)", "mco", at: "2026-01-05T10:00:\(k < 10 ? "0" : "")\(k)Z")
        }
        // Revenue if January closed now: fee on lenient Jan 1 - 16, 100 x 15/31 = 48.387 -> 48.39, and strict's
        // Jan 16 - Feb 1, 100 x 16/31 = 51.613 -> 51.61: 100.00. Cost 60 x 1.00 = 60. Margin 40%.
        let lenient = try Self.access(&meter, "mco", at: "2026-01-10T00:00:00Z")
        #expect(lenient.allowed && lenient.marginLevel == .none)
        #expect(lenient.margin?.revenue == 100 && lenient.margin?.cost == 60)
        // Under strict 40% is below block_below 50%: refused margin_blocked.
        let strict = try Self.access(&meter, "mco", at: "2026-01-20T00:00:00Z")
        #expect(strict.refusal == .marginBlocked && strict.marginLevel == .blocked)
        #expect(strict.margin?.revenue == 100 && strict.margin?.cost == 60)
    }

    @Test("a free trial's usage costs Margin Guard nothing")
    func freeTrialUsageCostsNothing() throws {
        var plan = Plan(id: "p", charges: [Charge(name: "Fee", metric: nil, model: .flat(amount: 31))])
        plan.trial = TimeSpan(milliseconds: 14 * Self.day)
        plan.trialUsage = .free
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [Metric(key: "api_calls", aggregation: .count, cost: .flat(1))],
            plans: [plan], customers: [Customer(id: "trialco", plan: "p")])
        var meter = Meter(catalog: catalog, schedule: try months(1))
        // 5 calls in the trial (free): no cost. Revenue 31 x 17/31 = 17.00 (from Jan 15), cost 0: no level.
        for k in 1...5 { try Self.meter(&meter, "t\(k)", "trialco", at: "2026-01-03T10:0\(k):00Z") }
        let inTrial = try Self.access(&meter, "trialco", at: "2026-01-04T00:00:00Z")
        #expect(inTrial.allowed && inTrial.marginLevel == .none)
        #expect(inTrial.margin == MarginStanding(revenue: 17, cost: 0))
        // 15 calls after it cost 15: margin (17 - 15) / 17 = 11.8%, below warn 20%, not below throttle 10%: L1.
        for k in 10..<25 { try Self.meter(&meter, "a\(k)", "trialco", at: "2026-01-20T10:\(k):00Z") }
        let after = try Self.access(&meter, "trialco", at: "2026-01-21T00:00:00Z")
        #expect(after.allowed && after.marginLevel == .warning && after.flags == .marginWarning)
        #expect(after.margin == MarginStanding(revenue: 17, cost: 15))
    }

    @Test("the producer's party lookup and canAccess by name decide every request alike across plans in time")
    func partyAgreesAcrossPlansInTime() throws {
        var trial = Customer(id: "trialco", plan: "pro")
        trial.trial = TimeSpan(milliseconds: 14 * Self.day)
        trial.trialUsage = .free
        var help = Subscription(id: "help", plan: "support")
        help.start = try instant("2026-01-05T00:00:00Z")
        let customers = [
            try Self.upgraded(), trial,
            Customer(id: "twoco", subscriptions: [Subscription(id: "api", plan: "starter"), help]),
        ]
        var byName = try Self.meter(customers)
        var byParty = try Self.meter(customers)
        let directory = byParty.directory
        var verdicts: [AccessVerdict] = []
        // Every 7 hours through January, each customer on each metric, 250 ms apart: both meters decide and meter alike.
        var k = 0
        for hour in stride(from: Int64(0), to: 31 * 24, by: 7) {
            for (c, customer) in ["upco", "trialco", "twoco"].enumerated() {
                for (m, metric) in ["api_calls", "tickets"].enumerated() {
                    k += 1
                    let at =
                        try instant("2026-01-01T00:00:00Z")
                        + TimeSpan(milliseconds: hour * 3_600_000 + Int64(c * 2 + m) * 250)
                    let event = Event(
                        id: "e\(k)", tenant: "t1", customer: customer, metric: metric, quantity: 1, timestamp: at,
                        source: "sdk")
                    let named = byName.canAccess(tenant: "t1", customer: customer, metric: metric, at: at)
                    let party = directory.party(customer: customer, metric: metric)
                    let ahead = byParty.canAccess(
                        tenant: "t1", customer: customer, metric: metric, party: party, at: at)
                    #expect(AccessVerdict(refusal: named.refusal, flags: named.flags) == ahead, "request \(k)")
                    verdicts.append(ahead)
                    guard named.allowed else { continue }
                    let outcome = byName.ingest(event, receivedAt: at)
                    #expect(outcome == byParty.ingest(event, receivedAt: at, party: try #require(party)), "event \(k)")
                }
            }
        }
        #expect(byName.accessCounts == byParty.accessCounts)
        // Some requests are refused for each reason the plans in force give: quotas and starter's 1/s.
        #expect(byName.accessCounts.count(.quotaExceeded) > 0 && byName.accessCounts.count(.spikeArrested) > 0)
        #expect(verdicts.count == k)
    }
}

extension MeteringOutcome {
    fileprivate var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}
