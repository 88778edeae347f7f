/// Which plan judges a customer's requests and counts its quotas at each instant, for a customer whose plan
/// changes in time: one with plan `changes`, a trial whose usage is free, or several subscriptions.
///
/// Built from the same ``SubscriptionTimeline`` billing uses, so a request is judged under the plan that bills its
/// usage. A customer on one plan for its whole life has none: its plan judges every request, as always.
struct PlansInForce: Sendable {
    /// A stretch of time on one plan, `[from, to)` in milliseconds.
    struct Stretch: Sendable {
        var from: Int64
        var to: Int64
        /// The plan's position in the catalog (-1 for a plan the catalog lacks).
        var plan: Int32
        /// Whether the usage of the stretch is billed.
        ///
        /// False in a free trial, before the subscription starts and after it ends (or is cancelled): such usage
        /// counts towards no quota and costs nothing to Margin Guard.
        var billed: Bool
        /// The stretch's number, unique within the customer: its quota usage is kept apart from other stretches'.
        var number: Int32
    }

    /// When a subscription prices a metric: `[from, to)` in milliseconds.
    struct Pricing: Sendable {
        var span: Range<Int64>
        /// The subscription's position in the customer's list.
        var subscription: Int
    }

    /// By subscription (one for a customer on one plan): its stretches, in time order, together covering all time.
    var subscriptions: [[Stretch]]
    /// For a customer with several subscriptions, by metric number: the subscriptions pricing it, and when.
    var pricing: [Int32: [Pricing]] = [:]

    /// The stretch judging a request or an event of metric number `metric` at `instant` (milliseconds).
    ///
    /// The stretch of the subscription pricing the metric at that instant; for a metric no subscription prices then,
    /// the first subscription's.
    func stretch(metric: Int32, at instant: Int64) -> Stretch {
        var subscription = 0
        if !pricing.isEmpty, let spans = pricing[metric], let priced = spans.first(where: { $0.span.contains(instant) })
        {
            subscription = priced.subscription
        }
        let stretches = subscriptions[subscription]
        return stretches.first { instant < $0.to } ?? stretches[stretches.count - 1]
    }
}

extension PlansInForce {
    /// The plans in force of a customer on one plan, `plan`, whose subscription runs as `timeline` says.
    init(timeline: SubscriptionTimeline, plan: String, catalog: Catalog) {
        subscriptions = [Self.stretches(of: timeline, firstPlan: plan, catalog: catalog, numberedFrom: 0)]
    }

    /// The plans in force of a customer with several subscriptions, each resolved on the customer's `schedule`.
    ///
    /// - Parameter metricNumber: a metric key's number in the meter, nil for a key the catalog lacks.
    init(
        subscriptionsOf customer: Customer, catalog: Catalog, schedule: PeriodSchedule, metricNumber: (String) -> Int32?
    ) {
        subscriptions = []
        for (index, subscription) in customer.subscriptions.enumerated() {
            let timeline = try? SubscriptionTimeline(
                customer: customer.holding(subscriptionAt: index), catalog: catalog, schedule: schedule)
            let numbered = Int32(subscriptions.reduce(0) { $0 + $1.count })
            subscriptions.append(
                Self.stretches(of: timeline, firstPlan: subscription.plan, catalog: catalog, numberedFrom: numbered))
            let from = subscription.start?.millisecondsSinceEpoch ?? .min
            let to = subscription.end?.millisecondsSinceEpoch ?? .max
            guard from < to else { continue }
            // A subscription prices a metric over all its dates when any of its plans does (the catalog allows one
            // subscription at a time to price a metric, so the spans of one metric never overlap).
            let planIDs = [subscription.plan] + subscription.changes.compactMap(\.plan)
            let priced = Set(planIDs.flatMap { catalog.plan($0)?.charges.compactMap(\.metric) ?? [] })
            for key in priced.sorted() {
                guard let number = metricNumber(key) else { continue }
                pricing[number, default: []].append(Pricing(span: from..<to, subscription: index))
            }
        }
    }

    /// The timeline's phases as stretches, a free trial's part of a phase apart, with an unbilled stretch on the first
    /// plan before them and one on the last plan after them.
    private static func stretches(
        of timeline: SubscriptionTimeline?, firstPlan: String, catalog: Catalog, numberedFrom first: Int32
    ) -> [Stretch] {
        func position(_ id: String) -> Int32 { Int32(catalog.planIndex(id) ?? -1) }
        var stretches: [Stretch] = []
        func append(_ from: Int64, _ to: Int64, _ plan: Int32, billed: Bool) {
            guard from < to else { return }
            stretches.append(
                Stretch(from: from, to: to, plan: plan, billed: billed, number: first + Int32(stretches.count)))
        }
        guard let timeline, let firstPhase = timeline.phases.first, let lastPhase = timeline.phases.last else {
            // A subscription that never starts bills nothing (nor does one billing cannot resolve, which it
            // reports): its first plan judges it all along.
            append(.min, .max, position(firstPlan), billed: false)
            return stretches
        }
        append(.min, firstPhase.from.millisecondsSinceEpoch, position(firstPhase.planID), billed: false)
        for phase in timeline.phases {
            let plan = position(phase.planID)
            let usageStart = timeline.usageStart(phase).millisecondsSinceEpoch
            let (from, to) = (phase.from.millisecondsSinceEpoch, phase.to.millisecondsSinceEpoch)
            append(from, Swift.min(usageStart, to), plan, billed: false)
            append(Swift.max(usageStart, from), to, plan, billed: true)
        }
        append(lastPhase.to.millisecondsSinceEpoch, .max, position(lastPhase.planID), billed: false)
        return stretches
    }
}
