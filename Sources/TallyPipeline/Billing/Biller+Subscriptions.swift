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
        guard let last = phases.last else { return }
        let usageNumber = usage.knownCustomerNumber(customer.id, guessing: position)

        // The plan in force when the period's fees start, after a trial that may cover the first phases.
        if let charged = timeline.firstChargedPhase(phases).map({ phases[$0] }), charged.plan.billsInAdvance {
            let advanceFrom = timeline.feeStart(charged)
            let context = BillingContext(
                customer: customer.id, period: period.index, usageNumber: usageNumber, chargeMetrics: [])
            let lines = try inAdvanceFees(of: charged.plan, from: advanceFrom, period: period, context: context)
            var invoice = try settled(
                number: number + "-A", customer: customer, plan: charged.plan, period: period, lines: lines,
                rollover: nil, commitment: nil, closesPeriod: false, ledger: &ledger, context: context)
            invoice.issued = advanceFrom
            invoice.inAdvance = true
            body(invoice)
        }

        let (contracted, rollover, commitment, context) = try arrears(
            customer: customer, timeline: timeline, phases: phases, period: period, usage: usage,
            usageNumber: usageNumber, bounds: [customer.start, customer.end], ledger: &ledger)
        // A plan whose fees are all in advance and has no usage leaves nothing to bill in arrears.
        guard !contracted.isEmpty else { return }
        var invoice = try settled(
            number: number, customer: customer, plan: last.plan, period: period, lines: contracted,
            rollover: rollover?.summary, commitment: commitment, ledger: &ledger, context: context)
        invoice.issued = period.end
        try keepCredit(of: invoice, in: &ledger, context: context)
        body(invoice)
    }

    /// The in-advance fees of `plan` from `from` to the end of `period`, a line per in-advance charge in plan order,
    /// each prorated as every flat fee is.
    func inAdvanceFees(
        of plan: Plan, from: Instant, period: BillingPeriod, context: BillingContext
    ) throws(BillingError) -> [InvoiceLine] {
        var lines: [InvoiceLine] = []
        for (index, charge) in plan.charges.enumerated() where charge.billing == .inAdvance {
            lines.append(
                try feeLine(
                    charge, of: plan, chargeIndex: index, name: charge.name, from: from, to: period.end,
                    period: period, credit: false, context: context))
        }
        return lines
    }

    /// The in-arrears lines of one subscription's `phases` in `period` (those of ``lifecycleInvoices``), after the
    /// contract terms of the plan in force at the period's end, with that plan's rollover and commitment.
    ///
    /// `bounds` are the instants where the customer's usage needs no cut to be billed by this subscription: its
    /// own start and end for a customer on one plan; the customer's first start and last end for one with several.
    func arrears(
        customer: Customer, timeline: SubscriptionTimeline, phases: [SubscriptionTimeline.Phase],
        period: BillingPeriod, usage: Usage, usageNumber: Int32?, bounds: [Instant?], ledger: inout CustomerLedger
    ) throws(BillingError) -> (
        lines: [InvoiceLine], rollover: RolloverOutcome?, commitment: CommitmentSummary?, context: BillingContext
    ) {
        let context = BillingContext(
            customer: customer.id, period: period.index, usageNumber: usageNumber,
            chargeMetrics: phases.last?.plan.charges.map { $0.metric.flatMap(usage.knownMetricNumber) } ?? [])
        guard let first = phases.first, let last = phases.last else { return ([], nil, nil, context) }
        // The phase whose in-advance fees the in-advance invoice charged; those after it pay the rest of the period.
        let charged = timeline.firstChargedPhase(phases) ?? 0
        var lines: [InvoiceLine] = []
        var rollover: RolloverOutcome?
        // The lines crediting the unused days and charging the rest of the period of fees in advance: the minimum
        // commitment and the spend cap count none of them.
        var inAdvanceLines: [Int] = []
        for (offset, phase) in phases.enumerated() {
            let feesFrom = timeline.feeStart(phase)
            let isLast = offset == phases.count - 1
            let active = ActiveTime(from: feesFrom, to: phase.to, period: period)
            let usageWindow = try self.usageWindow(
                phase, alone: phases.count == 1, timeline: timeline, customer: customer, bounds: bounds,
                period: period, usage: usage, usageNumber: usageNumber)
            if isLast {
                let inArrears = { (line: InvoiceLine) in
                    line.chargeIndex.map { phase.plan.charges[$0].billing != .inAdvance } ?? true
                }
                if let usageWindow, usageWindow.from >= usageWindow.to {
                    // All of the phase's usage is in a free trial: only its fixed fees are billed.
                    lines += try RatingStage.run(
                        plan: phase.plan, usage: usage.windowed(from: usageWindow.from, to: usageWindow.to),
                        active: active, currency: catalog.currency, rollover: nil, context: context
                    ).filter { line in inArrears(line) && line.metric == nil }
                } else {
                    let rated = try rated(
                        plan: phase.plan, usage: usageWindow.map { usage.windowed(from: $0.from, to: $0.to) } ?? usage,
                        active: active, period: period, ledger: &ledger, context: context)
                    rollover = rated.rollover
                    lines += rated.lines.filter(inArrears)
                }
            } else {
                let until = " on \(phase.planID) until \(phase.to.iso8601)"
                for charge in phase.plan.charges where charge.billing == .inArrears {
                    guard case .flat = charge.model else { continue }
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: nil, name: charge.name + until, from: feesFrom,
                            to: phase.to, period: period, credit: false, context: context))
                }
                if let usageWindow, usageWindow.from < usageWindow.to {
                    lines += try earlierPlanUsage(
                        phase, window: usageWindow, active: active, usage: usage, suffix: until, context: context)
                }
            }
            // A phase over before its fees start (a trial's) was never charged in advance, so nothing to credit.
            guard phase.plan.billsInAdvance, feesFrom < phase.to else { continue }
            for (index, charge) in phase.plan.charges.enumerated() where charge.billing == .inAdvance {
                // A plan that came in mid-period pays the rest of it; one that went gets its unused days back.
                if offset > charged {
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: isLast ? index : nil,
                            name: "Remaining time on \(phase.planID): \(charge.name) from \(feesFrom.iso8601)",
                            from: feesFrom, to: period.end, period: period, credit: false, context: context))
                    inAdvanceLines.append(lines.count - 1)
                }
                if phase.to < period.end {
                    let unusedFrom = Swift.max(phase.to, feesFrom)
                    lines.append(
                        try feeLine(
                            charge, of: phase.plan, chargeIndex: isLast ? index : nil,
                            name: "Unused time on \(phase.planID): \(charge.name) from \(unusedFrom.iso8601)",
                            from: unusedFrom, to: period.end, period: period, credit: true, context: context))
                    inAdvanceLines.append(lines.count - 1)
                }
            }
        }
        let subscriptionEnds = timeline.phases.last.map { $0.to <= period.end } ?? false
        let feesInAdvance = try context.checked(.contract, "fees in advance") { () throws(DecimalError) in
            try ExactDecimal.sum(inAdvanceLines.map { lines[$0].amount })
        }
        let (contracted, commitment) = try ContractStage.run(
            plan: last.plan, lines: lines, feesInAdvance: feesInAdvance,
            active: ActiveTime(from: first.from, to: last.to, period: period),
            currency: catalog.currency, commitment: &ledger.commitment, subscriptionEnds: subscriptionEnds,
            context: context)
        return (contracted, rollover, commitment, context)
    }

    /// The part of `period` whose usage `phase` bills, when it is not the whole period's.
    ///
    /// From the phase's start (or a free trial's end) to its end; nil when the phase, `alone` in the period, bills
    /// all of the period's usage.
    ///
    /// - Throws: when the usage was not split at an instant the window needs (a catalog fix moved a plan change).
    private func usageWindow(
        _ phase: SubscriptionTimeline.Phase, alone: Bool, timeline: SubscriptionTimeline, customer: Customer,
        bounds: [Instant?], period: BillingPeriod, usage: Usage, usageNumber: Int32?
    ) throws(BillingError) -> Usage.Window? {
        let window = Usage.Window(from: timeline.usageStart(phase), to: phase.to)
        // The subscription's own start and end need no cut: usage outside them is on no invoice anyway.
        let ownBounds = [period.start, period.end] + bounds
        if alone, window.from == phase.from, ownBounds.contains(window.from), ownBounds.contains(window.to) {
            return nil
        }
        guard window.from < window.to else { return window }
        for bound in [window.from, window.to] where !ownBounds.contains(bound) {
            guard usage.isSplit(customer: usageNumber, at: bound) else {
                throw BillingError(
                    stage: .setup, customer: customer.id, period: period.index,
                    detail: "the usage was not split at \(bound.iso8601), where the plan in force changes "
                        + "(a catalog replaced after metering moved a plan change)")
            }
        }
        return window
    }

    /// The usage lines of a plan that went mid-period, for its `window` of the period: each charge on a metric rated
    /// on the usage of that window alone (tiers, included units and packages start afresh), then the plan's minimum
    /// true-ups of those charges, prorated by the window's days; each line named with `suffix`, belonging to no charge
    /// of the invoice's plan.
    private func earlierPlanUsage(
        _ phase: SubscriptionTimeline.Phase, window: Usage.Window, active: ActiveTime, usage: Usage, suffix: String,
        context: BillingContext
    ) throws(BillingError) -> [InvoiceLine] {
        var context = context
        context.chargeMetrics = phase.plan.charges.map { $0.metric.flatMap(usage.knownMetricNumber) }
        context.activeEnd = phase.to
        var lines = try RatingStage.run(
            plan: phase.plan, usage: usage.windowed(from: window.from, to: window.to), active: active,
            currency: catalog.currency, rollover: nil, context: context
        ).filter { $0.metric != nil }
        try ContractStage.appendChargeMinimums(
            plan: phase.plan, lines: &lines,
            active: ActiveTime(
                from: window.from, to: window.to, period: usage.periods(ofCustomer: context.usageNumber)[context.period]
            ),
            currency: catalog.currency, context: context)
        for index in lines.indices {
            lines[index].name += suffix
            lines[index].chargeIndex = nil
        }
        return lines
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
