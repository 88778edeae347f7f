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
        for index in plan.charges.indices {
            let rolledOver = rollover.flatMap { $0.chargeIndex == index ? $0 : nil }
            let name = plan.charges[index].name
            let line = try context.checked(.rating, "charge '\(name)'") { () throws(DecimalError) -> InvoiceLine in
                let rated: Rated
                if plan.charges[index].prorated {
                    rated = try proratedRate(
                        plan.charges[index].model, metricNumber: context.chargeMetrics[index], usage: usage,
                        active: active, currency: currency, context: context)
                } else {
                    let quantity = try quantity(
                        for: plan.charges[index].model, metricNumber: context.chargeMetrics[index], usage: usage,
                        quantityOverride: rolledOver?.quantityToRate, context: context)
                    rated = try rate(
                        plan.charges[index].model, quantity: quantity, metricNumber: context.chargeMetrics[index],
                        usage: usage,
                        active: active, currency: currency, context: context)
                }
                // A plan priced in a unit of its own: the model's amount is in that unit, converted once.
                let exact =
                    try plan.pricingUnit.map { (unit: PricingUnit) throws(DecimalError) -> ExactDecimal in
                        try rated.amount * unit.conversionRate
                    } ?? rated.amount
                return InvoiceLine(
                    kind: .charge, name: name, metric: plan.charges[index].metric, quantity: rated.quantity,
                    rolloverUnitsUsed: rolledOver?.summary.used ?? .zero,
                    unroundedAmount: exact, amount: try currency.round(exact), breakdown: rated.breakdown,
                    chargeIndex: index, pricingUnitAmount: plan.pricingUnit == nil ? nil : rated.amount)
            }
            lines.append(line)
        }
        return lines
    }

    /// The usage quantity a charge's model prices (the rolled-over quantity when one replaces
    /// it); nil for the models that read none (a flat fee) or read their own (percentage, matrix).
    ///
    /// Read before ``rate(_:quantity:metricNumber:usage:active:currency:context:)`` rather than
    /// inside its switch, where the call held the plan's charge copied (every reference in it
    /// retained and released) for each line of each of a million invoices.
    static func quantity(
        for model: PricingModel, metricNumber: Int32?, usage: Usage, quantityOverride: ExactDecimal?,
        context: BillingContext
    ) throws(DecimalError) -> ExactDecimal? {
        switch model {
        case .flat, .percentage, .matrix:
            return nil
        case .perUnit, .graduated, .volume, .package, .graduatedPercentage, .stairstep, .tieredBlocks:
            if let quantityOverride { return quantityOverride }
            return try usage.quantity(
                customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period)
        }
    }

    /// Prices a prorated charge: its recurring metric's level through the period, each unit by the
    /// whole days it was held in the subscription's time in the period.
    static func proratedRate(
        _ model: PricingModel, metricNumber: Int32?, usage: Usage, active: ActiveTime, currency: Currency,
        context: BillingContext
    ) throws(DecimalError) -> Rated {
        let path = try usage.levelPath(
            customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period)
        let holding = HoldingDays(
            end: context.activeEnd ?? usage.periods(ofCustomer: context.usageNumber)[context.period].end,
            activeDays: active.activeDays, periodDays: active.periodDays)
        let digits = currency.minorDigits
        switch model {
        case .perUnit(let unitPrice):
            return try Pricing.proratedPerUnit(
                path: path, holding: holding, unitPrice: unitPrice, currencyDigits: digits)
        case .graduated(let tiers):
            return try Pricing.proratedGraduated(path: path, holding: holding, tiers: tiers, currencyDigits: digits)
        case .volume(let tiers):
            return try Pricing.proratedVolume(path: path, holding: holding, tiers: tiers, currencyDigits: digits)
        default:
            // A validated catalog prorates only the three models above; any other prices the closing level.
            return try rate(
                model, quantity: path.closing, metricNumber: metricNumber, usage: usage, active: active,
                currency: currency, context: context)
        }
    }

    /// Prices a charge's model: at `quantity` (from ``quantity(for:metricNumber:usage:quantityOverride:context:)``)
    /// or, for percentage and matrix charges, at the usage they read.
    static func rate(
        _ model: PricingModel, quantity: ExactDecimal?, metricNumber: Int32?, usage: Usage, active: ActiveTime,
        currency: Currency, context: BillingContext
    ) throws(DecimalError) -> Rated {
        let quantity = quantity ?? .zero  // Every model that prices a quantity was given one.
        switch model {
        case .flat(let amount):
            return try Pricing.flat(
                amount: amount, activeDays: active.activeDays, periodDays: active.periodDays,
                minorDigits: currency.minorDigits)
        case .perUnit(let unitPrice):
            return try Pricing.perUnit(quantity: quantity, unitPrice: unitPrice)
        case .graduated(let tiers):
            return try Pricing.graduated(quantity: quantity, tiers: tiers)
        case .volume(let tiers):
            return try Pricing.volume(quantity: quantity, tiers: tiers)
        case .package(let size, let price, let freeUnits, let roundUp):
            return try Pricing.package(
                quantity: quantity, size: size, price: price, freeUnits: freeUnits, roundUp: roundUp)
        case .percentage(let terms):
            return try Pricing.percentage(
                events: usage.eventValues(
                    customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period),
                terms: terms)
        case .graduatedPercentage(let tiers):
            return try Pricing.graduatedPercentage(amount: quantity, tiers: tiers)
        case .stairstep(let tiers):
            return Pricing.stairstep(quantity: quantity, tiers: tiers)
        case .tieredBlocks(let terms):
            return try Pricing.tieredBlocks(quantity: quantity, terms: terms)
        case .matrix(let prices):
            return try Pricing.matrix(
                groups: try usage.groupedQuantities(
                    customerNumber: context.usageNumber, metricNumber: metricNumber, period: context.period),
                prices: prices)
        }
    }
}
