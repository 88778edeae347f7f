/// Stage 8: the invoice itself, its number and its totals.
enum InvoiceStage {
    /// `INV-<YYYYMMDD of the period start>-<1-based position of the customer in the catalog, 6 digits>`.
    ///
    /// Built only from the period and the catalog, so a re-run issues the same numbers.
    static func number(period: BillingPeriod, customerPosition: Int) -> String {
        let date = period.start.civilDate
        return "INV-\(pad(date.year, 4))\(pad(date.month, 2))\(pad(date.day, 2))-\(pad(customerPosition, 6))"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
    }

    /// The subtotal, discount total and tax total, and `total = subtotal - discounts + tax`.
    static func totals(
        lines: [InvoiceLine], discounts: [DiscountLine], taxes: [TaxLine], context: BillingContext
    ) throws(BillingError) -> (subtotal: ExactDecimal, discounts: ExactDecimal, tax: ExactDecimal, total: ExactDecimal) {
        try context.checked(.invoice, "invoice totals") { () throws(DecimalError) -> (ExactDecimal, ExactDecimal, ExactDecimal, ExactDecimal) in
            let subtotal = try ExactDecimal.sum(lines.map(\.amount))
            let discountTotal = try ExactDecimal.sum(discounts.map(\.amount))
            let taxTotal = try ExactDecimal.sum(taxes.map(\.amount))
            return (subtotal, discountTotal, taxTotal, try (try subtotal - discountTotal) + taxTotal)
        }
    }
}
