extension Biller {
    /// The invoice of `period` for a customer with several subscriptions (``Customer/subscriptions``), handed to
    /// `body`: one invoice, dated at the period's end, holding the in-arrears lines of each subscription in the
    /// customer's order.
    ///
    /// Each subscription is billed as a customer on its plan alone would be, up to its contract terms: its fees for
    /// its own days, its plan changes and trial, its usage (the usage of the metrics its plan prices, inside its own
    /// dates), its charge minimums, minimum commitment, spend cap, term commitment and rollover. Discounts, tax and
    /// credits then apply once, to the whole invoice.
    func severalSubscriptionsInvoice(
        number: String, customer: Customer, timelines: [SubscriptionTimeline], position: Int, period: BillingPeriod,
        usage: Usage, ledger: inout CustomerLedger, _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        let usageNumber = usage.knownCustomerNumber(customer.id, guessing: position)
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
