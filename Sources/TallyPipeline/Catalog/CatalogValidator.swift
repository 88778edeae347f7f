/// Collects every problem of a catalog, so a user fixes them all in one go.
struct CatalogValidator {
    var errors: [CatalogError] = []
    /// How often each message was given; one `count:` item makes millions of customers that can fail alike.
    private var repeats: [String: Int] = [:]
    /// The most times one message is listed (the loader shows each message once per position anyway).
    static let repeatLimit = 100

    mutating func fail(_ path: [CatalogPathComponent], _ message: String) {
        let given = repeats[message, default: 0]
        repeats[message] = given + 1
        guard given < Self.repeatLimit else { return }
        errors.append(CatalogError(path: path, message: message))
    }

    /// An index by identifier, reporting empty and duplicate identifiers.
    mutating func index(
        _ ids: some Collection<String>, at path: [CatalogPathComponent], idKey: String, what: String
    ) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(ids.count)
        var duplicates: [Range<Int>] = []
        for (offset, id) in ids.enumerated() {
            add(id, at: offset, to: &index, duplicates: &duplicates, path: path, idKey: idKey, what: what)
        }
        let ids = Array(ids)
        reportDuplicates(duplicates, at: path, idKey: idKey, what: what) { ids[$0] }
        return index
    }

    /// The positions of the customers listed one by one, reporting empty ids and every id made twice,
    /// by listed customers or numbered runs alike.
    ///
    /// Numbered runs are never expanded: two runs share a range of ids, found from their prefixes and
    /// widths, and a listed id is looked up in the runs by its number.
    mutating func index(_ customers: CustomerList) -> [String: Int] {
        let path: [CatalogPathComponent] = ["customers"]
        var index: [String: Int] = [:]
        var duplicates: [Range<Int>] = []
        for (position, customer) in customers.listedCustomers {
            add(
                customer.id, at: position, to: &index, duplicates: &duplicates, path: path, idKey: "id",
                what: "customer")
        }
        let runs = customers.numberedRuns
        for (later, run) in runs.enumerated() {
            for earlier in runs[..<later] {
                let shared = run.customers.offsetsShared(with: earlier.customers)
                if !shared.isEmpty {
                    duplicates.append((run.start + shared.lowerBound)..<(run.start + shared.upperBound))
                }
            }
        }
        if !runs.isEmpty {
            // The order of this walk does not matter: the duplicates are sorted before they are reported.
            for (id, listed) in index {
                // The first run making the id stands for all: later runs' copies are found among the runs.
                if let numbered = customers.numberedPosition(of: id) {
                    let later = max(listed, numbered)
                    duplicates.append(later..<(later + 1))
                }
            }
        }
        reportDuplicates(duplicates, at: path, idKey: "id", what: "customer") { customers[$0].id }
        return index
    }

    /// Adds `id` at `offset` to `index`, reporting it when empty; a repeated id keeps its first offset
    /// and the repeat goes to `duplicates`.
    private mutating func add(
        _ id: String, at offset: Int, to index: inout [String: Int], duplicates: inout [Range<Int>],
        path: [CatalogPathComponent], idKey: String, what: String
    ) {
        if id.isEmpty { fail(path + [.index(offset), .key(idKey)], "a \(what) needs a non-empty \(idKey)") }
        // One hash of the id for the common case, a new one; a duplicate puts the first offset back.
        if let first = index.updateValue(offset, forKey: id) {
            index[id] = first
            duplicates.append(offset..<(offset + 1))
        }
    }

    /// Reports the ids at the positions in `duplicates` (ranges in any order, possibly overlapping),
    /// in position order: the first ones listed, the rest counted.
    private mutating func reportDuplicates(
        _ duplicates: [Range<Int>], at path: [CatalogPathComponent], idKey: String, what: String,
        id: (Int) -> String
    ) {
        var listed = 0
        var more = 0
        var firstUnlisted: Int?
        var next = Int.min
        for range in duplicates.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            // Positions already counted by an overlapping range are skipped.
            let range = max(range.lowerBound, next)..<max(range.upperBound, next)
            next = range.upperBound
            // Two `count:` items can repeat millions of ids: the first ones are listed, the rest counted.
            for position in range.prefix(Self.repeatLimit - listed) {
                fail(
                    path + [.index(position), .key(idKey)],
                    "duplicate \(what) '\(id(position))', expected each \(idKey) once")
            }
            let shown = min(range.count, Self.repeatLimit - listed)
            listed += shown
            if shown < range.count {
                more += range.count - shown
                if firstUnlisted == nil { firstUnlisted = range.lowerBound + shown }
            }
        }
        if let firstUnlisted {
            fail(
                path + [.index(firstUnlisted), .key(idKey)],
                "\(more) more duplicate \(what) \(idKey)s from here on, expected each \(idKey) once"
            )
        }
    }

    mutating func validate(_ catalog: Catalog) {
        for (offset, metric) in catalog.metrics.enumerated() {
            let path: [CatalogPathComponent] = ["metrics", .index(offset)]
            if metric.aggregation == .uniqueCount && metric.property == nil {
                fail(path + ["property"], "unique_count needs the property whose distinct values it counts")
            }
            if metric.property != nil && [Aggregation.count, .weightedSum].contains(metric.aggregation) {
                fail(
                    path + ["property"],
                    "\(metric.aggregation.rawValue) does not read a property; remove it or use sum, max, latest or unique_count"
                )
            }
            validateCost(metric, at: path + ["cost"])
            if metric.recurring && ![Aggregation.sum, .latest, .weightedSum].contains(metric.aggregation) {
                fail(
                    path + ["recurring"],
                    "\(metric.aggregation.rawValue) does not describe a level that can carry into the next period; recurring needs sum (changes of a level), latest (readings of it) or weighted_sum"
                )
            }
        }
        for (planOffset, plan) in catalog.plans.enumerated() {
            validate(plan, at: ["plans", .index(planOffset)], catalog: catalog)
        }
        // Customers come in runs on one plan: its lookup is made once per run, and a path is made only
        // for a problem. A numbered run's customers are alike but for their ids: its first stands for all.
        var planOfRun: (id: String, problem: String?)?
        for (offset, customer) in catalog.customers.representatives {
            if !customer.subscriptions.isEmpty {
                validateSubscriptions(of: customer, at: ["customers", .index(offset)], catalog: catalog)
                if customer.creditBalance.isNegative {
                    nonNegative(customer.creditBalance, ["customers", .index(offset), "balance"], "a credit balance")
                }
                continue
            }
            if planOfRun?.id != customer.plan {
                let expected = Catalog.expected(oneOf: catalog.plans.map(\.id), section: "plans")
                planOfRun = (
                    customer.plan,
                    catalog.plan(customer.plan) != nil ? nil : "unknown plan '\(customer.plan)', \(expected)"
                )
            }
            if let problem = planOfRun?.problem { fail(["customers", .index(offset), "plan"], problem) }
            if let start = customer.start, let end = customer.end, end <= start {
                fail(["customers", .index(offset), "end"], "the subscription ends at or before it starts")
            }
            if customer.creditBalance.isNegative {
                nonNegative(customer.creditBalance, ["customers", .index(offset), "balance"], "a credit balance")
            }
            if customer.trial != nil || !customer.changes.isEmpty {
                validateChanges(of: customer, at: ["customers", .index(offset)], catalog: catalog)
            }
            if customer.trialUsage != nil, customer.trial == nil, catalog.plan(customer.plan)?.trial == nil {
                fail(
                    ["customers", .index(offset), "trial_usage"],
                    "trial_usage says how a trial's usage is billed, but the customer has no trial; "
                        + "expected a trial on the customer or its plan")
            }
        }
        for (offset, discount) in catalog.discounts.enumerated() {
            let path: [CatalogPathComponent] = ["discounts", .index(offset)]
            validateScope(of: discount, at: path, catalog: catalog)
            switch discount.kind {
            case .percent(let percent): percentage(percent, path + ["percent"])
            case .fixed(let amount): nonNegative(amount, path + ["amount"], "a discount amount")
            }
            if case .periods(let n) = discount.duration, n < 1 {
                fail(path + ["duration"], "a discount lasts at least 1 period, got \(n)")
            }
        }
        for (offset, tax) in catalog.taxRates.enumerated() {
            percentage(tax.rate, ["taxes", .index(offset), "rate"])
            if let code = tax.code, [TaxRate.exemptCode, TaxRate.standardCode].contains(code) {
                fail(
                    ["taxes", .index(offset), "code"],
                    "'\(code)' is reserved (exempt: no tax; standard: the rates without a code), "
                        + "expected another code or none")
            }
        }
        for (offset, credit) in catalog.credits.enumerated() {
            let path: [CatalogPathComponent] = ["credits", .index(offset)]
            knownCustomer(credit.customer, path + ["customer"], catalog)
            nonNegative(credit.amount, path + ["amount"], "a credit amount")
            if let periods = credit.expiresAfterPeriods, periods < 1 {
                fail(path + ["expires_after"], "a credit lasts at least 1 period, got \(periods)")
            }
            if credit.grantedInPeriod < 0 { fail(path + ["period"], "a period index is 0 or more") }
        }
    }

    /// A customer's several subscriptions: each as a customer on one plan is checked; ids once each; no metric priced
    /// by two of them over overlapping dates; plans that agree on what one invoice shows once (prices with or
    /// without tax, the pricing unit); at most one with a rollover and one with a term commitment.
    mutating func validateSubscriptions(of customer: Customer, at path: [CatalogPathComponent], catalog: Catalog) {
        let known = catalog.plans.map(\.id)
        var first: Plan?
        var seen: [(id: String, from: Instant?, to: Instant?, metrics: Set<String>)] = []
        // Which subscription has a plan with rollover, or with a term commitment (looked up, never iterated).
        var onlyOne: [String: String] = [:]
        for (offset, subscription) in customer.subscriptions.enumerated() {
            let own = path + ["subscriptions", .index(offset)]
            let holding = customer.holding(subscriptionAt: offset)
            if seen.contains(where: { $0.id == subscription.id }) {
                fail(own + ["id"], "duplicate subscription id '\(subscription.id)', expected each id once per customer")
            }
            guard catalog.plan(subscription.plan) != nil else {
                fail(
                    own + ["plan"],
                    "unknown plan '\(subscription.plan)', \(Catalog.expected(oneOf: known, section: "plans"))")
                continue
            }
            if let start = subscription.start, let end = subscription.end, end <= start {
                fail(own + ["end"], "the subscription ends at or before it starts")
            }
            if subscription.trial != nil || !subscription.changes.isEmpty {
                validateChanges(of: holding, at: own, catalog: catalog)
            }
            if subscription.trialUsage != nil, subscription.trial == nil,
                catalog.plan(subscription.plan)?.trial == nil
            {
                fail(
                    own + ["trial_usage"],
                    "trial_usage says how a trial's usage is billed, but the subscription has no trial; "
                        + "expected a trial on the subscription or its plan")
            }
            // Every plan the subscription can be on: its first and those of its changes, with where each is named.
            var plans: [(plan: Plan, path: [CatalogPathComponent])] = []
            if let plan = catalog.plan(subscription.plan) { plans.append((plan, own + ["plan"])) }
            for (index, change) in subscription.changes.enumerated() {
                if let id = change.plan, let plan = catalog.plan(id) {
                    plans.append((plan, own + ["changes", .index(index), "plan"]))
                }
            }
            var metrics: Set<String> = []
            for (plan, planPath) in plans {
                if let first, plan.pricesIncludeTax != first.pricesIncludeTax || plan.pricingUnit != first.pricingUnit {
                    fail(
                        planPath,
                        "plan '\(plan.id)' differs from plan '\(first.id)' of the first subscription in "
                            + "prices_include_tax or pricing_unit; expected the plans of one invoice to agree on them")
                }
                first = first ?? plan
                // The invoice shows one rollover summary and one commitment summary: a single subscription's.
                for (has, what) in [(plan.rollover != nil, "rollover"), (plan.commitment != nil, "a term commitment")]
                where has {
                    if let other = onlyOne[what], other != subscription.id {
                        fail(
                            planPath,
                            "subscription '\(other)' already has a plan with \(what); expected at most one "
                                + "subscription per customer with \(what)")
                    }
                    onlyOne[what] = subscription.id
                }
                for charge in plan.charges { if let metric = charge.metric { metrics.insert(metric) } }
            }
            for other in seen {
                let overlaps =
                    (other.to.map { to in subscription.start.map { $0 < to } ?? true } ?? true)
                    && (subscription.end.map { end in other.from.map { $0 < end } ?? true } ?? true)
                guard overlaps, let metric = other.metrics.intersection(metrics).sorted().first else { continue }
                fail(
                    own + ["plan"],
                    "metric '\(metric)' is priced by subscription '\(other.id)' too, over overlapping dates; "
                        + "expected each metric priced by one subscription at a time (move it between plans with "
                        + "changes, or end one subscription before the other starts)")
            }
            seen.append((subscription.id, subscription.start, subscription.end, metrics))
        }
    }

    /// A customer's trial and plan changes: known plans, in date order, none after a cancellation.
    mutating func validateChanges(of customer: Customer, at path: [CatalogPathComponent], catalog: Catalog) {
        if let trial = customer.trial, trial.milliseconds <= 0 {
            fail(path + ["trial"], "a trial must be longer than 0")
        }
        var previous = customer.start
        for (offset, change) in customer.changes.enumerated() {
            let changePath = path + ["changes", .index(offset)]
            if let plan = change.plan, catalog.plan(plan) == nil {
                fail(
                    changePath + ["plan"],
                    "unknown plan '\(plan)', \(Catalog.expected(oneOf: catalog.plans.map(\.id), section: "plans"))")
            }
            if let previous, change.at < previous {
                fail(changePath + ["at"], "a change must come after the subscription's start and the change before it")
            }
            if offset > 0 && customer.changes[offset - 1].plan == nil {
                fail(changePath, "the subscription was already cancelled by the change before")
            }
            previous = change.at
        }
    }

    mutating func validate(_ plan: Plan, at path: [CatalogPathComponent], catalog: Catalog) {
        if let trial = plan.trial, trial.milliseconds <= 0 { fail(path + ["trial"], "a trial must be longer than 0") }
        for (offset, charge) in plan.charges.enumerated() {
            validate(charge, at: path + ["charges", .index(offset)], catalog: catalog)
            knownTaxCode(charge.taxCode, path + ["charges", .index(offset), "tax_code"], catalog)
        }
        knownTaxCode(plan.taxCode, path + ["tax_code"], catalog)
        for (offset, quota) in plan.quotas.enumerated() {
            let quotaPath = path + ["quota", .key(quota.metric)]
            _ = offset
            guard let metric = catalog.metric(quota.metric) else {
                fail(quotaPath, "unknown metric '\(quota.metric)' in a quota")
                continue
            }
            if metric.aggregation != .count && metric.aggregation != .sum {
                fail(quotaPath, "quotas limit count or sum metrics, '\(metric.key)' is \(metric.aggregation.rawValue)")
            }
            nonNegative(quota.limit, quotaPath + ["limit"], "a quota limit")
        }
        if let unit = plan.pricingUnit {
            if unit.name.isEmpty { fail(path + ["pricing_unit", "name"], "a pricing unit needs a name, like credits") }
            if unit.conversionRate <= .zero {
                fail(
                    path + ["pricing_unit", "conversion_rate"],
                    "a conversion rate must be above 0, got \(unit.conversionRate)")
            }
        }
        if let term = plan.commitment {
            nonNegative(term.amount, path + ["commitment", "amount"], "a commitment")
            if term.periods < 1 {
                fail(path + ["commitment", "periods"], "a commitment's term is at least 1 period, got \(term.periods)")
            }
        }
        if let commitment = plan.minimumCommitment {
            nonNegative(commitment, path + ["minimum_commitment"], "a minimum commitment")
        }
        if let cap = plan.spendCap { nonNegative(cap, path + ["spend_cap"], "a spend cap") }
        if let minimum = plan.minimumCommitment, let cap = plan.spendCap, cap < minimum {
            fail(path + ["spend_cap"], "the spend cap \(cap) is below the minimum commitment \(minimum)")
        }
        validateRequestLimits(plan, at: path, catalog: catalog)
        if let rollover = plan.rollover {
            let rolloverPath = path + ["rollover"]
            if catalog.metric(rollover.metric) == nil {
                fail(rolloverPath + ["metric"], "unknown metric '\(rollover.metric)'")
            }
            if rollover.maxPeriods < 1 {
                fail(rolloverPath + ["max_periods"], "rolled-over units last at least 1 period")
            }
            if let cap = rollover.cap { nonNegative(cap, rolloverPath + ["cap"], "a rollover cap") }
            if plan.charges.contains(where: { $0.metric == rollover.metric && $0.prorated }) {
                fail(rolloverPath + ["metric"], "rollover cannot carry units of a prorated charge's metric")
            }
            let hasIncludedTier = plan.charges.contains { charge in
                guard charge.metric == rollover.metric, case .graduated(let tiers) = charge.model else { return false }
                return tiers.count > 1 && tiers[0].unitPrice.isZero
            }
            if !hasIncludedTier {
                fail(
                    rolloverPath + ["metric"],
                    "rollover needs a graduated charge on '\(rollover.metric)' whose first tier is free (its included units)"
                )
            }
        }
    }

    mutating func validate(_ charge: Charge, at path: [CatalogPathComponent], catalog: Catalog) {
        if charge.billing == .inAdvance, case .flat = charge.model {
        } else if charge.billing == .inAdvance {
            fail(path + ["billed"], "only a flat fee can be billed in_advance; usage is billed in arrears")
        }
        var metric: Metric?
        if let key = charge.metric {
            metric = catalog.metric(key)
            if metric == nil {
                fail(
                    path + ["metric"],
                    "unknown metric '\(key)', \(Catalog.expected(oneOf: catalog.metrics.map(\.key), section: "metrics"))"
                )
            }
        } else if !isFlat(charge.model) {
            fail(path + ["metric"], "a usage charge needs a metric")
        }
        if let minimum = charge.minAmount { nonNegative(minimum, path + ["min_amount"], "a charge minimum") }
        if charge.prorated { validateProration(of: charge, metric: metric, at: path + ["prorated"]) }
        switch charge.model {
        case .flat(let amount):
            nonNegative(amount, path + ["amount"], "a flat amount")
        case .perUnit(let price):
            nonNegative(price, path + ["unit_price"], "a unit price")
        case .graduated(let tiers), .volume(let tiers):
            validate(
                tiers.map { ($0.upTo, [$0.unitPrice, $0.flatFee]) }, at: path + ["tiers"],
                priceKeys: ["unit_price", "flat_fee"])
        case .stairstep(let tiers):
            validate(tiers.map { ($0.upTo, [$0.flatFee]) }, at: path + ["tiers"], priceKeys: ["price"])
        case .graduatedPercentage(let tiers):
            validate(tiers.map { ($0.upTo, [$0.flatFee]) }, at: path + ["tiers"], priceKeys: ["flat_fee"])
            for (offset, tier) in tiers.enumerated() {
                percentage(tier.rate, path + ["tiers", .index(offset), "rate"])
            }
        case .package(let size, let price, let free, _):
            if size <= .zero { fail(path + ["package_size"], "a package size must be above 0, got \(size)") }
            nonNegative(price, path + ["package_price"], "a package price")
            nonNegative(free, path + ["free_units"], "free units")
        case .percentage(let terms):
            percentage(terms.rate, path + ["rate"])
            nonNegative(terms.fixedFee, path + ["fixed_fee"], "a fixed fee")
            nonNegative(terms.freeAmount, path + ["free_amount"], "a free amount")
            if terms.freeEvents < 0 { fail(path + ["free_events"], "free events must be 0 or more") }
            if let min = terms.perEventMin { nonNegative(min, path + ["per_event_min"], "a per-event minimum") }
            if let max = terms.perEventMax { nonNegative(max, path + ["per_event_max"], "a per-event maximum") }
            if let min = terms.perEventMin, let max = terms.perEventMax, max < min {
                fail(path + ["per_event_max"], "per_event_max \(max) is below per_event_min \(min)")
            }
        case .tieredBlocks(let terms):
            validate(terms.tiers.map { ($0.upTo, [$0.blockPrice]) }, at: path + ["tiers"], priceKeys: ["block_price"])
            var lower = ExactDecimal.zero
            for (offset, tier) in terms.tiers.enumerated() {
                let tierPath = path + ["tiers", .index(offset)]
                guard tier.blockSize > .zero else {
                    fail(tierPath + ["block_size"], "a block size must be above 0, got \(tier.blockSize)")
                    continue
                }
                // Kill Bill sizes a tier in whole blocks; a part block at a tier's top would be sold twice.
                if let upTo = tier.upTo, upTo > lower,
                    let blocks = try? (try upTo - lower).divided(by: tier.blockSize, scale: 0, .floor),
                    (try? blocks * tier.blockSize) != (try? upTo - lower)
                {
                    fail(
                        tierPath + ["up_to"],
                        "a tier holds whole blocks: \(lower) to \(upTo) is not a multiple of the block size \(tier.blockSize)"
                    )
                }
                if let upTo = tier.upTo { lower = upTo }
            }
        case .matrix(let matrix):
            nonNegative(matrix.defaultPrice, path + ["default_price"], "a default price")
            if let metric, metric.groupBy != matrix.dimensions {
                fail(
                    path + ["dimensions"],
                    "a matrix on '\(metric.key)' must use the metric's group_by \(metric.groupBy) as its dimensions, got \(matrix.dimensions)"
                )
            }
            var seen = Set<[String]>()
            for (offset, price) in matrix.prices.enumerated() {
                let pricePath = path + ["prices", .index(offset)]
                if price.values.count != matrix.dimensions.count {
                    fail(
                        pricePath,
                        "expected \(matrix.dimensions.count) values (\(matrix.dimensions.joined(separator: ", "))), got \(price.values.count)"
                    )
                }
                if !seen.insert(price.values).inserted {
                    fail(pricePath, "the combination \(price.values) is priced twice")
                }
                nonNegative(price.unitPrice, pricePath + ["unit_price"], "a unit price")
            }
        }
    }

    /// A metric's unit cost: not negative, each listed value once.
    mutating func validateCost(_ metric: Metric, at path: [CatalogPathComponent]) {
        switch metric.cost {
        case nil: return
        case .flat(let cost): nonNegative(cost, path, "a unit cost")
        case .byProperty(let table):
            nonNegative(table.defaultCost, path + ["default"], "a unit cost")
            var seen = Set<String>()
            for entry in table.costs {
                if !seen.insert(entry.value).inserted {
                    fail(path + ["values", .key(entry.value)], "the value '\(entry.value)' is costed twice")
                }
                nonNegative(entry.cost, path + ["values", .key(entry.value)], "a unit cost")
            }
        }
        if metric.cost != nil && ![Aggregation.count, .sum].contains(metric.aggregation) {
            fail(
                path,
                "a unit cost needs a count or sum metric (a cost per event or per unit), '\(metric.key)' is \(metric.aggregation.rawValue)"
            )
        }
    }

    /// Spike arrests within their arithmetic's range, on known metrics; Margin Guard levels in order.
    mutating func validateRequestLimits(_ plan: Plan, at path: [CatalogPathComponent], catalog: Catalog) {
        for (offset, arrest) in plan.spikeArrests.enumerated() {
            let arrestPath = path + ["spike_arrest", .index(offset)]
            if arrest.rate < 1 || arrest.rate > SpikeArrest.maxRate {
                fail(
                    arrestPath + ["rate"],
                    "a spike arrest rate must be 1 to \(SpikeArrest.maxRate) per \(arrest.unit.rawValue), got \(arrest.rate)"
                )
            }
            if arrest.burst < 1 || arrest.burst > SpikeArrest.maxBurst {
                fail(
                    arrestPath + ["burst"], "a burst must be 1 to \(SpikeArrest.maxBurst) requests, got \(arrest.burst)"
                )
            }
            if let metric = arrest.metric, catalog.metric(metric) == nil {
                fail(
                    arrestPath + ["metric"],
                    "unknown metric '\(metric)', expected one of: \(catalog.metrics.map(\.key).joined(separator: ", "))"
                )
            }
        }
        if let guardLevels = plan.marginGuard {
            let guardPath = path + ["margin_guard"]
            if guardLevels.throttleBelow > guardLevels.warnBelow {
                fail(guardPath + ["throttle_below"], "throttle_below must not be above warn_below")
            }
            if guardLevels.blockBelow > guardLevels.throttleBelow {
                fail(guardPath + ["block_below"], "block_below must not be above throttle_below")
            }
            if ExactDecimal.one < guardLevels.warnBelow {
                fail(guardPath + ["warn_below"], "a margin threshold is at most 100%")
            }
        }
    }

    /// Tiers: `up_to` strictly increasing and positive, only the last one open, prices not negative.
    mutating func validate(
        _ tiers: [(upTo: ExactDecimal?, prices: [ExactDecimal])], at path: [CatalogPathComponent], priceKeys: [String]
    ) {
        if tiers.isEmpty { fail(path, "at least one tier is needed") }
        var previous: ExactDecimal = .zero
        for (offset, tier) in tiers.enumerated() {
            let tierPath = path + [.index(offset)]
            if let upTo = tier.upTo {
                if upTo <= previous {
                    fail(
                        tierPath + ["up_to"], "up_to must increase from tier to tier: \(upTo) is not above \(previous)")
                }
                previous = upTo
                if offset == tiers.count - 1 {
                    fail(tierPath + ["up_to"], "the last tier must have no up_to, so every quantity has a tier")
                }
            } else if offset != tiers.count - 1 {
                fail(tierPath + ["up_to"], "only the last tier may omit up_to")
            }
            for (price, key) in zip(tier.prices, priceKeys) { nonNegative(price, tierPath + [.key(key)], "a price") }
        }
    }

    mutating func nonNegative(_ value: ExactDecimal, _ path: [CatalogPathComponent], _ what: String) {
        if value.isNegative { fail(path, "\(what) cannot be negative, got \(value)") }
    }

    mutating func percentage(_ value: ExactDecimal, _ path: [CatalogPathComponent]) {
        if value.isNegative || value > 100 { fail(path, "a percentage must be between 0 and 100, got \(value)") }
    }

    /// Who a discount is for, what it covers and when: each name must be known, and it must end after it starts.
    mutating func validateScope(of discount: Discount, at path: [CatalogPathComponent], catalog: Catalog) {
        if let id = discount.customer { knownCustomer(id, path + ["customer"], catalog) }
        if let id = discount.plan, catalog.plan(id) == nil {
            fail(
                path + ["plan"],
                "unknown plan '\(id)', expected one of: \(catalog.plans.map(\.id).joined(separator: ", "))")
        }
        if discount.customer == nil && discount.plan == nil {
            fail(path, "a discount needs a customer, a plan or both")
        }
        if let id = discount.customer, let plan = discount.plan, let customer = catalog.customer(id),
            customer.plan != plan, !customer.subscriptions.contains(where: { $0.plan == plan })
        {
            fail(path + ["plan"], "customer '\(id)' is on plan '\(customer.plan)', not '\(plan)'")
        }
        // The charges it may name: its plan's, its customer's plan's, or any plan's.
        let planID = discount.plan ?? discount.customer.flatMap { catalog.customer($0)?.plan }
        let plans = planID.flatMap(catalog.plan).map { [$0] } ?? catalog.plans
        for (offset, name) in discount.charges.enumerated()
        where !plans.contains(where: { $0.charges.contains { $0.name == name } }) {
            fail(
                path + ["charges", .index(offset)],
                "no charge named '\(name)' in \(planID.map { "plan '\($0)'" } ?? "any plan")")
        }
        for (offset, key) in discount.metrics.enumerated() where catalog.metric(key) == nil {
            fail(path + ["metrics", .index(offset)], "unknown metric '\(key)'")
        }
        if let start = discount.start, let expires = discount.expires, expires <= start {
            fail(path + ["expires"], "the discount expires at or before it starts")
        }
    }

    /// A tax code must be `exempt` or the code of a rate, so a misspelt code is not silently untaxed.
    mutating func knownTaxCode(_ code: String?, _ path: [CatalogPathComponent], _ catalog: Catalog) {
        guard let code, code != TaxRate.exemptCode, code != TaxRate.standardCode else { return }
        let known = catalog.taxRates.compactMap(\.code)
        if !known.contains(code) {
            var seen = Set<String>()
            let choices = ([TaxRate.exemptCode, TaxRate.standardCode] + known).filter { seen.insert($0).inserted }
            fail(
                path, "unknown tax code '\(code)', expected one of the taxes' codes: \(choices.joined(separator: ", "))"
            )
        }
    }

    mutating func knownCustomer(_ id: String, _ path: [CatalogPathComponent], _ catalog: Catalog) {
        if catalog.customer(id) == nil { fail(path, "unknown customer '\(id)'") }
    }

    /// A prorated charge prices a recurring level by time: per_unit, graduated or volume on a recurring sum or latest.
    mutating func validateProration(of charge: Charge, metric: Metric?, at path: [CatalogPathComponent]) {
        switch charge.model {
        case .perUnit, .graduated, .volume: break
        default:
            fail(path, "only per_unit, graduated and volume charges can be prorated")
            return
        }
        guard let metric else { return }
        if !metric.recurring {
            fail(
                path, "metric '\(metric.key)' is not recurring; only a recurring metric's level can be prorated by time"
            )
        } else if metric.aggregation == .weightedSum {
            fail(path, "weighted_sum is already a time-weighted average; remove prorated")
        }
    }

    func isFlat(_ model: PricingModel) -> Bool {
        if case .flat = model { return true }
        return false
    }
}

extension Catalog {
    /// `expected one of: a, b` for a name that is not in `names`, or, when the catalog defines
    /// none, which section is empty: a message never ends in an empty list.
    public static func expected(oneOf names: [String], section: String) -> String {
        names.isEmpty
            ? "and the scenario's \(section) list is empty or missing"
            : "expected one of: \(names.joined(separator: ", "))"
    }
}
