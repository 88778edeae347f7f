extension Pricing {
    // Each prorated model prices a price function of the level `f(x)`, without flat fees. The level
    // opens at `path.opening`, held for all `activeDays`; each change holds for the whole days left to
    // the window's end (a started day counting whole). The amount is
    //     ( f(opening) x activeDays + sum over changes of (f(after) - f(before)) x days left ) / periodDays
    // divided once, straight to the currency's digits, half-up, plus the model's flat fees.

    /// `per_unit` by the days each unit was held: unit-days x `unitPrice` / period days, rounded once.
    ///
    /// The quantity shown is the average level, unit-days / period days, to
    /// 18 decimal places (the scale of `weighted_sum`), half-up.
    public static func proratedPerUnit(
        path: LevelPath, holding: HoldingDays, unitPrice: ExactDecimal, currencyDigits: Int
    ) throws(DecimalError) -> Rated {
        let unitDays = try weightedDays(path, holding) { (level: ExactDecimal) throws(DecimalError) in level }
        return Rated(
            quantity: try averageLevel(unitDays, holding),
            amount: try perPeriod(try unitDays * unitPrice, holding, currencyDigits),
            breakdown: .perUnit(unitPrice: unitPrice))
    }

    /// `volume` by the days each unit was held: the tier the closing level falls in sets the unit price
    /// of every unit-day, and its flat fee is added whole.
    public static func proratedVolume(
        path: LevelPath, holding: HoldingDays, tiers: [Tier], currencyDigits: Int
    ) throws(DecimalError) -> Rated {
        let unitDays = try weightedDays(path, holding) { (level: ExactDecimal) throws(DecimalError) in level }
        let quantity = try averageLevel(unitDays, holding)
        let index = tierIndex(of: path.closing, upTos: tiers.lazy.map(\.upTo))
        guard tiers.indices.contains(index) else {
            return Rated(quantity: quantity, amount: .zero, breakdown: .graduated([]))
        }
        let tier = tiers[index]
        let amount = try (try perPeriod(try unitDays * tier.unitPrice, holding, currencyDigits)) + tier.flatFee
        let slice = TierSlice(
            tier: index + 1, units: quantity, unitPrice: tier.unitPrice, flatFee: tier.flatFee, amount: amount)
        return Rated(quantity: quantity, amount: amount, breakdown: .volume(slice))
    }

    /// `graduated` by the days each unit was held: the unit-days held inside each tier at its unit price,
    /// plus the flat fee of every tier the period's peak level reached (tier 1 always), added whole.
    ///
    /// A level below 0 holds no unit of any tier. Each slice shows the tier's unit-days / period days.
    public static func proratedGraduated(
        path: LevelPath, holding: HoldingDays, tiers: [Tier], currencyDigits: Int
    ) throws(DecimalError) -> Rated {
        let unitDays = try weightedDays(path, holding) { (level: ExactDecimal) throws(DecimalError) in level }
        let peak = path.peak
        var slices: [TierSlice] = []
        var moneyDays = ExactDecimal.zero
        var fees = ExactDecimal.zero
        for (index, bound) in bounds(tiers.lazy.map(\.upTo)).enumerated() {
            // A tier is billed when the peak reached it.
            guard try units(of: peak, in: bound, isFirst: index == 0) != nil else { break }
            let tier = tiers[index]
            let tierDays = try weightedDays(path, holding) { (level: ExactDecimal) throws(DecimalError) in
                try units(of: level, in: bound, isFirst: true) ?? .zero
            }
            let tierMoney = try tierDays * tier.unitPrice
            moneyDays = try moneyDays + tierMoney
            fees = try fees + tier.flatFee
            let shown = try tierMoney.divided(
                by: ExactDecimal(Int(holding.periodDays)), scale: Accumulator.weightedSumScale, .halfUp)
            slices.append(
                TierSlice(
                    tier: index + 1, units: try averageLevel(tierDays, holding), unitPrice: tier.unitPrice,
                    flatFee: tier.flatFee, amount: try shown + tier.flatFee))
        }
        return Rated(
            quantity: try averageLevel(unitDays, holding),
            amount: try (try perPeriod(moneyDays, holding, currencyDigits)) + fees, breakdown: .graduated(slices))
    }

    /// Unit-days / period days, to ``Accumulator/weightedSumScale`` digits, half-up.
    static func averageLevel(_ unitDays: ExactDecimal, _ holding: HoldingDays) throws(DecimalError) -> ExactDecimal {
        guard holding.periodDays > 0 else { throw .divisionByZero }
        return try unitDays.divided(
            by: ExactDecimal(Int(holding.periodDays)), scale: Accumulator.weightedSumScale, .halfUp)
    }

    /// Money-days / period days, divided once straight to the currency's digits, half-up.
    static func perPeriod(
        _ moneyDays: ExactDecimal, _ holding: HoldingDays, _ currencyDigits: Int
    ) throws(DecimalError) -> ExactDecimal {
        guard holding.periodDays > 0 else { throw .divisionByZero }
        return try moneyDays.divided(by: ExactDecimal(Int(holding.periodDays)), scale: currencyDigits, .halfUp)
    }

    /// `f(opening) x activeDays + sum of (f(after) - f(before)) x days left`: `f` integrated over the
    /// window in whole days.
    static func weightedDays(
        _ path: LevelPath, _ holding: HoldingDays, _ f: (ExactDecimal) throws(DecimalError) -> ExactDecimal
    ) throws(DecimalError) -> ExactDecimal {
        var before = try f(path.opening)
        var total = try before * ExactDecimal(Int(holding.activeDays))
        for change in path.changes {
            let after = try f(change.level)
            total = try total + (try (try after - before) * ExactDecimal(Int(holding.days(from: change.at))))
            before = after
        }
        return total
    }
}
