extension Biller {
    /// The invoices of `period` for a customer with a trial, plan changes or fees in advance, handed to `body`.
    ///
    /// First the in-advance invoice (`<number>-A`), dated when the period's fees start: the in-advance fees of the plan
    /// in force then, to the period's end. Then the in-arrears invoice, dated at the period's end: phase by phase, the
    /// in-arrears fees of each plan for its days; for a plan that came in mid-period, its in-advance fees for the rest
    /// of the period; for a plan that went (or a subscription that ended) mid-period, a credit for the unused days of
    /// its in-advance fees; and the usage, rated under the plan in force at the period's end, with the contract terms
    /// of that plan.
    func lifecycleInvoices(
        number: String, customer: Customer, timeline: SubscriptionTimeline, position: Int, period: BillingPeriod,
        usage: Usage, ledger: inout CustomerLedger, _ body: (consuming Invoice) -> Void
    ) throws(BillingError) {
        let phases = timeline.phases(in: period)
        guard let first = phases.first, let last = phases.last else { return }
        let usageNumber = usage.knownCustomerNumber(customer.id, guessing: position)

        let advanceFrom = timeline.feeStart(first)
        if first.plan.billsInAdvance, advanceFrom < first.to {
            let context = BillingContext(
                customer: customer.id, period: period.index, usageNumber: usageNumber, chargeMetrics: [])
            var lines: [InvoiceLine] = []
            for (index, charge) in first.plan.charges.enumerated() where charge.billing == .inAdvance {
                lines.append(
                    try feeLine(
                        charge, of: first.plan, chargeIndex: index, name: charge.name, from: advanceFrom,
                        to: period.end, period: period, credit: false, context: context))
            }
            var invoice = try settled(
                number: number + "-A", customer: customer, plan: first.plan, period: period, lines: lines,
                rollover: nil, commitment: nil, ledger: &ledger, context: context)
            invoice.issued = advanceFrom
            invoice.inAdvance = true
            body(invoice)
        }

        let context = BillingContext(
            customer: customer.id, period: period.index, usageNumber: usageNumber,
            chargeMetrics: last.plan.charges.map { $0.metric.flatMap(usage.knownMetricNumber) })
        var lines: [InvoiceLine] = []
        var rollover: RolloverOutcome?
        for (offset, phase) in phases.enumerated() {
            let feesFrom = timeline.feeStart(phase)
            let isLast = offset == phases.count - 1
            if isLast {
                let rated = try rated(
                    plan: phase.plan, usage: usage, active: ActiveTime(from: feesFrom, to: phase.to, period: period),
                    period: period, ledger: &ledger, context: context)
                rollover = rated.rollover
                lines += rated.lines.filter { line in
                    line.chargeIndex.map { phase.plan.charges[$0].billing != .inAdvance } ?? true
                }
            } else {
                for charge in phase.plan.charges where charge.billing == .inArrears {
                    guard case .flat = charge.model else { continue }
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: nil,
                            name: "\(charge.name) on \(phase.planID) until \(phase.to.iso8601)", from: feesFrom,
                            to: phase.to, period: period, credit: false, context: context))
                }
            }
            // A phase over before its fees start (a trial's) was never charged in advance, so nothing to credit.
            guard phase.plan.billsInAdvance, feesFrom < phase.to else { continue }
            for (index, charge) in phase.plan.charges.enumerated() where charge.billing == .inAdvance {
                // A plan that came in mid-period pays the rest of it; one that went gets its unused days back.
                if offset > 0 {
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: isLast ? index : nil,
                            name: "Remaining time on \(phase.planID): \(charge.name) from \(feesFrom.iso8601)",
                            from: feesFrom, to: period.end, period: period, credit: false, context: context))
                }
                if phase.to < period.end {
                    let unusedFrom = Swift.max(phase.to, feesFrom)
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: isLast ? index : nil,
                            name: "Unused time on \(phase.planID): \(charge.name) from \(unusedFrom.iso8601)",
                            from: unusedFrom, to: period.end, period: period, credit: true, context: context))
                }
            }
        }
        let subscriptionEnds = timeline.phases.last.map { $0.to <= period.end } ?? false
        let (contracted, commitment) = try ContractStage.run(
            plan: last.plan, lines: lines, active: ActiveTime(from: first.from, to: last.to, period: period),
            currency: catalog.currency, commitment: &ledger.commitment, subscriptionEnds: subscriptionEnds,
            context: context)
        // A plan whose fees are all in advance and has no usage leaves nothing to bill in arrears.
        guard !contracted.isEmpty else { return }
        var invoice = try settled(
            number: number, customer: customer, plan: last.plan, period: period, lines: contracted,
            rollover: rollover?.summary, commitment: commitment, ledger: &ledger, context: context)
        invoice.issued = period.end
        // A negative total (credited unused days) goes to the customer's balance, which pays later invoices.
        if invoice.total < .zero {
            ledger.balance = try context.checked(.settlement, "the credit balance") { () throws(DecimalError) in
                try ledger.balance - invoice.total
            }
        }
        body(invoice)
    }

    /// A flat fee prorated to `[from, to)` of `period`, `round(amount × days / period days)`; negated for a credit.
    private func feeLine(
        _ charge: Charge, of plan: Plan, chargeIndex: Int?, name: String, from: Instant, to: Instant,
        period: BillingPeriod, credit: Bool, context: BillingContext
    ) throws(BillingError) -> InvoiceLine {
        guard case .flat(let amount) = charge.model else {
            throw BillingError(
                stage: .rating, customer: context.customer, period: context.period,
                detail: "charge '\(charge.name)' is billed in advance but is not a flat fee")
        }
        let currency = catalog.currency
        return try context.checked(.rating, "charge '\(name)'") { () throws(DecimalError) -> InvoiceLine in
            let days = ActiveTime(from: from, to: to, period: period)
            let rated = try Pricing.flat(
                amount: credit ? -amount : amount, activeDays: days.activeDays, periodDays: days.periodDays,
                minorDigits: currency.minorDigits)
            let exact =
                try plan.pricingUnit.map { unit throws(DecimalError) in try rated.amount * unit.conversionRate }
                ?? rated.amount
            return InvoiceLine(
                kind: .charge, name: name, metric: nil, quantity: rated.quantity, rolloverUnitsUsed: .zero,
                unroundedAmount: exact, amount: try currency.round(exact), breakdown: rated.breakdown,
                chargeIndex: chargeIndex, pricingUnitAmount: plan.pricingUnit == nil ? nil : rated.amount)
        }
    }
}
