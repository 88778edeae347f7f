import Testing

@testable import TallyPipeline

@Suite("The request path: canAccess, spike arrest, Margin Guard, the entitlement cache")
struct RequestPathTests {
    typealias F = MeteringFixture

    static let t0 = F.instant("2026-01-10T00:00:00Z")

    static func ms(_ n: Int64) -> Instant { t0 + TimeSpan(milliseconds: n) }

    /// A meter whose one plan has `arrests`, `charges` and `quotas`, and whose api_calls cost `cost` each.
    static func meter(
        arrests: [SpikeArrest] = [], charges: [Charge] = [], quotas: [Quota] = [],
        cost: UnitCost? = nil, guardLevels: MarginGuard? = nil
    ) throws -> Meter {
        let catalog = try Catalog(
            currency: Currency(code: "USD") ?? Currency(code: "EUR")!,
            metrics: [
                Metric(key: "api_calls", aggregation: .count, cost: cost), Metric(key: "bytes", aggregation: .sum),
            ],
            plans: [Plan(id: "p", charges: charges, quotas: quotas, spikeArrests: arrests, marginGuard: guardLevels)],
            customers: [Customer(id: "acme", plan: "p"), Customer(id: "globex", plan: "p")])
        return Meter(catalog: catalog, schedule: PeriodSchedule(start: F.periodStart, count: 1))
    }

    /// Which requests at these millisecond offsets are allowed (true) or refused (false).
    static func answers(_ meter: inout Meter, at offsets: [Int64], metric: String = "api_calls") -> [Bool] {
        offsets.map { meter.canAccess(tenant: "t1", customer: "acme", metric: metric, at: ms($0)).allowed }
    }

    @Test("20/s admits one request per 50 ms interval: exactly 50 ms after the last is allowed, 49 ms is not")
    func spikeArrestInterval() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 20, unit: .second)])
        // Clock in ms x 20, interval 1000 units. 0: allowed, next free 1000. 49: 980 < 1000 refused.
        // 50: 1000 >= 1000 allowed, next free 2000. 99: 1980 < 2000 refused. 100: 2000 allowed.
        #expect(Self.answers(&meter, at: [0, 49, 50, 99, 100]) == [true, false, true, false, true])
        let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(100))
        #expect(decision.refusal == .spikeArrested)
        #expect(decision.refusal?.httpStatus == 429)
        // 6 requests: 3 allowed, 3 refused.
        #expect(
            meter.accessCounts.requests == 6 && meter.accessCounts.allowed == 3
                && meter.accessCounts.count(.spikeArrested) == 3)
        #expect(meter.accessCounts.isBalanced)
    }

    @Test("instants a whole Int64 apart (a test key's `at`) are judged, not an overflow")
    func spikeArrestAtTheEndsOfTime() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 1000, unit: .second)])
        let (first, last) = (Instant(millisecondsSinceEpoch: .min), Instant(millisecondsSinceEpoch: .max))
        // At t0 the bucket starts (next free 1000 on its clock of ms x 1000). At Int64.min, before its start, the
        // request is judged at the start: 0 < 1000, refused, as a second request at t0 would be. At Int64.max the
        // difference overflows: the bucket is long empty, allowed, and counts afresh from there; Int64.min is then
        // before it again: refused.
        #expect(meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(0)).allowed)
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: first).refusal == .spikeArrested)
        #expect(meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: last).allowed)
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: first).refusal == .spikeArrested)
    }

    @Test("30/s smooths to one request per 33.3 ms, not 30 at once")
    func spikeArrestThirdOfASecond() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 30, unit: .second)])
        // Clock in ms x 30, interval 1000. 0 allowed (next free 1000); 0 again: 0 < 1000 refused;
        // 33: 990 < 1000 refused; 34: 1020 allowed (next free 2020); 67: 2010 < 2020 refused; 68: 2040 allowed.
        #expect(Self.answers(&meter, at: [0, 0, 33, 34, 67, 68]) == [true, false, false, true, false, true])
    }

    @Test("a burst of 3 lets 3 through at once, then one per interval")
    func spikeArrestBurst() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 20, unit: .second, burst: 3)])
        // Tolerance (3 - 1) x 1000 = 2000. At 0: next free 0, 1000, 2000 -> each 0 >= next free - 2000: allowed
        // three times (next free 3000); the fourth: 0 < 3000 - 2000 refused. 49: 980 < 1000 refused;
        // 50: 1000 >= 1000 allowed (next free 4000); 50 again: 1000 < 2000 refused; 100: 2000 >= 2000 allowed.
        #expect(
            Self.answers(&meter, at: [0, 0, 0, 0, 49, 50, 50, 100]) == [
                true, true, true, false, false, true, false, true,
            ])
        // Next free is 5000 after the call at 100 ms; at 300 ms the clock is 6000, past it, so the bucket is
        // full again: 6000 >= 5000 - 2000, then next free 7000, 8000 (6000 >= 7000 - 2000, 6000 >= 8000 - 2000),
        // and the fourth: 6000 < 9000 - 2000, refused.
        #expect(Self.answers(&meter, at: [300, 300, 300, 300]) == [true, true, true, false])
    }

    @Test("per minute: 2/min is one request per 30 s")
    func spikeArrestPerMinute() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 2, unit: .minute)])
        // Clock in ms x 2, interval 60000: 29 999 ms is 59 998 < 60 000, refused; 30 000 ms is 60 000, allowed.
        #expect(Self.answers(&meter, at: [0, 29_999, 30_000]) == [true, false, true])
    }

    @Test("a spike arrest on one metric leaves the others alone")
    func spikeArrestPerMetric() throws {
        var meter = try Self.meter(arrests: [SpikeArrest(rate: 1, unit: .second, metric: "api_calls")])
        #expect(Self.answers(&meter, at: [0, 1], metric: "api_calls") == [true, false])
        #expect(Self.answers(&meter, at: [0, 1, 2], metric: "bytes") == [true, true, true])
    }

    @Test("the margin is compared exactly at 20%, 10% and 0%")
    func marginBoundaries() {
        // Revenue 199: 20% of it is 39.8, 10% is 19.9.
        func level(_ cost: String) -> MarginLevel {
            MarginStanding(revenue: 199, cost: F.decimal(cost)).level(.standard)
        }
        #expect(level("159.2") == .none)  // 199 - 159.2 = 39.8 = 20% exactly: not below
        #expect(level("159.20025") == .warning)  // 39.79975 < 39.8
        #expect(level("179.1") == .warning)  // 199 - 179.1 = 19.9 = 10% exactly: not below 10%
        #expect(level("179.10025") == .throttled)  // 19.89975 < 19.9
        #expect(level("199") == .throttled)  // margin exactly 0: not below 0
        #expect(level("199.00025") == .blocked)  // -0.00025 < 0
        // Cost with no revenue is below every level; nothing earned nor spent is below none.
        #expect(MarginStanding(revenue: 0, cost: F.decimal("0.00025")).level(.standard) == .blocked)
        #expect(MarginStanding(revenue: 0, cost: 0).level(.standard) == .none)
    }

    @Test("Margin Guard judges each request on the usage metered before it")
    func marginGuardOnMeter() throws {
        // A $10 flat fee; each call costs $1. After n calls the margin is (10 - n) / 10:
        // n = 8 is 20% (none), 9 is 10% (L1), 10 is 0% (L2), 11 would be -10% (L3).
        var meter = try Self.meter(
            charges: [Charge(name: "Fee", metric: nil, model: .flat(amount: 10))], cost: .flat(1))
        var levels: [MarginLevel] = []
        var refusals: [AccessRefusal?] = []
        for k in 1...13 {
            let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(Int64(k)))
            levels.append(decision.marginLevel)
            refusals.append(decision.refusal)
            if decision.allowed { meter.ingest(F.event("m\(k)", at: Self.ms(Int64(k))), receivedAt: Self.ms(Int64(k))) }
        }
        // Request k is judged on k - 1 calls: 1-9 on 0-8 (none), 10 on 9 (L1), 11 on 10 (L2), 12 on 11 (L3, refused),
        // 13 still on 11 (the refused call was never metered).
        #expect(levels == Array(repeating: .none, count: 9) + [.warning, .throttled, .blocked, .blocked])
        #expect(refusals == Array(repeating: nil, count: 11) + [.marginBlocked, .marginBlocked])
        #expect(meter.accessCounts.marginWarnings == 1 && meter.accessCounts.throttled == 1)
        #expect(meter.accessCounts.count(.marginBlocked) == 2)
        // Revenue 10 (the fee in full), cost 11 x $1.
        let last = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(20))
        #expect(last.margin == MarginStanding(revenue: 10, cost: 11))
        // globex has no usage: revenue 10, cost 0, no level.
        #expect(
            meter.canAccess(tenant: "t1", customer: "globex", metric: "api_calls", at: Self.ms(20)).marginLevel == .none
        )
    }

    @Test("a request's party looked up ahead in the meter's directory is decided and metered as its names are")
    func partyLookedUpAhead() throws {
        // marginGuardOnMeter's meter: a $10 fee, each call costs $1, request k judged on the k - 1 calls
        // before it: 1-9 none, 10 L1 (margin_warning), 11 L2 (throttled), 12 and 13 refused at L3.
        func decide(byParty: Bool) throws -> (verdicts: [AccessVerdict], outcomes: [MeteringOutcome], meter: Meter) {
            var meter = try Self.meter(
                charges: [Charge(name: "Fee", metric: nil, model: .flat(amount: 10))], cost: .flat(1))
            let directory = meter.directory
            var verdicts: [AccessVerdict] = []
            var outcomes: [MeteringOutcome] = []
            for k in Int64(1)...13 {
                let verdict: AccessVerdict
                let party = directory.party(customer: "acme", metric: "api_calls")
                if byParty {
                    verdict = meter.canAccess(
                        tenant: "t1", customer: "acme", metric: "api_calls", party: party, at: Self.ms(k))
                } else {
                    let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(k))
                    verdict = AccessVerdict(refusal: decision.refusal, flags: decision.flags)
                }
                verdicts.append(verdict)
                guard verdict.refusal == nil else { continue }
                let event = F.event("m\(k)", at: Self.ms(k))
                if byParty, let party {
                    outcomes.append(meter.ingest(event, receivedAt: Self.ms(k), party: party))
                } else {
                    outcomes.append(meter.ingest(event, receivedAt: Self.ms(k)))
                }
            }
            return (verdicts, outcomes, meter)
        }
        let byName = try decide(byParty: false)
        let byParty = try decide(byParty: true)
        #expect(byName.verdicts.map(\.refusal) == Array(repeating: nil, count: 11) + [.marginBlocked, .marginBlocked])
        #expect(byName.verdicts[9].flags == .marginWarning && byName.verdicts[10].flags == .throttled)
        #expect(byParty.verdicts == byName.verdicts)
        #expect(byParty.outcomes == byName.outcomes && byParty.outcomes.count == 11)
        #expect(byParty.meter.accessCounts == byName.meter.accessCounts)
        #expect(byParty.meter.counts == byName.meter.counts && byParty.meter.counts.accepted == 11)
        // Names the catalog lacks have no party: the meter refuses them by name.
        let directory = byParty.meter.directory
        #expect(directory.party(customer: "nobody", metric: "api_calls") == nil)
        #expect(directory.party(customer: "acme", metric: "nothing") == nil)
        var meter = byParty.meter
        let unknown = meter.canAccess(
            tenant: "t1", customer: "nobody", metric: "api_calls", party: nil, at: Self.ms(20))
        #expect(unknown.refusal == .unknownCustomer && meter.accessCounts.count(.unknownCustomer) == 1)
    }

    @Test("a party looked up before the catalog was replaced is not trusted: the names are looked up again")
    func partyOfAnEarlierCatalog() throws {
        var meter = try Self.meter()
        let stale = try #require(meter.directory.party(customer: "acme", metric: "bytes"))
        // The new catalog has no bytes metric: by its names the event is a dead letter, not an accepted sum.
        try meter.replaceCatalog(
            Catalog(
                currency: Currency(code: "USD") ?? Currency(code: "EUR")!,
                metrics: [Metric(key: "api_calls", aggregation: .count)], plans: [Plan(id: "p", charges: [])],
                customers: [Customer(id: "acme", plan: "p")]))
        let event = F.event("b1", metric: "bytes", quantity: "5", at: Self.ms(1))
        #expect(meter.ingest(event, receivedAt: Self.ms(1), party: stale) == .deadLettered(.unknownMetric))
        let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "bytes", party: stale, at: Self.ms(2))
        #expect(decision.refusal == .unknownMetric)
    }

    @Test("where more usage can lower revenue (volume pricing), every request is judged on revenue worked out anew")
    func marginGuardVolumeDrop() throws {
        // Volume: up to 10 calls at $1 each, more at $0.10 each (the whole quantity); each call costs $0.50.
        // 10 calls: revenue 10.00, cost 5.00, margin 50%: none. 11 calls: revenue 11 x 0.10 = 1.10, cost 5.50: L3.
        // A floor of 10.00 kept from the 10th call would wrongly say none (5.50 <= 0.8 x 10.00).
        let tiers = [Tier(upTo: 10, unitPrice: 1), Tier(upTo: nil, unitPrice: F.decimal("0.1"))]
        var meter = try Self.meter(
            charges: [Charge(name: "Calls", metric: "api_calls", model: .volume(tiers))], cost: .flat(F.decimal("0.5")))
        for k in 1...10 { meter.ingest(F.event("v\(k)", at: Self.ms(Int64(k))), receivedAt: Self.ms(Int64(k))) }
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(20)).margin
                == MarginStanding(revenue: 10, cost: 5))
        meter.ingest(F.event("v11", at: Self.ms(21)), receivedAt: Self.ms(21))
        let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(22))
        #expect(decision.margin == MarginStanding(revenue: F.decimal("1.10"), cost: F.decimal("5.5")))
        #expect(decision.refusal == .marginBlocked)
    }

    @Test("a revenue floor holds only while each volume charge stays in its tier")
    func revenueFloorWithinTier() throws {
        // Same volume tiers, each call costing $0.01. After 1 call: revenue 1.00, worked out; the floor allows
        // a cost up to 0.8 x 1.00. After 2 (same tier, cost 0.02): the floor answers, no revenue worked out.
        // After 11 calls the quantity passed the bound 10: revenue is worked out again, 11 x 0.10 = 1.10.
        let tiers = [Tier(upTo: 10, unitPrice: 1), Tier(upTo: nil, unitPrice: F.decimal("0.1"))]
        var meter = try Self.meter(
            charges: [Charge(name: "Calls", metric: "api_calls", model: .volume(tiers))], cost: .flat(F.decimal("0.01"))
        )
        func ask(_ k: Int64) -> MarginStanding? {
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(100 + k)).margin
        }
        meter.ingest(F.event("f1", at: Self.ms(1)), receivedAt: Self.ms(1))
        #expect(ask(1) == MarginStanding(revenue: 1, cost: F.decimal("0.01")))
        meter.ingest(F.event("f2", at: Self.ms(2)), receivedAt: Self.ms(2))
        #expect(ask(2) == nil)
        for k in 3...11 { meter.ingest(F.event("f\(k)", at: Self.ms(Int64(k))), receivedAt: Self.ms(Int64(k))) }
        #expect(ask(3) == MarginStanding(revenue: F.decimal("1.10"), cost: F.decimal("0.11")))
    }

    @Test("metering drops the revenue floor when another metric's volume charge changes tier, and only then")
    func revenueFloorDroppedByMetering() throws {
        // A $100 fee, and bytes priced by volume: up to 10 at $1 each, more at $0.10 each (the whole quantity).
        // Calls cost $0.01 each and bring no revenue; bytes cost nothing.
        let tiers = [Tier(upTo: 10, unitPrice: 1), Tier(upTo: nil, unitPrice: F.decimal("0.1"))]
        var meter = try Self.meter(
            charges: [
                Charge(name: "Fee", metric: nil, model: .flat(amount: 100)),
                Charge(name: "Bytes", metric: "bytes", model: .volume(tiers)),
            ], cost: .flat(F.decimal("0.01")))
        var k: Int64 = 0
        func ask() -> MarginStanding? {
            k += 1
            return meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(1000 + k)).margin
        }
        func meterBytes(_ id: String, _ quantity: String) {
            k += 1
            meter.ingest(
                F.event(id, metric: "bytes", quantity: quantity, at: Self.ms(k)), receivedAt: Self.ms(1000 + k))
        }
        meter.ingest(F.event("c1", at: Self.ms(1)), receivedAt: Self.ms(1))
        // Revenue 100 + 0 bytes = 100, worked out; the floor allows a cost up to 80.
        #expect(ask() == MarginStanding(revenue: 100, cost: F.decimal("0.01")))
        meter.ingest(F.event("c2", at: Self.ms(2)), receivedAt: Self.ms(2))
        #expect(ask() == nil)
        // 5 bytes: below the bound 10, the same tier as 0: the floor holds.
        meterBytes("b1", "5")
        #expect(ask() == nil)
        // 5 more reach the bound: revenue worked out again, 100 + 10 x 1 = 110.
        meterBytes("b2", "5")
        #expect(ask() == MarginStanding(revenue: 110, cost: F.decimal("0.02")))
        #expect(ask() == nil)
        // 1 more passes it: 100 + 11 x 0.10 = 101.10, lower than the floor of 110, so it must be worked out.
        meterBytes("b3", "1")
        #expect(ask() == MarginStanding(revenue: F.decimal("101.1"), cost: F.decimal("0.02")))
    }

    @Test("a plan's own levels replace the published ones")
    func marginGuardPlanLevels() throws {
        // warn below 50%, throttle below 40%, block below 30%. Fee 10, $1 a call: 6 calls is 40% (L1), 7 is 30% (L2), 8 is 20% (L3).
        let levels = MarginGuard(
            warnBelow: F.decimal("0.5"), throttleBelow: F.decimal("0.4"), blockBelow: F.decimal("0.3"))
        var meter = try Self.meter(
            charges: [Charge(name: "Fee", metric: nil, model: .flat(amount: 10))], cost: .flat(1), guardLevels: levels)
        for k in 1...6 { meter.ingest(F.event("m\(k)", at: Self.ms(Int64(k))), receivedAt: Self.ms(Int64(k))) }
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(10)).flags
                == .marginWarning)
        meter.ingest(F.event("m7", at: Self.ms(11)), receivedAt: Self.ms(11))
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(12)).flags == .throttled)
        meter.ingest(F.event("m8", at: Self.ms(13)), receivedAt: Self.ms(13))
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(14)).refusal
                == .marginBlocked)
    }

    @Test("a hard quota refuses once used reaches the limit, and entitlement answers the same")
    func quotaAtTheGateway() throws {
        var meter = try Self.meter(quotas: [Quota(metric: "api_calls", limit: 3, hard: true)])
        var allowed = 0
        for k in 1...5 {
            let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(Int64(k)))
            #expect(decision.quota == meter.entitlement(customer: "acme", metric: "api_calls", at: Self.ms(Int64(k))))
            if decision.allowed {
                allowed += 1
                meter.ingest(F.event("q\(k)", at: Self.ms(Int64(k))), receivedAt: Self.ms(Int64(k)))
            } else {
                #expect(decision.refusal == .quotaExceeded && decision.remaining == 0 && decision.limit == 3)
            }
        }
        // Used 0, 1, 2 < 3: allowed; used 3: refused twice.
        #expect(allowed == 3)
        #expect(meter.counts.count(.quotaExceeded) == 0)
    }

    @Test("behind a 10 s cache, a hard quota lets through the calls until the next fetch")
    func staleCache() throws {
        var meter = try Self.meter(quotas: [Quota(metric: "api_calls", limit: 5, hard: true)])
        meter.entitlementCacheRefresh = .seconds(10)
        var answers: [Bool] = []
        // One call a second from t0: the fetch at 0 s saw used 0, so calls at 0-9 s pass (10 calls);
        // metering accepts 5 and rejects 5 as quota_exceeded. The fetch at 10 s sees used 5: refused.
        for k in Int64(0)...11 {
            let at = Self.ms(k * 1_000)
            let decision = meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: at)
            answers.append(decision.allowed)
            if decision.allowed { meter.ingest(F.event("s\(k)", at: at), receivedAt: at) }
            if k == 9 { #expect(decision.judgedAt == Self.t0 && decision.quota.used == 0) }
        }
        #expect(answers == Array(repeating: true, count: 10) + [false, false])
        #expect(meter.counts.accepted == 5 && meter.counts.count(.quotaExceeded) == 5)
        // Exactly 10 s after a fetch is a new fetch; 9.999 s is not.
        var edge = try Self.meter(quotas: [Quota(metric: "api_calls", limit: 1, hard: true)])
        edge.entitlementCacheRefresh = .seconds(10)
        #expect(edge.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(0)).allowed)
        edge.ingest(F.event("e1", at: Self.ms(0)), receivedAt: Self.ms(0))
        #expect(edge.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(9_999)).allowed)
        #expect(!edge.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.ms(10_000)).allowed)
    }

    @Test("unknown customers and metrics are refused, and every decision is counted")
    func unknownParties() throws {
        var meter = try Self.meter()
        #expect(
            meter.canAccess(tenant: "t1", customer: "nobody", metric: "api_calls", at: Self.t0).refusal
                == .unknownCustomer)
        #expect(
            meter.canAccess(tenant: "t1", customer: "acme", metric: "nothing", at: Self.t0).refusal == .unknownMetric)
        #expect(meter.canAccess(tenant: "t1", customer: "acme", metric: "api_calls", at: Self.t0).allowed)
        #expect(meter.accessCounts.requests == 3 && meter.accessCounts.refused == 2 && meter.accessCounts.isBalanced)
    }

    @Test("a unit cost by property picks the event's value, or the default")
    func costByProperty() {
        let cost = UnitCost.byProperty(
            PropertyCosts(property: "model", costs: [("gpt-4o", F.decimal("0.01"))], defaultCost: F.decimal("0.001")))
        #expect(cost.cost(properties: ["model": "gpt-4o"]) == F.decimal("0.01"))
        #expect(cost.cost(properties: ["model": "small"]) == F.decimal("0.001"))
        #expect(cost.cost(properties: [:]) == F.decimal("0.001"))
    }
}
