/// Stage 5: tax on each line's discounted amount, one tax line per rate.
///
/// The rates of a jurisdiction add (no tax on tax). A line's tax code (its charge's, else its
/// plan's) picks the rates that apply to it: the standard rates for a line without a code, the
/// rates of its code otherwise, none for `exempt`. By default each rate is rounded per invoice
/// line, so a tax line is the sum of amounts a customer can recompute; with ``TaxRounding/invoice``
/// it is summed unrounded and rounded once.
///
/// When the plan's prices include tax, a line's amount is the gross: the rates that apply to it,
/// together `R`, carve `amount x rate / (100 + R)` out of it for each rate.
enum TaxStage {
    static func run(
        taxRates: [TaxRate], customer: Customer, plans: LinePlans, rounding: TaxRounding,
        lines: [InvoiceLine], discounts: [DiscountLine], currency: Currency, context: BillingContext
    ) throws(BillingError) -> [TaxLine] {
        guard !customer.taxExempt, let jurisdiction = customer.taxJurisdiction else { return [] }
        return try context.checked(.tax, "tax of jurisdiction '\(jurisdiction)'") {
            () throws(DecimalError) -> [TaxLine] in
            var taxable: [ExactDecimal] = []
            for (offset, line) in lines.enumerated() {
                var amount = line.amount
                for discount in discounts { amount = try amount - discount.perLine[offset] }
                taxable.append(amount)
            }
            let rates = taxRates.filter { $0.jurisdiction == jurisdiction }
            let codes = lines.map { taxCode(of: $0, plan: plans.plan(of: $0)) }
            let plan = plans.invoicePlan
            // Exclusive tax on lines without a code: today's arithmetic, kept apart so it stays the fast path.
            if !plan.pricesIncludeTax && rounding == .line && codes.allSatisfy({ $0 == nil }) {
                var result: [TaxLine] = []
                for rate in rates where rate.code == nil {
                    let factor = try Pricing.percentFactor(rate.rate)
                    var perLine: [ExactDecimal] = []
                    for amount in taxable { perLine.append(try currency.round(try amount * factor)) }
                    result.append(
                        TaxLine(
                            name: rate.name, jurisdiction: jurisdiction, rate: rate.rate,
                            amount: try ExactDecimal.sum(perLine), perLine: perLine))
                }
                return result
            }
            // For inclusive prices, each line's divisor is 100 + the rates that apply to it.
            var divisors: [ExactDecimal] = []
            for code in codes {
                let applying = rates.filter { code != TaxRate.exemptCode && $0.code == code }
                divisors.append(try ExactDecimal(100) + (try ExactDecimal.sum(applying.lazy.map(\.rate))))
            }
            var result: [TaxLine] = []
            for rate in rates {
                let applies = codes.map { $0 != TaxRate.exemptCode && $0 == rate.code }
                // A rate of a code shows only on invoices with a line of that code; a standard rate always does.
                guard rate.code == nil || applies.contains(true) else { continue }
                var share = Fraction.zero
                var perLine: [ExactDecimal] = []
                for offset in lines.indices {
                    let numerator = applies[offset] ? try taxable[offset] * rate.rate : .zero
                    let divisor = plan.pricesIncludeTax ? divisors[offset] : 100
                    let exact = Fraction(numerator: numerator, denominator: divisor)
                    share = try share + exact
                    perLine.append(
                        rounding == .line
                            ? try exact.rounded(currency.minorDigits)
                            : try exact.rounded(currency.minorDigits + 10).normalized)
                }
                switch rounding {
                case .line:
                    result.append(
                        TaxLine(
                            name: rate.name, jurisdiction: jurisdiction, rate: rate.rate,
                            amount: try ExactDecimal.sum(perLine), perLine: perLine))
                case .invoice:
                    result.append(
                        TaxLine(
                            name: rate.name, jurisdiction: jurisdiction, rate: rate.rate,
                            amount: try share.rounded(currency.minorDigits), perLine: perLine,
                            unroundedAmount: try share.rounded(currency.minorDigits + 10).normalized))
                }
            }
            return result
        }
    }

    /// The tax code of a line: its charge's, else its plan's; nil for the standard rates.
    static func taxCode(of line: InvoiceLine, plan: Plan) -> String? {
        var code = plan.taxCode
        if let index = line.chargeIndex, let own = plan.charges[index].taxCode { code = own }
        return code == TaxRate.standardCode ? nil : code
    }

    /// An exact quotient of two decimals, so sums of shares with different divisors are rounded once.
    struct Fraction {
        var numerator: ExactDecimal
        var denominator: ExactDecimal

        static var zero: Fraction { Fraction(numerator: .zero, denominator: .one) }

        static func + (lhs: Fraction, rhs: Fraction) throws(DecimalError) -> Fraction {
            if rhs.numerator.isZero { return lhs }
            if lhs.numerator.isZero { return rhs }
            if lhs.denominator == rhs.denominator {
                return Fraction(numerator: try lhs.numerator + rhs.numerator, denominator: lhs.denominator)
            }
            let numerator = try (try lhs.numerator * rhs.denominator) + (try rhs.numerator * lhs.denominator)
            return Fraction(numerator: numerator, denominator: try lhs.denominator * rhs.denominator)
        }

        /// The quotient with `digits` fraction digits, rounded half-up.
        func rounded(_ digits: Int) throws(DecimalError) -> ExactDecimal {
            try numerator.divided(by: denominator, scale: digits, .halfUp)
        }
    }
}
