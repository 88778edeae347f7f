/// Stage 2: each of the plan's charges becomes one invoice line, rounded once.
enum RatingStage {
    static func run(
        plan: Plan, usage: Usage, active: ActiveTime, currency: Currency,
        rollover: RolloverOutcome?, context: BillingContext
    ) throws(BillingError) -> [InvoiceLine] {
        var lines: [InvoiceLine] = []
        // One allocation, not one per doubling: with a million customers, growing each
        // invoice's lines one by one was most of the cost of billing.
        lines.reserveCapacity(plan.charges.count)
        for (index, charge) in plan.charges.enumerated() {
            let rolledOver = rollover.flatMap { $0.chargeIndex == index ? $0 : nil }
            let line = try context.checked(.rating, "charge '\(charge.name)'") { () throws(DecimalError) -> InvoiceLine in
                let rated = try rate(charge, metricNumber: context.chargeMetrics[index], usage: usage, active: active,
                                     currency: currency, quantityOverride: rolledOver?.quantityToRate, context: context)
                return InvoiceLine(
                    kind: .charge, name: charge.name, metric: charge.metric, quantity: rated.quantity,
                    rolloverUnitsUsed: rolledOver?.summary.used ?? .zero,
                    unroundedAmount: rated.amount, amount: try currency.round(rated.amount), breakdown: rated.breakdown)
            }
            lines.append(line)
        }
        return lines
    }

    /// Reads the usage a charge's model needs and prices it.
    static func rate(
        _ charge: Charge, metricNumber: Int32?, usage: Usage, active: ActiveTime, currency: Currency,
        quantityOverride: ExactDecimal?, context: BillingContext
    ) throws(DecimalError) -> Rated {
        func quantity() throws(DecimalError) -> ExactDecimal {
            if let quantityOverride { return quantityOverride }
            return try usage.quantity(customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period)
        }
        switch charge.model {
        case .flat(let amount):
            return try Pricing.flat(amount: amount, activeDays: active.activeDays, periodDays: active.periodDays, minorDigits: currency.minorDigits)
        case .perUnit(let unitPrice):
            return try Pricing.perUnit(quantity: try quantity(), unitPrice: unitPrice)
        case .graduated(let tiers):
            return try Pricing.graduated(quantity: try quantity(), tiers: tiers)
        case .volume(let tiers):
            return try Pricing.volume(quantity: try quantity(), tiers: tiers)
        case .package(let size, let price, let freeUnits, let roundUp):
            return try Pricing.package(quantity: try quantity(), size: size, price: price, freeUnits: freeUnits, roundUp: roundUp)
        case .percentage(let terms):
            return try Pricing.percentage(events: usage.eventValues(customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period), terms: terms)
        case .graduatedPercentage(let tiers):
            return try Pricing.graduatedPercentage(amount: try quantity(), tiers: tiers)
        case .stairstep(let tiers):
            return Pricing.stairstep(quantity: try quantity(), tiers: tiers)
        case .matrix(let prices):
            return try Pricing.matrix(groups: try usage.groupedQuantities(customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period), prices: prices)
        }
    }
}
