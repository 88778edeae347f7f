/// A customer's subscription as a run of plans in time: its trial, its plan changes and its cancellation
/// resolved against the schedule.
///
/// Customers with none of these (and no in-advance fee) are billed without one, as before they existed.
struct SubscriptionTimeline: Sendable {
    /// One stretch of the subscription on one plan, `[from, to)`.
    struct Phase: Sendable {
        var planID: String
        var plan: Plan
        var from: Instant
        var to: Instant
    }

    /// Chronological and contiguous; empty when the subscription never starts.
    var phases: [Phase]
    /// The end of the trial: no fixed fee is charged before it.
    var trialEnd: Instant?
    /// Whether usage before ``trialEnd`` is free (`trial_usage: free`).
    var trialUsageFree = false
    /// The customer's own `end`, before any cancellation.
    var ownEnd: Instant

    /// The customer's phases: its first plan from its start, each change taking effect at `at` or at the end of the
    /// period containing it (an upgrade, one whose flat fees per period are at least the old plan's, at once; a
    /// downgrade at the period's end; a cancellation at once), until its end or its cancellation.
    init(customer: Customer, catalog: Catalog, schedule: PeriodSchedule) throws(DecimalError) {
        let start = customer.start ?? schedule.start ?? Instant(millisecondsSinceEpoch: 0)
        var end = customer.end ?? PeriodSchedule.latestEnd
        ownEnd = end
        var phases: [Phase] = []
        if let plan = catalog.plan(customer.plan) {
            phases.append(Phase(planID: customer.plan, plan: plan, from: start, to: end))
            if let trial = customer.trial ?? plan.trial {
                trialEnd = start + trial
                trialUsageFree = (customer.trialUsage ?? plan.trialUsage) == .free
            }
        }
        for change in customer.changes {
            guard let current = phases.last else { break }
            let newPlan = change.plan.flatMap { id in catalog.plan(id).map { (id, $0) } }
            let timing: PlanChange.Timing
            if let explicit = change.timing {
                timing = explicit
            } else if let newPlan {
                timing =
                    try newPlan.1.flatFeesPerPeriod() >= current.plan.flatFeesPerPeriod() ? .immediately : .periodEnd
            } else {
                timing = .immediately
            }
            var effective = change.at
            if timing == .periodEnd, let index = schedule.periodIndex(containing: change.at) {
                effective = schedule.periods[index].end
            }
            effective = Swift.max(effective, current.from)
            if let newPlan {
                guard effective < end else { continue }
                phases[phases.count - 1].to = effective
                phases.append(Phase(planID: newPlan.0, plan: newPlan.1, from: effective, to: end))
            } else {
                end = Swift.min(end, effective)
                break
            }
        }
        self.phases = phases.compactMap { phase in
            var phase = phase
            phase.to = Swift.min(phase.to, end)
            return phase.from < phase.to ? phase : nil
        }
    }

    /// Whether `customer` on `plan` needs a timeline to be billed: it has changes or a trial, or fees in advance.
    static func isNeeded(customer: Customer, plan: Plan?) -> Bool {
        !customer.changes.isEmpty || customer.trial != nil || plan?.trial != nil || plan?.billsInAdvance == true
    }

    /// The phases overlapping `period`, clipped to it.
    func phases(in period: BillingPeriod) -> [Phase] {
        phases.compactMap { phase in
            var phase = phase
            phase.from = Swift.max(phase.from, period.start)
            phase.to = Swift.min(phase.to, period.end)
            return phase.from < phase.to ? phase : nil
        }
    }

    /// When a phase's fixed fees start: its start, or the trial's end when later.
    func feeStart(_ phase: Phase) -> Instant { trialEnd.map { Swift.max($0, phase.from) } ?? phase.from }

    /// The position in a period's `phases` of the first whose fixed fees start inside it: the plan in force when the
    /// period's fees start (a trial may cover the phases before it); nil when the trial covers them all.
    func firstChargedPhase(_ phases: [Phase]) -> Int? { phases.firstIndex { feeStart($0) < $0.to } }

    /// When a phase's usage starts being billed: its start, or a free trial's end when later.
    func usageStart(_ phase: Phase) -> Instant {
        guard trialUsageFree, let trialEnd else { return phase.from }
        return Swift.max(trialEnd, phase.from)
    }

    /// Whether `customer` on `plan` may need its usage split inside a period: it changes plans or has a free trial.
    static func mayCutUsage(customer: Customer, plan: Plan?) -> Bool {
        !customer.changes.isEmpty
            || ((customer.trial ?? plan?.trial) != nil && (customer.trialUsage ?? plan?.trialUsage) == .free)
    }

    /// The instants inside a period (never a period's start) where the usage billed changes hands.
    ///
    /// A plan coming in, a cancellation, a free trial ending. Sorted; empty when every such instant is on a period
    /// boundary.
    func usageCuts(in schedule: PeriodSchedule) -> [Instant] {
        var cuts = phases.dropFirst().map(\.from)
        // A cancellation inside a period: the usage after it is billed by no plan.
        if let end = phases.last?.to, end < ownEnd { cuts.append(end) }
        if trialUsageFree, let trialEnd { cuts.append(trialEnd) }
        return Self.insidePeriods(cuts, of: schedule)
    }

    /// The instants inside a period where the usage of a customer with several subscriptions changes hands: each
    /// subscription's own (``usageCuts(in:)``), and its start and end where they are not the customer's.
    static func usageCuts(subscriptionsOf customer: Customer, catalog: Catalog, schedule: PeriodSchedule) -> [Instant] {
        var cuts: [Instant] = []
        for (index, subscription) in customer.subscriptions.enumerated() {
            for case let bound? in [subscription.start, subscription.end] where bound != customer.start {
                if bound != customer.end { cuts.append(bound) }
            }
            let timeline = try? SubscriptionTimeline(
                customer: customer.holding(subscriptionAt: index), catalog: catalog, schedule: schedule)
            cuts += timeline?.usageCuts(in: schedule) ?? []
        }
        return insidePeriods(cuts, of: schedule)
    }

    /// `cuts` sorted, once each, without those that are not inside one of `schedule`'s periods.
    private static func insidePeriods(_ cuts: [Instant], of schedule: PeriodSchedule) -> [Instant] {
        Set(cuts).sorted().filter { cut in
            schedule.periodIndex(containing: cut).map { schedule.periods[$0].start != cut } ?? false
        }
    }
}

extension ActiveTime {
    /// The days of `[from, to)`, none when it is empty, out of `period`'s.
    init(from: Instant, to: Instant, period: BillingPeriod) {
        activeDays = from < to ? ActiveTime.wholeDays((to - from).milliseconds) : 0
        periodDays = ActiveTime.wholeDays(period.length.milliseconds)
    }
}
