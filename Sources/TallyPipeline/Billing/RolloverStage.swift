/// Unused included units saved at the end of one period.
struct RolloverBucket: Sendable, Equatable {
    /// The period whose unused units these are; usable from the next period on.
    var madeInPeriod: Int
    var units: ExactDecimal
}

/// What the rollover stage decided for one period: the quantity the charge rates and the new bucket.
struct RolloverOutcome: Sendable, Equatable {
    /// The position, in the plan's charges, of the graduated charge whose included units roll over.
    var chargeIndex: Int
    /// The metered quantity less the rolled-over units used.
    var quantityToRate: ExactDecimal
    var summary: RolloverSummary
}

/// Stage 1: rolled-over included units cover usage before any charge prices it.
///
/// Rolled-over units go first (oldest bucket first), which keeps this period's
/// own included units free to roll forward. A bucket made at the end of period
/// k is usable in periods k+1 ... k+maxPeriods.
enum RolloverStage {
    static func run(
        plan: Plan, quantity: ExactDecimal, period: Int, buckets: inout [RolloverBucket], context: BillingContext
    ) throws(BillingError) -> RolloverOutcome? {
        guard let rollover = plan.rollover,
            let (chargeIndex, included) = includedUnits(plan: plan, metric: rollover.metric)
        else { return nil }
        return try context.checked(.rollover, "rolling over included units of '\(rollover.metric)'") {
            () throws(DecimalError) -> RolloverOutcome in
            var expired = ExactDecimal.zero
            var usable: [RolloverBucket] = []
            for bucket in buckets {
                if period > bucket.madeInPeriod + rollover.maxPeriods {
                    expired = try expired + bucket.units
                } else {
                    usable.append(bucket)
                }
            }
            let available = try ExactDecimal.sum(usable.map(\.units))
            // A negative level (weighted_sum deltas) uses nothing.
            var toCover = ExactDecimal.max(.zero, ExactDecimal.min(quantity, available))
            let used = toCover
            // Buckets are kept in the order they were made, so this walks oldest first.
            for index in usable.indices where toCover > .zero {
                let taken = ExactDecimal.min(usable[index].units, toCover)
                usable[index].units = try usable[index].units - taken
                toCover = try toCover - taken
            }
            usable.removeAll { $0.units <= .zero }
            let remaining = try quantity - used
            var unused = ExactDecimal.max(.zero, try included - remaining)
            if let cap = rollover.cap { unused = ExactDecimal.min(unused, cap) }
            if unused > .zero { usable.append(RolloverBucket(madeInPeriod: period, units: unused)) }
            buckets = usable
            let summary = RolloverSummary(
                metric: rollover.metric, includedUnits: included, available: available,
                used: used, expired: expired, carriedForward: unused)
            return RolloverOutcome(chargeIndex: chargeIndex, quantityToRate: remaining, summary: summary)
        }
    }

    /// The first graduated charge on the metric with a free first tier, and that tier's size.
    static func includedUnits(plan: Plan, metric: String) -> (Int, ExactDecimal)? {
        for (index, charge) in plan.charges.enumerated() where charge.metric == metric {
            if case .graduated(let tiers) = charge.model, let first = tiers.first, first.unitPrice.isZero,
                let upTo = first.upTo
            {
                return (index, upTo)
            }
        }
        return nil
    }
}
