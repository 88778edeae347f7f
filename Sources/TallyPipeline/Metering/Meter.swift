/// The metering half of the pipeline: validates, deduplicates and aggregates usage events.
///
/// Each event goes through the checks of the metering contract, in order; the
/// first that fails decides its outcome:
/// 1. schema -> dead letter `schema_invalid`
/// 2. timestamp more than `maxFuture` after ingest time -> rejected `timestamp_in_future`
/// 3. timestamp more than `maxAge` before ingest time -> rejected `timestamp_too_old`
/// 4. `(tenant, id)` already accepted -> rejected `duplicate` (first write wins)
/// 5. customer, then metric, unknown -> dead letter `unknown_customer` / `unknown_metric`;
///    a value the metric cannot use (a negative quantity, a missing property) -> `schema_invalid`
/// 6. past a hard quota of the customer's plan -> rejected `quota_exceeded`
/// 7. otherwise accepted, flagged `late` when more than `lateAfter` old, and
///    aggregated into its billing period (or counted `outsidePeriods`).
///
/// The meter's clock only moves forward: an event received "earlier" than one
/// already seen is judged at the later time, as a real service's clock would.
public struct Meter: Sendable {
    /// The catalog events are checked against: customers, metrics and the plans' quotas.
    public private(set) var catalog: Catalog
    /// The billing periods accepted usage is aggregated into.
    public let schedule: PeriodSchedule
    /// The time windows that decide `timestamp_in_future`, `timestamp_too_old` and late.
    public let limits: MeteringLimits
    /// Aggregated accepted usage, the input of billing.
    public private(set) var usage: Usage
    /// Outcome counts of every event so far.
    public private(set) var counts = OutcomeCounts()
    /// Events waiting for a fix, in the order they arrived.
    public private(set) var deadLetters: [DeadLetter] = []
    /// The latest ingest time seen.
    public private(set) var clock = Instant(millisecondsSinceEpoch: .min)

    var dedup: DedupStore
    var tenantNumbers = StringIndex<UInt32>()
    /// The last tenant seen: nearly every event of a service comes from the same few.
    var lastTenant: (name: String, number: UInt32)?
    /// Fingerprints ``prefetch(_:)`` worked out, for the ingest that follows.
    var prefetched = PrefetchQueue()
    /// Catalog lookups by id.
    ///
    /// The values are small and hold no references, so a lookup copies no
    /// dictionaries or strings (the per-event path does two of them).
    private(set) var customers = StringIndex<ResolvedCustomer>()
    /// Whether `customers` outgrows a core's own cache (1 MB), so that its slots are worth
    /// prefetching; below that the slot is nearly always cached, and the check is all an event pays.
    private var prefetchesCustomerSlots: Bool { customers.tableBytes > 1 << 20 }
    /// Starts loading the customer's slot in `customers` (see ``prefetch(_:)``); here, not beside
    /// it, because the slot's type is private to this file.
    func prefetchCustomerSlot(_ id: String) {
        if prefetchesCustomerSlots { customers.prefetch(id) }
    }
    private(set) var metrics = StringIndex<ResolvedMetric>()
    /// Which catalog `customers` and `metrics` were built from: a ``RequestParty`` looked up in an
    /// earlier one is not trusted (see ``directory``).
    private(set) var catalogGeneration: UInt32 = 0
    /// Metric definitions by metric number, read only when a metric needs more than its quantity.
    private var metricDefinitions: [Int32: Metric] = [:]
    /// Hard and soft limits per (customer number, metric number), for the customers whose plan has any.
    private var quotas: [QuotaKey: Quota] = [:]
    /// Usage so far per customer, metric and period, for quota checks.
    private var quotaUsage: [QuotaKey: ExactDecimal] = [:]
    /// For customers with several subscriptions, the dates (milliseconds, `[start, end)`) of those whose plans price
    /// a metric, per (customer number, metric number; period 0): when its usage is billed.
    private var subscriptionSpans: [QuotaKey: [Range<Int64>]] = [:]
    /// For customers whose plan changes in time (plan changes, a free trial, several subscriptions), by customer
    /// number: the plan judging each request and counting each quota at each instant.
    private(set) var plansInForce: [Int32: PlansInForce] = [:]
    /// Each plan's quotas by metric number, by the plan's position in the catalog: those of the plan in force.
    private var quotasByPlan: [[Int32: Quota]] = []
    /// The request path's state: spike arrest buckets, the entitlement cache, costs and counts.
    var access = AccessState()
    /// The customer and metric of the last request decided, as looked up.
    ///
    /// A gateway reports a request's usage event right after deciding it, so the event is metered
    /// without looking them up again. Three properties, not one optional tuple: replacing a tuple of
    /// strings cost far more.
    private var lastRequestCustomer = ""
    private var lastRequestMetric = ""
    private var lastRequest: (customer: ResolvedCustomer, metric: ResolvedMetric)?

    /// Creates a meter with no usage, ready to ingest events for `catalog`'s customers.
    ///
    /// - Parameters:
    ///   - catalog: The customers, metrics and quotas events are checked against.
    ///   - schedule: The billing periods usage is aggregated into; the ``Biller`` must use the same.
    ///   - limits: The time windows of validation.
    ///   - expectedEvents: How many events the window will hold, if known; sizing the
    ///     dedup table up front saves rehashing it as it grows (a hint only: it grows anyway).
    public init(
        catalog: Catalog, schedule: PeriodSchedule, limits: MeteringLimits = MeteringLimits(), expectedEvents: Int = 0
    ) {
        self.catalog = catalog
        self.schedule = schedule
        self.limits = limits
        self.usage = Usage(schedule: schedule)
        // 80% is the table's fill limit: 5/4 of the keys is the least that holds them. More
        // would round up to the next power of two and double the table (100M events: 4 GB, not 2).
        self.dedup = DedupStore(window: limits.maxAge, capacity: Meter.dedupCapacity(forKeys: expectedEvents))
        resolve(catalog)
    }

    /// The bytes a meter's dedup table takes up front for `expectedEvents` keys, as
    /// ``init(catalog:schedule:limits:expectedEvents:)`` sizes it: to check that a run fits in memory before it starts.
    public static func dedupTableBytes(forKeys expectedEvents: Int) -> Int {
        DedupStore.slotCount(forCapacity: dedupCapacity(forKeys: expectedEvents)) * MemoryLayout<DedupStore.Slot>.stride
    }

    private static func dedupCapacity(forKeys keys: Int) -> Int { Swift.min(Swift.max(0, keys), 1 << 30) * 5 / 4 }

    /// Swaps in a corrected catalog; usage, dedup state and dead letters are kept,
    /// so replaying dead letters then bills each of them once.
    public mutating func replaceCatalog(_ catalog: Catalog) {
        self.catalog = catalog
        resolve(catalog)
    }

    /// Meters one event received at `receivedAt`.
    @discardableResult
    public mutating func ingest(_ event: Event, receivedAt: Instant) -> MeteringOutcome {
        counts.received += 1
        let outcome = decide(event, receivedAt: receivedAt)
        counts.record(outcome)
        return outcome
    }

    /// ``ingest(_:receivedAt:)`` for an event whose customer and metric were looked up ahead, on another
    /// thread, in this meter's ``directory``: the same outcome, without the lookups.
    ///
    /// A party from an earlier catalog (before ``replaceCatalog(_:)``) is ignored and the event's
    /// names are looked up again.
    @discardableResult
    package mutating func ingest(_ event: Event, receivedAt: Instant, party: RequestParty) -> MeteringOutcome {
        counts.received += 1
        let outcome = decide(event, receivedAt: receivedAt, party: party)
        counts.record(outcome)
        return outcome
    }

    /// Records input that could not be decoded into an event as a `schema_invalid` dead letter.
    @discardableResult
    public mutating func ingestUndecodable(_ raw: String, problem: String, receivedAt: Instant) -> MeteringOutcome {
        counts.received += 1
        advanceClock(to: receivedAt)
        deadLetters.append(DeadLetter(reason: .schemaInvalid, detail: problem, payload: .raw(raw), receivedAt: clock))
        let outcome = MeteringOutcome.deadLettered(.schemaInvalid)
        counts.record(outcome)
        return outcome
    }

    /// Meters a batch received at one instant and checks that its outcomes add up.
    public mutating func ingest(
        batch: some Sequence<Event>, receivedAt: Instant
    ) throws(ConservationError) -> OutcomeCounts {
        var batchCounts = OutcomeCounts()
        for event in batch {
            batchCounts.received += 1
            batchCounts.record(ingest(event, receivedAt: receivedAt))
        }
        guard batchCounts.isBalanced, counts.isBalanced else { throw ConservationError(counts: batchCounts) }
        return batchCounts
    }

    /// Hands over the dead letters held and forgets them.
    ///
    /// A service that keeps them on disk calls this after each dead letter, so that its memory does not
    /// grow with them. Their counts stay in ``counts``.
    public mutating func takeDeadLetters() -> [DeadLetter] {
        defer { deadLetters = [] }
        return deadLetters
    }

    /// Replays every dead letter (after ``replaceCatalog(_:)``), as events received at `receivedAt`.
    ///
    /// Each one that now passes is accepted exactly once and leaves the queue;
    /// the others go back in it, so a second replay changes nothing.
    public mutating func replayDeadLetters(receivedAt: Instant) throws(ConservationError) -> OutcomeCounts {
        let queue = deadLetters
        deadLetters = []
        var batchCounts = OutcomeCounts()
        for letter in queue {
            batchCounts.received += 1
            counts.received += 1
            let outcome: MeteringOutcome
            switch letter.payload {
            case .event(let event):
                outcome = decide(event, receivedAt: receivedAt)
            case .raw:
                // Undecodable input cannot be fixed by a catalog change.
                deadLetters.append(letter)
                outcome = .deadLettered(.schemaInvalid)
            }
            batchCounts.record(outcome)
            counts.record(outcome)
        }
        // The replayed letters were counted once as dead letters when they first came in;
        // the run's totals count this replay as new input, so both sides still balance.
        guard batchCounts.isBalanced, counts.isBalanced else { throw ConservationError(counts: batchCounts) }
        return batchCounts
    }

    /// The quota standing of the customer on the metric at `instant`: what a gateway's
    /// ``canAccess(tenant:customer:metric:at:)`` judges quotas on, without deciding a request.
    public func entitlement(customer: String, metric: String, at instant: Instant) -> Entitlement {
        switch accessKeys(customer: customer, metric: metric) {
        case .failure: Entitlement(allowed: false, limit: nil, hard: false, used: .zero, remaining: nil)
        case .success(let keys): quotaStanding(keys, at: instant)
        }
    }

    /// ``accessKeys(customer:metric:)`` for a request being decided, remembered for metering its event.
    mutating func requestKeys(customer: String, metric: String) -> Result<AccessKeys, UnknownParty> {
        if let last = lastRequest, lastRequestCustomer == customer, lastRequestMetric == metric {
            return .success(AccessKeys(last.customer, last.metric))
        }
        guard let resolvedCustomer = customers[customer], let resolvedMetric = metrics[metric] else {
            return accessKeys(customer: customer, metric: metric)
        }
        lastRequestCustomer = customer
        lastRequestMetric = metric
        lastRequest = (resolvedCustomer, resolvedMetric)
        return .success(AccessKeys(resolvedCustomer, resolvedMetric))
    }

    /// The numbers a request's customer and metric have here, or the refusal for the one the catalog lacks.
    func accessKeys(customer: String, metric: String) -> Result<AccessKeys, UnknownParty> {
        guard let resolvedCustomer = customers[customer] else {
            return .failure(UnknownParty(refusal: .unknownCustomer))
        }
        guard let resolvedMetric = metrics[metric] else { return .failure(UnknownParty(refusal: .unknownMetric)) }
        return .success(AccessKeys(resolvedCustomer, resolvedMetric))
    }

    /// The customer's quota standing on the metric in the period containing `instant`, from the usage metered so far.
    func quotaStanding(_ keys: AccessKeys, at instant: Instant) -> Entitlement {
        // Most customers have no quota: their usage is not kept for quotas either.
        guard keys.hasQuotas else {
            return Entitlement(allowed: true, limit: nil, hard: false, used: .zero, remaining: nil)
        }
        let stretch =
            keys.plansInTime
            ? plansInForce[keys.customer]?.stretch(metric: keys.metric, at: instant.millisecondsSinceEpoch) : nil
        let used =
            usage.periodIndex(customer: keys.customer, containing: instant).flatMap {
                quotaUsage[
                    QuotaKey(
                        customer: keys.customer, metric: keys.metric, period: Int32($0), stretch: stretch?.number ?? 0)
                ]
            } ?? .zero
        guard let quota = quota(customer: keys.customer, metric: keys.metric, stretch) else {
            return Entitlement(allowed: true, limit: nil, hard: false, used: used, remaining: nil)
        }
        let remaining = (try? quota.limit - used).map { ExactDecimal.max($0, .zero) } ?? .zero
        return Entitlement(
            allowed: !quota.hard || used < quota.limit, limit: quota.limit, hard: quota.hard, used: used,
            remaining: remaining)
    }

    /// The quota on the metric of the plan judging it: the plan in force in `stretch` (none where its usage is not
    /// billed), else the customer's plan.
    private func quota(customer: Int32, metric: Int32, _ stretch: PlansInForce.Stretch?) -> Quota? {
        guard let stretch else { return quotas[QuotaKey(customer: customer, metric: metric, period: 0)] }
        guard stretch.billed, stretch.plan >= 0, Int(stretch.plan) < quotasByPlan.count else { return nil }
        return quotasByPlan[Int(stretch.plan)][metric]
    }

    /// Whether any plan a customer holds in time sets a quota.
    private func hasQuotas(_ plans: PlansInForce) -> Bool {
        plans.subscriptions.joined().contains { $0.plan >= 0 && !quotasByPlan[Int($0.plan)].isEmpty }
    }

    /// Accepted idempotency keys currently remembered (bounded by the max-age window).
    public var rememberedKeys: Int { dedup.count }

    /// Bytes the dedup table holds for them (its slots, filled or not).
    public var dedupTableBytes: Int { dedup.tableBytes }

    // MARK: The stages

    private mutating func decide(_ event: Event, receivedAt: Instant, party: RequestParty? = nil) -> MeteringOutcome {
        advanceClock(to: receivedAt)
        let now = clock
        if let problem = Meter.schemaProblem(event) {
            return deadLetter(event, .schemaInvalid, problem)
        }
        if event.timestamp - now > limits.maxFuture { return .rejected(.timestampInFuture) }
        let age = now - event.timestamp
        if age > limits.maxAge { return .rejected(.timestampTooOld) }
        let tenant = tenantNumber(event.tenant)
        let key = prefetched.take(id: event.id, tenant: tenant) ?? Fingerprint(tenant: tenant, id: event.id)
        let seen = dedup.probe(key)
        if seen.found { return .rejected(.duplicate) }
        let customer: ResolvedCustomer
        let metric: ResolvedMetric
        if let party, party.generation == catalogGeneration {
            (customer, metric) = (party.customer, party.metric)
        } else if let last = lastRequest, lastRequestCustomer == event.customer, lastRequestMetric == event.metric {
            (customer, metric) = last
        } else {
            guard let found = customers[event.customer] else {
                return deadLetter(event, .unknownCustomer, "customer '\(event.customer)' is not in the catalog")
            }
            guard let foundMetric = metrics[event.metric] else {
                return deadLetter(event, .unknownMetric, "metric '\(event.metric)' is not in the catalog")
            }
            (customer, metric) = (found, foundMetric)
        }
        var value = event.quantity
        var distinct: String?
        if metric.needsDefinition, let definition = metricDefinitions[metric.number] {
            switch Meter.value(of: event, for: definition) {
            case .success(let read): (value, distinct) = read
            case .failure(let problem): return deadLetter(event, .schemaInvalid, problem.message)
            }
        } else if value.isNegative && !metric.allowsNegative {
            return deadLetter(
                event, .schemaInvalid,
                "quantity \(value) is negative, but metric '\(event.metric)' only takes quantities of 0 or more")
        }
        // Usage outside the customer's subscription is accepted and kept, like usage outside
        // the run's periods, but billed on no invoice: no billing engine charges for it.
        var subscribed =
            event.timestamp.millisecondsSinceEpoch >= customer.start
            && event.timestamp.millisecondsSinceEpoch < customer.end
        // With several subscriptions, a metric's usage counts while a subscription pricing it is in force.
        if subscribed, customer.severalSubscriptions,
            let spans = subscriptionSpans[QuotaKey(customer: customer.number, metric: metric.number, period: 0)]
        {
            subscribed = spans.contains { $0.contains(event.timestamp.millisecondsSinceEpoch) }
        }
        let period = subscribed ? usage.periodIndex(customer: customer.number, containing: event.timestamp) : nil
        // Whose plan counts the event's quota and cost, for a customer whose plan changes in time.
        let stretch =
            customer.plansInTime
            ? plansInForce[customer.number]?.stretch(
                metric: metric.number, at: event.timestamp.millisecondsSinceEpoch) : nil
        var overSoftLimit = false
        var quotaAfter: (key: QuotaKey, used: ExactDecimal)?
        if customer.hasQuotas, let period, let quota = quota(customer: customer.number, metric: metric.number, stretch)
        {
            let quotaKey = QuotaKey(
                customer: customer.number, metric: metric.number, period: Int32(period), stretch: stretch?.number ?? 0)
            let contribution = metric.aggregation == .count ? ExactDecimal.one : value
            let used = quotaUsage[quotaKey] ?? .zero
            // An overflowing sum is certainly past any limit.
            let after = (try? used + contribution)
            let over = after.map { $0 > quota.limit } ?? true
            if over && quota.hard { return .rejected(.quotaExceeded) }
            overSoftLimit = over
            // Counted only once the event is surely accepted (below).
            quotaAfter = (quotaKey, after ?? used)
        }
        if let period {
            let group =
                metric.grouped
                ? usage.groupNumber(
                    (metricDefinitions[metric.number]?.groupBy ?? []).map { event.properties[$0] ?? "" }) : 0
            do {
                try usage.add(
                    customer: customer.number, metric: metric.number, period: period, group: group,
                    value: value, distinct: distinct, timestamp: event.timestamp, eventID: event.id)
            } catch {
                return deadLetter(event, .schemaInvalid, "quantity \(value) overflows the period's total: \(error)")
            }
        }
        if let quotaAfter { quotaUsage[quotaAfter.key] = quotaAfter.used }
        if access.costsAnything, let period, stretch?.billed ?? true {
            trackMargin(
                customer: customer.number, plan: stretch?.plan ?? customer.plan, metric: metric.number, period: period,
                contribution: metric.aggregation == .count ? nil : value, properties: event.properties)
        }
        dedup.insert(key, at: seen, timestamp: event.timestamp)
        return .accepted(Acceptance(late: age > limits.lateAfter, overSoftLimit: overSoftLimit, period: period))
    }

    private mutating func advanceClock(to instant: Instant) {
        if instant > clock {
            clock = instant
            dedup.forget(before: clock - limits.maxAge, clock: clock)
        }
    }

    private mutating func deadLetter(_ event: Event, _ reason: OutcomeReason, _ detail: String) -> MeteringOutcome {
        deadLetters.append(DeadLetter(reason: reason, detail: detail, payload: .event(event), receivedAt: clock))
        return .deadLettered(reason)
    }

    private mutating func tenantNumber(_ tenant: String) -> UInt32 {
        if let last = lastTenant, last.name == tenant { return last.number }
        let number = knownTenantNumber(tenant) ?? UInt32(tenantNumbers.count)
        if number == UInt32(tenantNumbers.count) { tenantNumbers.set(tenant, number) }
        lastTenant = (tenant, number)
        return number
    }

    /// The tenant's number if the meter has seen it, without numbering a new one.
    func knownTenantNumber(_ tenant: String) -> UInt32? {
        if let last = lastTenant, last.name == tenant { return last.number }
        return tenantNumbers[tenant]
    }

    /// The structural checks of step 1 that a typed event can still fail.
    static func schemaProblem(_ event: Event) -> String? {
        if event.id.isEmpty { return "event_id is empty, expected 1 to \(Event.maxIDLength) characters" }
        if event.id.utf8.count > Event.maxIDLength, event.id.count > Event.maxIDLength {
            return "event_id has \(event.id.count) characters, expected at most \(Event.maxIDLength)"
        }
        if event.tenant.isEmpty { return "tenant_id is empty" }
        if event.customer.isEmpty { return "customer_id is empty" }
        if event.metric.isEmpty { return "metric is empty" }
        if event.source.isEmpty { return "source is empty" }
        return nil
    }

    /// The value an event contributes to its metric, and its distinct key for `unique_count`.
    static func value(of event: Event, for metric: Metric) -> Result<(ExactDecimal, String?), SchemaProblem> {
        if metric.aggregation == .uniqueCount {
            guard let property = metric.property, let distinct = event.properties[property] else {
                return .failure(
                    SchemaProblem(
                        message:
                            "metric '\(metric.key)' counts distinct values of property '\(metric.property ?? "")', which the event lacks"
                    ))
            }
            return .success((event.quantity, distinct))
        }
        var value = event.quantity
        if let property = metric.property {
            guard let text = event.properties[property] else {
                return .failure(
                    SchemaProblem(message: "metric '\(metric.key)' reads property '\(property)', which the event lacks")
                )
            }
            guard let parsed = ExactDecimal(text) else {
                return .failure(
                    SchemaProblem(
                        message: "property '\(property)' is \"\(text.prefix(40))\", expected a decimal number"))
            }
            value = parsed
        }
        if value.isNegative && !metric.allowsNegative {
            return .failure(
                SchemaProblem(
                    message:
                        "quantity \(value) is negative, but metric '\(metric.key)' only takes quantities of 0 or more"))
        }
        return .success((value, nil))
    }

    struct SchemaProblem: Error { var message: String }

    private mutating func resolve(_ catalog: Catalog) {
        lastRequest = nil
        catalogGeneration &+= 1
        // Percentage charges price each event, prorated charges each change of a level: both keep event values.
        let percentageMetrics = Set(
            catalog.plans.flatMap(\.charges).compactMap { charge -> String? in
                if case .percentage = charge.model { return charge.metric }
                return charge.prorated ? charge.metric : nil
            })
        metrics = StringIndex()
        for metric in catalog.metrics {
            let number = usage.metricNumber(metric, keepEventValues: percentageMetrics.contains(metric.key))
            metrics.set(
                metric.key,
                ResolvedMetric(
                    number: number, aggregation: metric.aggregation, allowsNegative: metric.allowsNegative,
                    needsDefinition: metric.property != nil || metric.aggregation == .uniqueCount,
                    grouped: !metric.groupBy.isEmpty))
            metricDefinitions[number] = metric
        }
        resolveRequestLimits(catalog)
        customers = StringIndex(capacity: catalog.customers.count)
        usage.reserveCustomers(catalog.customers.count)
        quotas = [:]
        subscriptionSpans = [:]
        plansInForce = [:]
        quotasByPlan = catalog.plans.map { plan in
            Dictionary(
                plan.quotas.compactMap { quota in metrics[quota.metric].map { ($0.number, quota) } },
                uniquingKeysWith: { _, later in later })
        }
        // Customers billed on their own anniversary: one schedule per start, shared by the customers with it.
        var anchoredSchedules: [Instant: PeriodSchedule] = [:]
        usage.removeAnchoredPeriods()
        // Customers come in runs on one plan: its quotas are looked up once per run.
        var plan: (id: String, quotas: [Quota])?
        // With a million customers both tables are far larger than the caches, and each
        // insertion would wait for a random slot: loaded 8 customers ahead, the waits overlap.
        let ahead = 8
        let freeTrialPlans = catalog.plans.contains { $0.trialUsage == .free }
        for (position, customer) in catalog.customers.enumerated() {
            if position + ahead < catalog.customers.count {
                let id = catalog.customers[position + ahead].id
                usage.prefetchCustomerNumber(id)
                customers.prefetch(id, forInsert: true)
            }
            let number = usage.customerNumber(customer.id)
            if customer.anchor == .anniversary, let start = customer.start, start != schedule.start {
                if anchoredSchedules[start] == nil { anchoredSchedules[start] = schedule.anchored(at: start) }
                usage.setPeriods(anchoredSchedules[start]?.periods, customer: number)
            }
            if plan?.id != customer.plan { plan = (customer.plan, catalog.plan(customer.plan)?.quotas ?? []) }
            let planQuotas = plan?.quotas ?? []
            for quota in planQuotas {
                if let m = metrics[quota.metric] {
                    quotas[QuotaKey(customer: number, metric: m.number, period: 0)] = quota
                }
            }
            // Whose plans judge its requests and count its quotas in time, when its plan changes.
            var inForce: PlansInForce?
            // A customer with several subscriptions has its usage split where each starts, ends or changes plans.
            if !customer.subscriptions.isEmpty {
                let own = schedule.schedule(for: customer)
                usage.split(
                    customer: number,
                    at: SubscriptionTimeline.usageCuts(subscriptionsOf: customer, catalog: catalog, schedule: own))
                let held = PlansInForce(
                    subscriptionsOf: customer, catalog: catalog, schedule: own, metricNumber: { metrics[$0]?.number })
                for (metric, pricing) in held.pricing {
                    subscriptionSpans[QuotaKey(customer: number, metric: metric, period: 0)] = pricing.map(\.span)
                }
                inForce = held
            } else if !customer.changes.isEmpty || customer.trialUsage == .free || freeTrialPlans,
                SubscriptionTimeline.mayCutUsage(customer: customer, plan: catalog.plan(customer.plan)),
                case let own = schedule.schedule(for: customer),
                let timeline = try? SubscriptionTimeline(customer: customer, catalog: catalog, schedule: own)
            {
                usage.split(customer: number, at: timeline.usageCuts(in: own))
                inForce = PlansInForce(timeline: timeline, plan: customer.plan, catalog: catalog)
            }
            if let inForce { plansInForce[number] = inForce }
            customers.set(
                customer.id,
                ResolvedCustomer(
                    number: number, position: Int32(position), plan: Int32(catalog.planIndex(customer.plan) ?? -1),
                    hasQuotas: inForce.map { hasQuotas($0) } ?? !planQuotas.isEmpty,
                    severalSubscriptions: !customer.subscriptions.isEmpty, plansInTime: inForce != nil,
                    start: customer.start?.millisecondsSinceEpoch ?? .min,
                    end: customer.end?.millisecondsSinceEpoch ?? .max))
        }
    }
}

/// The answer to "may this customer use this metric now?".
public struct Entitlement: Sendable, Hashable {
    /// False only past a hard limit (or for an unknown customer or metric).
    public var allowed: Bool
    /// The period's limit; nil when the plan sets none.
    public var limit: ExactDecimal?
    /// Whether the limit is hard (events past it are refused) or soft (accepted and flagged).
    public var hard: Bool
    /// Usage so far in the period containing the instant asked about.
    public var used: ExactDecimal
    /// `limit - used`, never below 0; nil without a limit.
    public var remaining: ExactDecimal?
}

extension AccessKeys {
    init(_ customer: ResolvedCustomer, _ metric: ResolvedMetric) {
        self.init(
            customer: customer.number, metric: metric.number, position: customer.position, plan: customer.plan,
            hasQuotas: customer.hasQuotas, plansInTime: customer.plansInTime)
    }
}

/// A customer as the per-event path needs it: its numbers and subscription, no strings.
struct ResolvedCustomer: Sendable {
    var number: Int32
    /// Its position in the catalog, for billing it alone.
    var position: Int32
    /// Its plan's position in the catalog (-1 for an unknown plan).
    var plan: Int32
    var hasQuotas: Bool
    /// Whether it holds several subscriptions (see `Meter.subscriptionSpans`).
    var severalSubscriptions = false
    /// Whether its plan changes in time (see `Meter.plansInForce`): then ``plan`` is its first, and ``hasQuotas``
    /// says whether any of its plans sets a quota.
    var plansInTime = false
    /// The subscription, in milliseconds: [start, end).
    var start: Int64
    var end: Int64
}

/// A metric as the per-event path needs it.
struct ResolvedMetric: Sendable {
    var number: Int32
    var aggregation: Aggregation
    var allowsNegative: Bool
    /// It reads a property (unique_count, or a value property), so the full definition is needed.
    var needsDefinition: Bool
    var grouped: Bool
}

/// Quota usage per period; with `period` 0 it also keys the quota itself.
private struct QuotaKey: Hashable, Sendable {
    var customer: Int32
    var metric: Int32
    var period: Int32
    /// For a customer whose plan changes in time, the ``PlansInForce/Stretch/number`` counting the usage.
    var stretch: Int32 = 0
}
