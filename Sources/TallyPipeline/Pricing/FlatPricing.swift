extension Pricing {
    /// A fixed amount per period, prorated by whole days for a partial subscription.
    ///
    /// The prorated amount is `amount x activeDays / periodDays` divided once,
    /// straight to `minorDigits`, half-up: a division by 30 or 31 has no exact
    /// decimal, so this is the one model that rounds, and it rounds only here.
    public static func flat(
        amount: ExactDecimal, activeDays: Int64, periodDays: Int64, minorDigits: Int
    ) throws(DecimalError) -> Rated {
        let prorated = activeDays < periodDays
        let charged: ExactDecimal
        if prorated {
            guard periodDays > 0 else { throw .divisionByZero }
            let numerator = try amount * ExactDecimal(significand: Int128(Swift.max(0, activeDays)), scale: 0)
            charged = try numerator.divided(
                by: ExactDecimal(significand: Int128(periodDays), scale: 0), scale: minorDigits, .halfUp)
        } else {
            charged = amount
        }
        return Rated(
            quantity: .one, amount: charged,
            breakdown: .flat(
                FlatBreakdown(fullAmount: amount, activeDays: activeDays, periodDays: periodDays, prorated: prorated)))
    }
}
