/// Stage 5: exclusive tax on each line's discounted amount, one tax line per rate.
///
/// The rates of a jurisdiction add (no tax on tax), and each is rounded per
/// invoice line, so a tax line is the sum of amounts a customer can recompute.
enum TaxStage {
    static func run(
        taxRates: [TaxRate], customer: Customer, lines: [InvoiceLine], discounts: [DiscountLine],
        currency: Currency, context: BillingContext
    ) throws(BillingError) -> [TaxLine] {
        guard !customer.taxExempt, let jurisdiction = customer.taxJurisdiction else { return [] }
        return try context.checked(.tax, "tax of jurisdiction '\(jurisdiction)'") { () throws(DecimalError) -> [TaxLine] in
            var taxable: [ExactDecimal] = []
            for (offset, line) in lines.enumerated() {
                var amount = line.amount
                for discount in discounts { amount = try amount - discount.perLine[offset] }
                taxable.append(amount)
            }
            var result: [TaxLine] = []
            for rate in taxRates where rate.jurisdiction == jurisdiction {
                let factor = try Pricing.percentFactor(rate.rate)
                var perLine: [ExactDecimal] = []
                for amount in taxable { perLine.append(try currency.round(try amount * factor)) }
                result.append(TaxLine(name: rate.name, jurisdiction: jurisdiction, rate: rate.rate,
                                      amount: try ExactDecimal.sum(perLine), perLine: perLine))
            }
            return result
        }
    }
}
