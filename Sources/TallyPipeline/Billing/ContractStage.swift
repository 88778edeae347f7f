/// Stage 3: the plan's minimum commitment and spend cap, as lines after the charges.
enum ContractStage {
    static func run(
        plan: Plan, lines: [InvoiceLine], active: ActiveTime, currency: Currency, context: BillingContext
    ) throws(BillingError) -> [InvoiceLine] {
        try context.checked(.contract, "minimum commitment and spend cap") { () throws(DecimalError) -> [InvoiceLine] in
            var lines = lines
            if let commitment = plan.minimumCommitment {
                let spent = try ExactDecimal.sum(lines.lazy.map(\.amount))
                // commit x active / period - spent, as one fraction, so the true-up is rounded once.
                let (active, days) = active.isFull
                    ? (ExactDecimal.one, ExactDecimal.one)
                    : (try ExactDecimal(significand: Int128(active.activeDays), scale: 0),
                       try ExactDecimal(significand: Int128(active.periodDays), scale: 0))
                let shortfall = try (try commitment * active) - (try spent * days)
                if shortfall > .zero {
                    let trueUp = try shortfall.divided(by: days, scale: currency.minorDigits, .halfUp)
                    // A prorated commitment (x 17 / 31) has no finite decimal; ten extra digits show it.
                    let unrounded = (try? shortfall.divided(by: days, scale: currency.minorDigits + 10, .halfUp))?.normalized
                    if trueUp > .zero {
                        lines.append(InvoiceLine(
                            kind: .minimumCommitmentTrueUp, name: "Minimum commitment true-up", metric: nil, quantity: nil,
                            rolloverUnitsUsed: .zero, unroundedAmount: unrounded ?? trueUp, amount: trueUp, breakdown: nil))
                    }
                }
            }
            if let cap = plan.spendCap {
                let spent = try ExactDecimal.sum(lines.lazy.map(\.amount))
                if spent > cap {
                    let adjustment = try cap - spent
                    lines.append(InvoiceLine(
                        kind: .spendCapAdjustment, name: "Spend cap adjustment", metric: nil, quantity: nil,
                        rolloverUnitsUsed: .zero, unroundedAmount: adjustment, amount: try currency.round(adjustment), breakdown: nil))
                }
            }
            return lines
        }
    }
}
