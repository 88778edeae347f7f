extension Biller {
    /// The invoices of `period` for a customer with several subscriptions (``Customer/subscriptions``), handed to
    /// `body`: its in-advance invoices of the period, by the instant they are issued, then one invoice dated at the period's end
    /// holding the in-arrears lines of each subscription in the customer's order.
    ///
    /// Each subscription is billed as a customer on its plan alone would be, up to its contract terms: its fees for
    /// its own days, its plan changes and trial, its usage (the usage of the metrics its plan prices, inside its own
    /// dates), its charge minimums, minimum commitment, spend cap, term commitment and rollover; for a plan with fees
    /// in advance, the unused days credited and the rest of the period charged as for a customer on one plan.
    /// Discounts, tax and credits then apply once to each invoice, as it is made.
    func severalSubscriptionsInvoices(
        number: String, customer: Customer, timelines: [SubscriptionTimeline], position: Int, period: BillingPeriod,
        usage: Usage, ledger: inout CustomerLedger, _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        let usageNumber = usage.knownCustomerNumber(customer.id, guessing: position)
        try severalSubscriptionsInAdvance(
            number: number, customer: customer, timelines: timelines, period: period, usageNumber: usageNumber,
            ledger: &ledger, body)
        var lines: [InvoiceLine] = []
        var plans: [Plan?] = Array(repeating: nil, count: timelines.count)
        var invoicePlan: Plan?
        var rollover: RolloverSummary?
        var commitment: CommitmentSummary?
        for (index, timeline) in timelines.enumerated() {
            let phases = timeline.phases(in: period)
            guard let last = phases.last else { continue }
            // A subscription's usage needs no cut where the customer's whole time starts or ends (the meter
            // refuses events outside it); where the subscription's own time does inside it, the meter cut it.
            let own = try arrears(
                customer: customer.holding(subscriptionAt: index), timeline: timeline, phases: phases, period: period,
                usage: usage, usageNumber: usageNumber, bounds: [customer.start, customer.end],
                ledger: &ledger.subscriptions[index])
            plans[index] = last.plan
            invoicePlan = invoicePlan ?? last.plan
            // At most one subscription of a customer has a rollover or a term commitment (the catalog checks it).
            rollover = rollover ?? own.rollover?.summary
            commitment = commitment ?? own.commitment
            for var line in own.lines {
                line.subscription = index
                lines.append(line)
            }
        }
        guard let invoicePlan, !lines.isEmpty else { return }
        let context = BillingContext(
            customer: customer.id, period: period.index, usageNumber: usageNumber, chargeMetrics: [])
        var invoice = try settled(
            number: number, customer: customer, plan: invoicePlan, period: period, lines: lines, rollover: rollover,
            commitment: commitment, ledger: &ledger, context: context, subscriptionPlans: plans)
        invoice.issued = period.end
        invoice.subscriptions = customer.subscriptions.map(\.id)
        try keepCredit(of: invoice, in: &ledger, context: context)
        body(invoice)
    }

    /// The in-advance invoices of `period` for a customer with several subscriptions, handed to `body` in the order
    /// they are issued: one per instant at which a subscription's fees of the period start (the period's start, or
    /// the subscription's own start or trial end inside it), holding the in-advance fees, to the period's end, of
    /// each subscription whose fees start then, in the customer's order.
    ///
    /// The first is numbered `<number>-A` as a customer on one plan's is, the later ones `<number>-A2`, `-A3`...
    /// (Lago puts the subscriptions that share a billing date on one invoice and issues a subscription started
    /// mid-period its own at once, as Stripe does.)
    private func severalSubscriptionsInAdvance(
        number: String, customer: Customer, timelines: [SubscriptionTimeline], period: BillingPeriod,
        usageNumber: Int32?, ledger: inout CustomerLedger, _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        // Each subscription with in-advance fees this period: when they start, and the plan in force then.
        var starts: [(issued: Instant, subscription: Int, plan: Plan)] = []
        for (index, timeline) in timelines.enumerated() {
            let phases = timeline.phases(in: period)
            guard let charged = timeline.firstChargedPhase(phases).map({ phases[$0] }), charged.plan.billsInAdvance
            else { continue }
            starts.append((timeline.feeStart(charged), index, charged.plan))
        }
        guard !starts.isEmpty else { return }
        starts.sort { ($0.issued, $0.subscription) < ($1.issued, $1.subscription) }
        let context = BillingContext(
            customer: customer.id, period: period.index, usageNumber: usageNumber, chargeMetrics: [])
        var ordinal = 0
        var next = starts.startIndex
        while next < starts.endIndex {
            let issued = starts[next].issued
            var lines: [InvoiceLine] = []
            // The plan each line's charge index points into: the plan in force when its fees start.
            var plans: [Plan?] = Array(repeating: nil, count: timelines.count)
            let invoicePlan = starts[next].plan
            while next < starts.endIndex, starts[next].issued == issued {
                let (_, index, plan) = starts[next]
                plans[index] = plan
                for var line in try inAdvanceFees(of: plan, from: issued, period: period, context: context) {
                    line.subscription = index
                    lines.append(line)
                }
                next += 1
            }
            ordinal += 1
            var invoice = try settled(
                number: number + (ordinal == 1 ? "-A" : "-A\(ordinal)"), customer: customer, plan: invoicePlan,
                period: period, lines: lines, rollover: nil, commitment: nil, closesPeriod: false, ledger: &ledger,
                context: context,
                subscriptionPlans: plans)
            invoice.issued = issued
            invoice.inAdvance = true
            invoice.subscriptions = customer.subscriptions.map(\.id)
            body(invoice)
        }
    }

    /// A negative in-arrears total (credited unused days) goes to the customer's balance, which pays later invoices.
    func keepCredit(of invoice: Invoice, in ledger: inout CustomerLedger, context: BillingContext) throws(BillingError)
    {
        guard invoice.total < .zero else { return }
        ledger.balance = try context.checked(.settlement, "the credit balance") { () throws(DecimalError) in
            try ledger.balance - invoice.total
        }
    }
}

/// The plans an invoice's lines belong to: the invoice's plan, or for a customer with several subscriptions,
/// the plan of each line's own subscription.
struct LinePlans {
    /// The plan of the invoice: the customer's one plan, or its first subscription's in force.
    var invoicePlan: Plan
    /// By position in ``Customer/subscriptions``, the plan in force at the period's end; empty for one plan.
    var bySubscription: [Plan?] = []

    /// The plan whose charges `line`'s ``InvoiceLine/chargeIndex`` points into, and whose tax code it takes.
    func plan(of line: InvoiceLine) -> Plan {
        guard let index = line.subscription, index < bySubscription.count, let plan = bySubscription[index] else {
            return invoicePlan
        }
        return plan
    }
}
