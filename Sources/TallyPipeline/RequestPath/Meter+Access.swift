/// The request path: the decision a gateway makes before a request reaches the backend.
extension Meter {
    /// Decides whether the customer may make a request on the metric at `instant`, and counts the decision.
    ///
    /// The call a gateway authorizer or the HTTP service makes before each request. The
    /// checks run in this order; the first that fails refuses the request:
    /// 1. customer, then metric, unknown -> `unknown_customer` / `unknown_metric`;
    /// 2. the period's hard quota used up (`used >= limit`) -> `quota_exceeded`;
    /// 3. Margin Guard L3 (margin below the plan's `block_below`) -> `margin_blocked`;
    /// 4. faster than the plan's spike arrest admits -> `spike_arrested`.
    ///
    /// Otherwise it is allowed, flagged `throttled` at Margin Guard L2 or `margin_warning` at L1.
    /// Quota and margin are judged on the usage metered before the request (with an
    /// ``entitlementCacheRefresh``, on the usage as of the cache's last fetch); only an
    /// allowed request takes a place in a spike arrest bucket.
    ///
    /// - Parameters:
    ///   - tenant: the tenant the request is for. A meter serves one tenant's catalog (a
    ///     service keeps one per tenant), so it only travels with the decision's counts.
    ///   - customer: the catalog id of the customer making the request.
    ///   - metric: the key of the metric the request would be metered on.
    ///   - instant: when the request reaches the gateway; requests are decided in time order.
    /// - Returns: the decision; a refused request must not reach the backend or be metered.
    public mutating func canAccess(
        tenant: String, customer: String, metric: String, at instant: Instant
    ) -> AccessDecision {
        switch requestKeys(customer: customer, metric: metric) {
        case .failure(let unknown):
            access.counts.record(refusal: unknown.refusal, flags: [])
            return AccessDecision(
                refusal: unknown.refusal,
                quota: Entitlement(allowed: false, limit: nil, hard: false, used: .zero, remaining: nil),
                marginLevel: .none, margin: nil, flags: [], judgedAt: instant)
        case .success(let keys):
            var figures = DecisionFigures(judgedAt: instant)
            let verdict = judge(keys, at: instant, figures: &figures)
            return AccessDecision(
                refusal: verdict.refusal, quota: figures.quota, marginLevel: figures.level, margin: figures.margin,
                flags: verdict.flags, judgedAt: figures.judgedAt)
        }
    }

    /// Every decision of ``canAccess(tenant:customer:metric:at:)`` so far, by outcome.
    public var accessCounts: AccessCounts { access.counts }

    /// How long a gateway's cached standing of a customer on a metric is used before it is fetched
    /// again; nil (the default) for exact decisions on the usage metered so far.
    ///
    /// Each (customer, metric) entry is fetched on its first request and again on the first
    /// request at least this long after its last fetch; in between, every decision uses the
    /// quota usage and margin of that fetch, so a customer can briefly pass a hard quota.
    public var entitlementCacheRefresh: TimeSpan? {
        get { access.cacheRefresh }
        set {
            access.cacheRefresh = newValue
            access.cache = [:]
        }
    }

    // MARK: The checks

    /// Checks 2 to 4 for a request whose customer and metric are known, and counts the decision.
    ///
    /// The one code path of every decision. What it was judged on goes to `figures`: kept for an
    /// ``AccessDecision`` (``DecisionFigures``), or dropped where the caller reads only the verdict
    /// (``NoFigures``). Specialized for each, so the sandbox's runner neither builds nor copies the
    /// decision's figures, some 140 bytes, for every request.
    @inline(__always)
    mutating func judge<Figures: AccessFigures>(
        _ keys: AccessKeys, at instant: Instant, figures: inout Figures
    ) -> AccessVerdict {
        // The plan's position, read only for a customer whose plan changes in time: the path every other request takes
        // reads the customer's plan alone.
        let plan = planIndex(keys.plansInTime ? planInForce(keys, at: instant) : keys.plan)
        let quotaAllowed: Bool
        let level: MarginLevel
        if access.cacheRefresh == nil {
            let margin = marginStanding(keys, at: instant, plan)
            let quota = quotaStanding(keys, at: instant)
            figures.note(quota: quota, margin: margin.standing, level: margin.level, judgedAt: instant)
            (quotaAllowed, level) = (quota.allowed, margin.level)
        } else {
            let standing = cachedStanding(keys, at: instant, plan)
            figures.note(
                quota: standing.quota, margin: standing.margin, level: standing.level, judgedAt: standing.fetchedAt)
            (quotaAllowed, level) = (standing.quota.allowed, standing.level)
        }
        var verdict = AccessVerdict(refusal: nil, flags: [])
        if !quotaAllowed {
            verdict.refusal = .quotaExceeded
        } else if level == .blocked {
            verdict.refusal = .marginBlocked
        } else if !access.planLimits[plan].spikeArrests.isEmpty, !admitSpike(keys, at: instant, plan) {
            verdict.refusal = .spikeArrested
        } else {
            switch level {
            case .warning: verdict.flags = .marginWarning
            case .throttled: verdict.flags = .throttled
            case .none, .blocked: break
            }
        }
        access.counts.record(refusal: verdict.refusal, flags: verdict.flags)
        return verdict
    }

    /// Whether every spike arrest of the plan on the metric admits the request; if so, it takes its place in each.
    private mutating func admitSpike(_ keys: AccessKeys, at instant: Instant, _ plan: Int) -> Bool {
        let arrests = access.planLimits[plan].spikeArrests.filter { $0.metric.map { $0 == keys.metric } ?? true }
        let positions = access.planLimits[plan].spikeArrests.indices.filter {
            access.planLimits[plan].spikeArrests[$0].metric.map { $0 == keys.metric } ?? true
        }
        let bucketKeys = positions.map { BucketKey(customer: keys.customer, plan: Int32(plan), arrest: Int32($0)) }
        let admitted = zip(arrests, bucketKeys).allSatisfy { arrest, key in
            access.buckets[key]?.admits(at: instant, arrest.arrest) ?? true
        }
        guard admitted else { return false }
        for (arrest, key) in zip(arrests, bucketKeys) {
            access.buckets[key, default: SpikeBucket(origin: instant)].take(at: instant, arrest.arrest)
        }
        return true
    }

    /// The position in `access.planLimits` of the plan at catalog position `plan`; the last entry (no limits) for an
    /// unknown plan.
    @inline(__always)
    private func planIndex(_ plan: Int32) -> Int {
        plan >= 0 && Int(plan) < access.planLimits.count - 1 ? Int(plan) : access.planLimits.count - 1
    }

    /// The catalog position of the plan judging a request at `instant` of a customer whose plan changes in time: the
    /// plan in force then of the subscription pricing the metric (see ``PlansInForce``).
    private func planInForce(_ keys: AccessKeys, at instant: Instant) -> Int32 {
        plansInForce[keys.customer]?.stretch(metric: keys.metric, at: instant.millisecondsSinceEpoch).plan ?? keys.plan
    }

    /// The standing a decision is judged on with an entitlement cache: the cache's copy while it is fresh.
    private mutating func cachedStanding(
        _ keys: AccessKeys, at instant: Instant, _ plan: Int
    ) -> CachedStanding {
        guard let refresh = access.cacheRefresh else { return liveStanding(keys, at: instant, plan) }
        let key = CacheKey(customer: keys.customer, metric: keys.metric)
        if let cached = access.cache[key], instant - cached.fetchedAt < refresh { return cached }
        let fetched = liveStanding(keys, at: instant, plan)
        access.cache[key] = fetched
        return fetched
    }

    private mutating func liveStanding(_ keys: AccessKeys, at instant: Instant, _ plan: Int) -> CachedStanding {
        let margin = marginStanding(keys, at: instant, plan)
        return CachedStanding(
            quota: quotaStanding(keys, at: instant), margin: margin.standing, level: margin.level, fetchedAt: instant)
    }

    /// The customer's margin in the period containing `instant`, and its level.
    ///
    /// Revenue is the period's invoice as it would be billed now (see ``Biller/provisionalRevenue(for:customerAt:period:)``);
    /// a billing error counts as no revenue, so the guard fails closed. Billing a customer for every
    /// request would cost far more than metering it, so where more usage cannot lower the plan's
    /// revenue (see ``revenueGrowsWithUsage(_:catalog:)``), the revenue last worked out in the period
    /// is a floor of today's while every volume and stairstep charge stays in the tier it was in: while
    /// the cost is at most `(1 - warn_below) x floor` the margin is surely at or above every level, and
    /// revenue is not worked out again (the standing is then nil). Metering drops the floor as soon as a
    /// tiered charge's quantity moves to another tier (see ``trackMargin(customer:plan:metric:period:contribution:properties:)``),
    /// so a request only compares two figures. The levels are those of the plan in force (`plan`); a customer whose
    /// plan changes in time keeps no floor, since its invoice holds several plans' charges.
    private mutating func marginStanding(
        _ keys: AccessKeys, at instant: Instant, _ plan: Int
    )
        -> (standing: MarginStanding?, level: MarginLevel)
    {
        guard access.costsAnything else { return (nil, .none) }
        guard let period = usage.periodIndex(customer: keys.customer, containing: instant) else {
            return (MarginStanding(revenue: .zero, cost: .zero), .none)
        }
        let slot = access.margins.slot(customer: keys.customer, period: period)
        let cost = slot.map { access.margins.figures[$0].cost } ?? .zero
        if let slot, let ceiling = access.margins.figures[slot].costCeiling, cost <= ceiling { return (nil, .none) }
        let revenue =
            (try? Biller(catalog: catalog, schedule: schedule)
                .provisionalRevenue(for: usage, customerAt: Int(keys.position), period: period)) ?? .zero
        let limits = access.planLimits[plan]
        let places = limits.tieredCharges.compactMap {
            tierPlace(of: $0, customer: keys.customer, period: period)
        }
        // The floor holds for one plan's charges: a customer whose plans change in time has its revenue worked out.
        if limits.revenueGrowsWithUsage, !keys.plansInTime, revenue > .zero, places.count == limits.tieredCharges.count,
            let ceiling = try? (ExactDecimal.one - limits.marginGuard.warnBelow) * revenue
        {
            let slot = slot ?? access.margins.makeSlot(customer: keys.customer, period: period)
            access.margins.figures[slot].costCeiling = ceiling
            access.margins.floorTiers[slot] = places
        } else if let slot {
            access.margins.figures[slot].costCeiling = nil
        }
        let standing = MarginStanding(revenue: revenue, cost: cost)
        return (standing, standing.level(limits.marginGuard))
    }

    /// Where the customer's quantity of a volume or stairstep charge lies among its tier bounds.
    ///
    /// The number is the bounds below the quantity plus the bounds at or below it, so that it changes
    /// whenever the quantity reaches or passes a bound. Nil when the quantity cannot be read.
    private func tierPlace(of charge: TieredCharge, customer: Int32, period: Int) -> Int? {
        guard
            let quantity = try? usage.quantity(
                customerNumber: customer, metricNumber: charge.metric, period: period)
        else {
            return nil
        }
        return charge.bounds.reduce(0) { $0 + ($1 < quantity ? 1 : 0) + ($1 <= quantity ? 1 : 0) }
    }

    // MARK: Metering's side

    /// What an accepted event changes for Margin Guard: its cost (the metric's unit cost x the units it
    /// contributes) is added to its customer's period, and where it moves a volume or stairstep charge
    /// of the customer's plan to another tier, the period's revenue floor is dropped.
    ///
    /// Called only once some metric has a cost, after the event's usage is added; `contribution` is nil
    /// for the one unit of a `count` metric's event (the unit cost then needs no multiplying).
    mutating func trackMargin(
        customer: Int32, plan: Int32, metric: Int32, period: Int, contribution: ExactDecimal?,
        properties: EventProperties
    ) {
        let slot =
            access.margins.slot(customer: customer, period: period)
            ?? access.margins.makeSlot(customer: customer, period: period)
        if Int(metric) < access.unitCosts.count,
            let unitCost = access.unitCosts[Int(metric)]?.cost(properties: properties),
            let cost = contribution == nil ? unitCost : contribution.flatMap({ try? unitCost * $0 })
        {
            // An overflowing cost is past any revenue: kept at the largest the figures reach.
            access.margins.figures[slot].add(cost)
        }
        guard access.margins.figures[slot].costCeiling != nil, plan >= 0, Int(plan) < access.planLimits.count,
            access.planLimits[Int(plan)].tieredMetrics.contains(metric)
        else { return }
        for index in access.planLimits[Int(plan)].tieredCharges.indices
        where access.planLimits[Int(plan)].tieredCharges[index].metric == metric {
            let charge = access.planLimits[Int(plan)].tieredCharges[index]
            if index >= access.margins.floorTiers[slot].count
                || tierPlace(of: charge, customer: customer, period: period) != access.margins.floorTiers[slot][index]
            {
                access.margins.figures[slot].costCeiling = nil
                return
            }
        }
    }

    /// Each plan's spike arrests and Margin Guard levels, and each metric's unit cost, by number.
    mutating func resolveRequestLimits(_ catalog: Catalog) {
        // The last entry, with no limits, stands for a customer whose plan is not in the catalog.
        access.planLimits =
            catalog.plans.map { plan in
                PlanRequestLimits(
                    spikeArrests: plan.spikeArrests.map {
                        ResolvedArrest(arrest: $0, metric: $0.metric.flatMap(usage.knownMetricNumber))
                    },
                    marginGuard: plan.marginGuard ?? .standard,
                    revenueGrowsWithUsage: Meter.revenueGrowsWithUsage(plan, catalog: catalog),
                    tieredCharges: plan.charges.compactMap { charge -> TieredCharge? in
                        guard let key = charge.metric, let metric = usage.knownMetricNumber(key) else { return nil }
                        switch charge.model {
                        case .volume(let tiers), .stairstep(let tiers):
                            return TieredCharge(metric: metric, bounds: tiers.compactMap(\.upTo))
                        default: return nil
                        }
                    })
            } + [PlanRequestLimits()]
        for index in access.planLimits.indices {
            access.planLimits[index].tieredMetrics = access.planLimits[index].tieredCharges.map(\.metric)
        }
        access.unitCosts = []
        for metric in catalog.metrics {
            guard let cost = metric.cost, let number = usage.knownMetricNumber(metric.key), number >= 0 else {
                continue
            }
            if access.unitCosts.count <= Int(number) {
                access.unitCosts += Array(repeating: nil, count: Int(number) + 1 - access.unitCosts.count)
            }
            access.unitCosts[Int(number)] = cost
        }
        access.costsAnything = access.unitCosts.contains { $0 != nil }
        access.cache = [:]
        access.margins.periodCount = schedule.periods.count
        access.margins.dropCeilings()
    }

    /// Whether more usage in a period cannot lower the plan's revenue while each tiered charge stays in one tier.
    ///
    /// That holds when every metric's quantity grows with its events (not latest, weighted_sum or
    /// negative quantities), and every charge's price grows with its quantity (a volume or stairstep
    /// price only within a tier: crossing into a cheaper tier can lower it).
    /// Contract terms, discounts and rounding half-up keep that order.
    static func revenueGrowsWithUsage(_ plan: Plan, catalog: Catalog) -> Bool {
        plan.charges.allSatisfy { charge in
            guard let key = charge.metric else { return true }
            guard let metric = catalog.metric(key) else { return false }
            switch metric.aggregation {
            case .count, .max, .uniqueCount: return true
            case .sum: return !metric.allowsNegative
            case .latest, .weightedSum: return false
            }
        }
    }
}

/// The refusal for a request whose customer or metric the catalog lacks.
struct UnknownParty: Error {
    var refusal: AccessRefusal
}

/// A request's customer and metric as numbered in the meter.
struct AccessKeys: Sendable {
    var customer: Int32
    var metric: Int32
    /// The customer's position in the catalog.
    var position: Int32
    /// The customer's plan's position in the catalog (-1 for an unknown plan).
    var plan: Int32
    /// Whether its plan sets any quota (any of its plans, for a customer whose plan changes in time).
    var hasQuotas: Bool
    /// Whether its plan changes in time (see ``PlansInForce``): then ``plan`` is its first.
    var plansInTime: Bool
}

/// The request path's state inside a meter.
struct AccessState: Sendable {
    var counts = AccessCounts()
    var cacheRefresh: TimeSpan?
    var cache: [CacheKey: CachedStanding] = [:]
    var buckets: [BucketKey: SpikeBucket] = [:]
    /// Cost so far and the revenue floor, per customer and period: one array read per request.
    var margins = PeriodMargins()
    /// By metric number; nil for a metric without a cost.
    var unitCosts: [UnitCost?] = []
    var costsAnything = false
    /// By plan position in the catalog, then one with no limits for an unknown plan.
    var planLimits: [PlanRequestLimits] = [PlanRequestLimits()]
}

struct PlanRequestLimits: Sendable {
    var spikeArrests: [ResolvedArrest] = []
    var marginGuard = MarginGuard.standard
    /// See ``Meter/revenueGrowsWithUsage(_:catalog:)``.
    var revenueGrowsWithUsage = false
    /// The plan's volume and stairstep charges, whose tiers a revenue floor holds within.
    var tieredCharges: [TieredCharge] = []
    /// Their metrics' numbers.
    var tieredMetrics: [Int32] = []
}

/// A volume or stairstep charge's metric and its tiers' upper bounds.
struct TieredCharge: Sendable {
    var metric: Int32
    var bounds: [ExactDecimal]
}

/// Every customer's ``PeriodMargin`` in every period, by customer number: a request reads its
/// figures with two array reads, where a dictionary keyed by (customer, period) hashed the key.
///
/// A customer's periods get their slots together on its first cost, so the table holds only
/// the customers that have used a costed metric.
struct PeriodMargins: Sendable {
    /// Periods in the schedule: the slots a customer takes.
    var periodCount = 1
    /// By customer number, where its first period's slot is in ``figures`` (-1: none yet).
    var firstSlot: [Int32] = []
    /// The figures, `periodCount` slots per customer with any.
    var figures: [PeriodMargin] = []
    /// Where each tiered charge's quantity lay when the slot's revenue floor was worked out
    /// (see `Meter.tierPlace(of:customer:period:)`), indexed like the plan's `tieredCharges`; by slot.
    var floorTiers: [[Int]] = []

    /// The slot of the customer's period, nil while the customer has none.
    func slot(customer: Int32, period: Int) -> Int? {
        guard customer >= 0, Int(customer) < firstSlot.count, period >= 0, period < periodCount else { return nil }
        let first = firstSlot[Int(customer)]
        return first < 0 ? nil : Int(first) + period
    }

    /// Gives the customer its periods' slots (empty figures) and returns the one of `period`.
    mutating func makeSlot(customer: Int32, period: Int) -> Int {
        if Int(customer) >= firstSlot.count {
            firstSlot += Array(repeating: -1, count: Int(customer) + 1 - firstSlot.count)
        }
        if firstSlot[Int(customer)] < 0 {
            firstSlot[Int(customer)] = Int32(figures.count)
            figures += Array(repeating: PeriodMargin(), count: periodCount)
            floorTiers += Array(repeating: [], count: periodCount)
        }
        return Int(firstSlot[Int(customer)]) + period
    }

    /// Forgets every revenue floor (a new catalog may price usage differently).
    mutating func dropCeilings() {
        for index in figures.indices { figures[index].costCeiling = nil }
        for index in floorTiers.indices { floorTiers[index] = [] }
    }
}

/// A customer's cost in a period, and the cost its revenue floor allows (see `Meter.marginStanding`).
///
/// Plain figures, so that reading one for a request copies no reference.
struct PeriodMargin: Sendable {
    var cost = ExactDecimal.zero
    /// `(1 - warn_below) x` the revenue last worked out, while that revenue is a floor of today's; nil without one.
    ///
    /// A cost at most this is at or above every level.
    var costCeiling: ExactDecimal?

    mutating func add(_ more: ExactDecimal) {
        if let sum = try? cost + more { cost = sum }
    }
}

struct ResolvedArrest: Sendable {
    var arrest: SpikeArrest
    /// The metric's number, nil for every metric.
    var metric: Int32?
}

/// What a decision is judged on, as of `fetchedAt`.
struct CachedStanding: Sendable {
    var quota: Entitlement
    var margin: MarginStanding?
    var level: MarginLevel
    var fetchedAt: Instant
}

struct CacheKey: Hashable, Sendable {
    var customer: Int32
    var metric: Int32
}

struct BucketKey: Hashable, Sendable {
    var customer: Int32
    /// The plan whose spike arrest it is: a plan coming in starts its buckets afresh.
    var plan: Int32
    /// The spike arrest's position in the plan.
    var arrest: Int32
}

/// A decision without the figures it was judged on: what the sandbox's runner reads for each request.
package struct AccessVerdict: Sendable, Hashable {
    /// Why the request was refused; nil when it is allowed.
    package var refusal: AccessRefusal?
    /// Flags of an allowed request; empty when refused.
    package var flags: AccessFlags

    /// Creates a verdict: refused for `refusal`, or allowed with `flags`.
    package init(refusal: AccessRefusal?, flags: AccessFlags) {
        self.refusal = refusal
        self.flags = flags
    }
}

/// Where ``Meter/judge(_:at:figures:)`` puts the figures a decision was judged on.
protocol AccessFigures {
    mutating func note(quota: Entitlement, margin: MarginStanding?, level: MarginLevel, judgedAt: Instant)
}

/// The figures kept, for an ``AccessDecision``.
struct DecisionFigures: AccessFigures {
    var quota = Entitlement(allowed: false, limit: nil, hard: false, used: .zero, remaining: nil)
    var margin: MarginStanding?
    var level = MarginLevel.none
    var judgedAt: Instant

    init(judgedAt: Instant) { self.judgedAt = judgedAt }

    mutating func note(quota: Entitlement, margin: MarginStanding?, level: MarginLevel, judgedAt: Instant) {
        (self.quota, self.margin, self.level, self.judgedAt) = (quota, margin, level, judgedAt)
    }
}

/// The figures dropped: the caller reads the verdict only.
struct NoFigures: AccessFigures {
    @inline(__always)
    func note(quota: Entitlement, margin: MarginStanding?, level: MarginLevel, judgedAt: Instant) {}
}
