/// Turns a run's metered usage into every invoice of every period.
///
/// Per customer and period the stages run in this order: rollover, rating,
/// contract, discounts, tax, routing, settlement, invoice. What carries between
/// periods (rolled-over units, prepaid credits, the credit balance, a `once`
/// discount's unused rest, how many invoices a customer has had) lives in a
/// per-customer ledger that only this call touches, so the result depends on
/// nothing but the catalog, the schedule and the usage.
public struct Biller: Sendable {
    /// The catalog whose customers are billed, on their plans, discounts, taxes and credits.
    public let catalog: Catalog
    /// The billing periods invoiced; it must be the schedule the usage was metered on.
    public let schedule: PeriodSchedule

    /// Creates a biller for `catalog`'s customers over the periods of `schedule`.
    public init(catalog: Catalog, schedule: PeriodSchedule) {
        self.catalog = catalog
        self.schedule = schedule
    }

    /// Every invoice of the run, by period, then in the catalog's customer order.
    ///
    /// A customer whose subscription does not overlap a period gets no invoice for it. A customer
    /// billed on its own anniversary (``BillingAnchor/anniversary``) has periods of its own, from its
    /// start: then invoices go by the end of the period they cover, then in catalog order.
    ///
    /// - Throws: ``BillingError`` when the usage was metered on another schedule, or
    ///   when an amount overflows exact decimal range (naming customer, period and stage).
    public func invoices(for usage: Usage) throws(BillingError) -> [Invoice] {
        var invoices: [Invoice] = []
        invoices.reserveCapacity(catalog.customers.count * schedule.periods.count)
        try forEachInvoice(for: usage) { invoices.append($0) }
        return invoices
    }

    /// Makes the invoices of ``invoices(for:)``, in the same order, handing each to `body` as
    /// soon as it is made.
    ///
    /// For a service that sends invoices on rather than holding them: with a million
    /// customers, a run's invoices fill gigabytes, and memory touched for the first time
    /// costs the kernel a page fault and a zeroed page, more than making the invoices does.
    /// An invoice `body` lets go of is freed before the next is made, so the next reuses it.
    ///
    /// - Throws: as ``invoices(for:)``; the invoices handed over before the error stand.
    public func forEachInvoice(for usage: Usage, _ body: (consuming Invoice) -> Void) throws(BillingError) {
        try forEachInvoice(for: usage, customers: catalog.customers.indices, body)
    }

    /// ``forEachInvoice(for:_:)`` for the catalog's customers at `positions` only: their invoices,
    /// by period, then in catalog order.
    ///
    /// A customer's invoices depend on nothing but its own usage and its own ledger of credits,
    /// rollover and discounts, so contiguous ranges that cover the catalog can be billed apart,
    /// on as many threads: for each period in turn, the ranges' invoices of that period, range
    /// after range, are exactly those of ``invoices(for:)``, numbers included.
    ///
    /// - Throws: as ``invoices(for:)``.
    public func forEachInvoice(
        for usage: Usage, customers positions: Range<Int>, _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        try forEachInvoice(for: usage, customers: positions, periods: schedule.periods.indices, body)
    }

    /// The revenue of the customer's invoice for `period` if the period closed now: its charges rated
    /// on the usage so far, fixed fees at their full amount, contract terms and discounts applied,
    /// before tax and credits (`subtotal - discountTotal`); 0 when the customer has no invoice that period.
    ///
    /// The customer's earlier periods are billed first, since rollover and `once` discounts carry from them.
    public func provisionalRevenue(
        for usage: Usage, customerAt position: Int, period: Int
    ) throws(BillingError) -> ExactDecimal {
        var figures: [(subtotal: ExactDecimal, discounts: ExactDecimal)] = []
        try forEachInvoice(for: usage, customers: position..<(position + 1), periods: 0..<(period + 1)) { invoice in
            // A period's in-advance invoice and its in-arrears one both count.
            if invoice.period.index == period { figures.append((invoice.subtotal, invoice.discountTotal)) }
        }
        do {
            var revenue = ExactDecimal.zero
            for (subtotal, discounts) in figures { revenue = try revenue + (try subtotal - discounts) }
            return revenue
        } catch {
            throw BillingError(
                stage: .discounts, customer: catalog.customers[position].id, period: period, detail: "\(error)")
        }
    }

    /// ``forEachInvoice(for:customers:_:)`` for the periods at `periodPositions` only.
    func forEachInvoice(
        for usage: Usage, customers positions: Range<Int>, periods periodPositions: Range<Int>,
        _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        guard usage.schedule == schedule else {
            throw BillingError(
                stage: .setup, customer: nil, period: nil,
                detail: "the usage was metered on a different period schedule than the biller's")
        }
        let positions = positions.clamped(to: catalog.customers.indices)
        let customers = catalog.customers[positions]
        let periodIndices = periodPositions.clamped(to: schedule.periods.indices)
        var ledgers = customers.map { customer in CustomerLedger(customer: customer, credits: catalog.credits) }
        // Customers on one plan tend to come together: the plan, and its charges' metrics in the
        // usage, are looked up again only when it changes.
        var lastPlan: (id: String, plan: Plan?, chargeMetrics: [Int32?])?
        // Customers with a trial, plan changes or fees in advance, by position (looked up, never iterated).
        var timelines: [Int: SubscriptionTimeline] = [:]
        // Customers with several subscriptions: a timeline per subscription, by position (looked up, never iterated).
        var subscriptionTimelines: [Int: [SubscriptionTimeline]] = [:]
        var numberText: [UInt8] = []
        var numberPrefix: (start: Instant, text: [UInt8])?
        // Customers billed on their own anniversary have their own periods (by position, looked up), and
        // the invoices go by the end of the period they cover, then catalog order; with none, that is
        // period by period, each in catalog order, and no order needs to be worked out.
        let order = anniversaryOrder(customers: positions, periods: periodIndices)
        let steps = order?.steps.count ?? positions.count * periodIndices.count
        for step in 0..<steps {
            let position: Int
            let period: BillingPeriod
            if let order {
                position = order.steps[step].position
                period = (order.periods[position] ?? schedule.periods)[order.steps[step].period]
            } else {
                position = positions.lowerBound + step % positions.count
                period = schedule.periods[periodIndices.lowerBound + step / positions.count]
            }
            let customer = catalog.customers[position]
            if numberPrefix?.start != period.start {
                numberPrefix = (period.start, InvoiceStage.numberPrefix(period: period))
            }
            let prefix = numberPrefix?.text ?? []
            if lastPlan?.id != customer.plan {
                let plan = catalog.plan(customer.plan)
                lastPlan = (
                    customer.plan, plan, (plan?.charges ?? []).map { $0.metric.flatMap(usage.knownMetricNumber) }
                )
            }
            if !customer.subscriptions.isEmpty {
                if subscriptionTimelines[position] == nil {
                    let own = schedule.schedule(for: customer)
                    subscriptionTimelines[position] = try BillingContext(
                        customer: customer.id, period: period.index, usageNumber: nil, chargeMetrics: []
                    ).checked(.setup, "the subscriptions' plan changes") { () throws(DecimalError) in
                        var timelines: [SubscriptionTimeline] = []
                        for index in customer.subscriptions.indices {
                            timelines.append(
                                try SubscriptionTimeline(
                                    customer: customer.holding(subscriptionAt: index), catalog: catalog, schedule: own))
                        }
                        return timelines
                    }
                }
                let number = InvoiceStage.number(prefix: prefix, customerPosition: position + 1, scratch: &numberText)
                try severalSubscriptionsInvoices(
                    number: number, customer: customer, timelines: subscriptionTimelines[position] ?? [],
                    position: position, period: period, usage: usage,
                    ledger: &ledgers[position - positions.lowerBound], body)
                continue
            }
            if SubscriptionTimeline.isNeeded(customer: customer, plan: lastPlan?.plan) {
                if timelines[position] == nil {
                    timelines[position] = try BillingContext(
                        customer: customer.id, period: period.index, usageNumber: nil, chargeMetrics: []
                    ).checked(.setup, "the subscription's plan changes") { () throws(DecimalError) in
                        try SubscriptionTimeline(
                            customer: customer, catalog: catalog, schedule: schedule.schedule(for: customer))
                    }
                }
                guard let timeline = timelines[position] else { continue }
                let number = InvoiceStage.number(prefix: prefix, customerPosition: position + 1, scratch: &numberText)
                try lifecycleInvoices(
                    number: number, customer: customer, timeline: timeline, position: position, period: period,
                    usage: usage, ledger: &ledgers[position - positions.lowerBound], body)
                continue
            }
            guard let active = ActiveTime(customer: customer, period: period) else { continue }
            let number = InvoiceStage.number(prefix: prefix, customerPosition: position + 1, scratch: &numberText)
            var invoice = try invoice(
                number: number, customer: customer, plan: lastPlan?.plan,
                chargeMetrics: lastPlan?.chargeMetrics ?? [],
                position: position, period: period, active: active, usage: usage,
                ledger: &ledgers[position - positions.lowerBound])
            // An invoice of a customer's own anniversary says when it is issued: its period's end.
            if customer.anchor == .anniversary { invoice.issued = period.end }
            body(invoice)
        }
    }

    /// The order invoices are made in when some of the customers at `positions` are billed on their own
    /// anniversary, with those customers' periods; nil when none is (then every customer follows the schedule).
    ///
    /// Invoices go by the end of the period they cover, then by the customer's position in the catalog:
    /// a customer's periods end one after the other, so its own invoices keep their order.
    private func anniversaryOrder(
        customers positions: Range<Int>, periods periodIndices: Range<Int>
    ) -> (steps: [(position: Int, period: Int)], periods: [Int: [BillingPeriod]])? {
        var periods: [Int: [BillingPeriod]] = [:]
        for position in positions where catalog.customers[position].anchor == .anniversary {
            let own = schedule.schedule(for: catalog.customers[position])
            if own != schedule { periods[position] = own.periods }
        }
        guard !periods.isEmpty else { return nil }
        var steps: [(end: Instant, position: Int, period: Int)] = []
        steps.reserveCapacity(positions.count * periodIndices.count)
        for position in positions {
            let own = periods[position] ?? schedule.periods
            // An anniversary customer's periods are those starting inside the run: perhaps fewer.
            for index in periodIndices.clamped(to: own.indices) { steps.append((own[index].end, position, index)) }
        }
        steps.sort { ($0.end, $0.position) < ($1.end, $1.position) }
        return (steps.map { ($0.position, $0.period) }, periods)
    }

    private func invoice(
        number: String, customer: Customer, plan: Plan?, chargeMetrics: [Int32?], position: Int, period: BillingPeriod,
        active: ActiveTime,
        usage: Usage, ledger: inout CustomerLedger
    ) throws(BillingError) -> Invoice {
        // With a million customers, each lookup by id is a cache miss: one per invoice, not one per charge.
        let context = BillingContext(
            customer: customer.id, period: period.index,
            usageNumber: usage.knownCustomerNumber(customer.id, guessing: position), chargeMetrics: chargeMetrics,
            activeEnd: customer.end.flatMap { $0 < period.end ? $0 : nil })
        guard let plan else {
            throw BillingError(
                stage: .setup, customer: customer.id, period: period.index, detail: "unknown plan '\(customer.plan)'")
        }
        let currency = catalog.currency
        let (charged, rollover) = try rated(
            plan: plan, usage: usage, active: active, period: period, ledger: &ledger, context: context)
        let subscriptionEnds = customer.end.map { $0 <= period.end } ?? false
        let (lines, commitment) = try ContractStage.run(
            plan: plan, lines: charged, active: active, currency: currency,
            commitment: &ledger.commitment, subscriptionEnds: subscriptionEnds, context: context)
        return try settled(
            number: number, customer: customer, plan: plan, period: period, lines: lines, rollover: rollover?.summary,
            commitment: commitment, ledger: &ledger, context: context)
    }

    /// Stages 1 and 2: rollover and rating, a line per charge of `plan`.
    func rated(
        plan: Plan, usage: Usage, active: ActiveTime, period: BillingPeriod, ledger: inout CustomerLedger,
        context: BillingContext
    ) throws(BillingError) -> (lines: [InvoiceLine], rollover: RolloverOutcome?) {
        var rollover: RolloverOutcome?
        if let metric = plan.rollover?.metric {
            let quantity = try context.checked(.rollover, "usage of '\(metric)'") {
                () throws(DecimalError) -> ExactDecimal in
                try usage.quantity(
                    customerNumber: context.usageNumber, metricNumber: usage.knownMetricNumber(metric),
                    period: period.index)
            }
            rollover = try RolloverStage.run(
                plan: plan, quantity: quantity, period: period.index, buckets: &ledger.rolloverBuckets, context: context
            )
        }
        let lines = try RatingStage.run(
            plan: plan, usage: usage, active: active, currency: catalog.currency, rollover: rollover, context: context)
        return (lines, rollover)
    }

    /// Stages 4 to 8 on the lines of stages 1 to 3: discounts, tax, routing, settlement, and the invoice.
    func settled(
        number: String, customer: Customer, plan: Plan, period: BillingPeriod, lines: [InvoiceLine],
        rollover: RolloverSummary?, commitment: CommitmentSummary?, closesPeriod: Bool = true,
        ledger: inout CustomerLedger, context: BillingContext, subscriptionPlans: [Plan?] = []
    ) throws(BillingError) -> Invoice {
        let currency = catalog.currency
        let plans = LinePlans(invoicePlan: plan, bySubscription: subscriptionPlans)
        let discounts = try DiscountStage.run(
            discounts: catalog.discounts, customer: customer, plans: plans, periodStart: period.start,
            uses: &ledger.discountUses, rests: &ledger.discountRests, lines: lines, currency: currency,
            context: context)
        let taxes = try TaxStage.run(
            taxRates: catalog.taxRates, customer: customer, plans: plans, rounding: catalog.taxRounding,
            lines: lines, discounts: discounts, currency: currency, context: context)
        let destination = RoutingStage.destination(for: customer)
        let totals = try InvoiceStage.totals(
            lines: lines, discounts: discounts, taxes: taxes,
            taxIncluded: plan.pricesIncludeTax, context: context)
        let settlement = try SettlementStage.run(
            total: totals.total, period: period.index, closesPeriod: closesPeriod, grants: &ledger.grants,
            balance: &ledger.balance,
            currency: currency, context: context)
        ledger.invoicesIssued += 1

        return Invoice(
            number: number,
            customer: customer.id, period: period, currency: currency, destination: destination,
            lines: lines, subtotal: totals.subtotal,
            discounts: discounts, discountTotal: totals.discounts,
            taxes: taxes, taxTotal: totals.tax, total: totals.total,
            credits: settlement.applications, creditsApplied: settlement.applied, amountDue: settlement.amountDue,
            expiredCredits: settlement.expired, rollover: rollover, pricesIncludeTax: plan.pricesIncludeTax,
            pricingUnit: plan.pricingUnit, commitment: commitment)
    }
}

/// What carries from one period to the next for one customer.
struct CustomerLedger: Sendable {
    /// Invoices issued so far.
    var invoicesIssued = 0
    /// How many of the customer's invoices each discount was in effect on, by its catalog index
    /// (looked up, never iterated): decides `once` and `periods(n)`.
    var discountUses: [Int: Int] = [:]
    /// Where the customer is in its plan's commitment term.
    var commitment = CommitmentState()
    /// Oldest first.
    var rolloverBuckets: [RolloverBucket] = []
    /// The customer's prepaid grants, oldest grant first (ties: catalog order).
    var grants: [CreditGrantState]
    var balance: ExactDecimal
    /// The unused rest of each `once` fixed discount, by its catalog index (looked up, never iterated).
    var discountRests: [Int: ExactDecimal] = [:]
    /// For a customer with several subscriptions, what carries for each (its plan's commitment and rollover), by
    /// position in ``Customer/subscriptions``; the customer's own ledger keeps the rest.
    var subscriptions: [CustomerLedger] = []

    init(customer: Customer, credits: [PrepaidCredit]) {
        balance = customer.creditBalance
        grants = credits.enumerated()
            .filter { $0.element.customer == customer.id }
            .map { CreditGrantState($0.element, catalogIndex: $0.offset) }
            .sorted { ($0.grantedInPeriod, $0.catalogIndex) < ($1.grantedInPeriod, $1.catalogIndex) }
        if !customer.subscriptions.isEmpty {
            let own = CustomerLedger(customer: Customer(id: customer.id, plan: ""), credits: [])
            subscriptions = Array(repeating: own, count: customer.subscriptions.count)
        }
    }
}
