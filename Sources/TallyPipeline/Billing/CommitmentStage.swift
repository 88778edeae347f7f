/// Where a customer is in its commitment's term, carried from one invoice to the next.
struct CommitmentState: Sendable, Equatable {
    /// Invoices already issued in the current term; 0 starts a new one.
    var periodsInTerm = 0
    /// What is left of the committed amount.
    var remaining = ExactDecimal.zero
    /// Drawn down so far in the term.
    var drawn = ExactDecimal.zero
}

/// Part of stage 3: a commitment over a term, drawn down by the period's usage charges.
///
/// Usage lines are the lines of charges on a metric and their minimum true-ups; flat fees and the
/// plan's own contract lines do not draw the commitment down. A term ends with its last period or
/// with the invoice of the period the subscription ends in; a term the run does not reach the end
/// of gets no true-up.
enum CommitmentStage {
    static func run(
        plan: Plan, lines: inout [InvoiceLine], state: inout CommitmentState, subscriptionEnds: Bool,
        currency: Currency, context: BillingContext
    ) throws(BillingError) -> CommitmentSummary? {
        guard var commitment = plan.commitment else { return nil }
        return try context.checked(.contract, "commitment") { () throws(DecimalError) -> CommitmentSummary in
            commitment.amount = try currency.round(commitment.amount)
            let startsTerm = state.periodsInTerm == 0
            if startsTerm {
                state.remaining = commitment.amount
                state.drawn = .zero
            }
            var usage = ExactDecimal.zero
            for line in lines where isUsage(line, plan: plan) { usage = try usage + line.amount }
            let drawn = ExactDecimal.min(ExactDecimal.max(.zero, usage), state.remaining)
            state.remaining = try state.remaining - drawn
            state.drawn = try state.drawn + drawn
            let overage = ExactDecimal.max(.zero, try usage - drawn)
            state.periodsInTerm += 1
            let endsTerm = state.periodsInTerm >= commitment.periods || subscriptionEnds
            var trueUp = ExactDecimal.zero
            var forfeited = ExactDecimal.zero
            switch commitment.billing {
            case .prepaid:
                if startsTerm {
                    lines.append(.contract(.commitmentPrepayment, "Commitment prepayment", amount: commitment.amount))
                }
                if drawn > .zero {
                    lines.append(.contract(.commitmentDrawdown, "Commitment drawdown", amount: try -drawn))
                }
                if endsTerm { forfeited = state.remaining }
            case .inArrears:
                if endsTerm && state.remaining > .zero {
                    trueUp = state.remaining
                    lines.append(.contract(.commitmentTrueUp, "Commitment true-up", amount: trueUp))
                }
            }
            let summary = CommitmentSummary(
                billing: commitment.billing, amount: commitment.amount,
                periodInTerm: state.periodsInTerm, termPeriods: commitment.periods,
                drawnThisPeriod: drawn, drawnInTerm: state.drawn, remaining: endsTerm ? .zero : state.remaining,
                overage: overage, trueUp: trueUp, forfeited: forfeited)
            if endsTerm { state = CommitmentState() }
            return summary
        }
    }

    /// A line of a charge on a metric, or its minimum true-up: what draws a commitment down.
    static func isUsage(_ line: InvoiceLine, plan: Plan) -> Bool {
        guard line.kind == .charge || line.kind == .chargeMinimumTrueUp else { return false }
        return line.chargeIndex.map { plan.charges[$0].metric != nil } ?? false
    }
}
