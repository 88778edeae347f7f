/// Stage 3: the contract terms, as lines after the charges: each charge's minimum, the commitment
/// over a term, the plan's minimum commitment and its spend cap.
enum ContractStage {
    /// The contract lines of an invoice after its `lines`.
    ///
    /// `feesInAdvance` is what of `lines` settles fees billed in advance (the unused days credited and the rest of
    /// the period charged at a plan change or an end): the minimum commitment and the spend cap leave it out, as they
    /// leave out the fees on in-advance invoices.
    static func run(
        plan: Plan, lines: [InvoiceLine], feesInAdvance: ExactDecimal = .zero, active: ActiveTime, currency: Currency,
        commitment: inout CommitmentState, subscriptionEnds: Bool, context: BillingContext
    ) throws(BillingError) -> (lines: [InvoiceLine], commitment: CommitmentSummary?) {
        var lines = lines
        try appendChargeMinimums(plan: plan, lines: &lines, active: active, currency: currency, context: context)
        let summary = try CommitmentStage.run(
            plan: plan, lines: &lines, state: &commitment,
            subscriptionEnds: subscriptionEnds, currency: currency, context: context)
        return (
            try minimumAndCap(
                plan: plan, lines: lines, feesInAdvance: feesInAdvance, active: active, currency: currency,
                context: context),
            summary
        )
    }

    /// The plan's minimum commitment true-up and spend-cap adjustment, after every other line; both compare what the
    /// lines spent but `feesInAdvance`.
    static func minimumAndCap(
        plan: Plan, lines: [InvoiceLine], feesInAdvance: ExactDecimal = .zero, active: ActiveTime, currency: Currency,
        context: BillingContext
    ) throws(BillingError) -> [InvoiceLine] {
        try context.checked(.contract, "minimum commitment and spend cap") { () throws(DecimalError) -> [InvoiceLine] in
            var lines = lines
            if let commitment = plan.minimumCommitment {
                let spent = try ExactDecimal.sum(lines.lazy.map(\.amount)) - feesInAdvance
                if let trueUp = try ContractStage.trueUp(
                    minimum: commitment, spent: spent, active: active,
                    currency: currency)
                {
                    lines.append(
                        .contract(
                            .minimumCommitmentTrueUp, "Minimum commitment true-up",
                            amount: trueUp.amount, unrounded: trueUp.unrounded))
                }
            }
            if let cap = plan.spendCap {
                let spent = try ExactDecimal.sum(lines.lazy.map(\.amount)) - feesInAdvance
                if spent > cap {
                    let adjustment = try cap - spent
                    lines.append(
                        .contract(
                            .spendCapAdjustment, "Spend cap adjustment",
                            amount: try currency.round(adjustment), unrounded: adjustment))
                }
            }
            return lines
        }
    }

    /// A true-up line after the charge lines for every charge whose amount falls short of its `min_amount`,
    /// in plan order.
    ///
    /// The minimum is compared with the charge's own line: its rounded amount, or in a plan priced in a
    /// unit of its own, its unrounded amount in that unit (the true-up is then converted and rounded once).
    static func appendChargeMinimums(
        plan: Plan, lines: inout [InvoiceLine], active: ActiveTime, currency: Currency, context: BillingContext
    ) throws(BillingError) {
        for index in lines.indices {
            guard lines[index].kind == .charge, let chargeIndex = lines[index].chargeIndex,
                let minimum = plan.charges[chargeIndex].minAmount
            else { continue }
            let line = lines[index]
            let what = "minimum of charge '\(line.name)'"
            let shortfall = try context.checked(.contract, what) { () throws(DecimalError) -> TrueUp? in
                try trueUp(
                    minimum: minimum, spent: line.pricingUnitAmount ?? line.amount, active: active,
                    currency: currency, conversionRate: plan.pricingUnit?.conversionRate)
            }
            guard let trueUp = shortfall else { continue }
            lines.append(
                InvoiceLine(
                    kind: .chargeMinimumTrueUp, name: "\(line.name) minimum true-up", metric: line.metric,
                    quantity: nil,
                    rolloverUnitsUsed: .zero, unroundedAmount: trueUp.unrounded, amount: trueUp.amount, breakdown: nil,
                    chargeIndex: chargeIndex, pricingUnitAmount: trueUp.inPricingUnit))
        }
    }

    /// A true-up and the exact amount behind it.
    struct TrueUp {
        var amount: ExactDecimal
        var unrounded: ExactDecimal
        /// The shortfall in the plan's pricing unit, when it has one.
        var inPricingUnit: ExactDecimal?
    }

    /// `minimum x active days / period days - spent`, converted at `conversionRate` when the minimum is in
    /// a pricing unit, as one fraction rounded once; nil when nothing is short.
    static func trueUp(
        minimum: ExactDecimal, spent: ExactDecimal, active: ActiveTime, currency: Currency,
        conversionRate: ExactDecimal? = nil
    ) throws(DecimalError) -> TrueUp? {
        let (activeDays, days) =
            active.isFull
            ? (ExactDecimal.one, ExactDecimal.one)
            : (
                try ExactDecimal(significand: Int128(active.activeDays), scale: 0),
                try ExactDecimal(significand: Int128(active.periodDays), scale: 0)
            )
        let shortfall = try (try minimum * activeDays) - (try spent * days)
        guard shortfall > .zero else { return nil }
        var converted = shortfall
        if let conversionRate { converted = try shortfall * conversionRate }
        let amount = try converted.divided(by: days, scale: currency.minorDigits, .halfUp)
        guard amount > .zero else { return nil }
        // A prorated minimum (x 17 / 31) has no finite decimal; ten extra digits show it.
        let digits = currency.minorDigits + 10
        let unrounded = (try? converted.divided(by: days, scale: digits, .halfUp))?.normalized ?? amount
        let inPricingUnit =
            conversionRate == nil
            ? nil : (try? shortfall.divided(by: days, scale: digits, .halfUp))?.normalized
        return TrueUp(amount: amount, unrounded: unrounded, inPricingUnit: inPricingUnit)
    }
}
