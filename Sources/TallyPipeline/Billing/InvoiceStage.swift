/// Stage 8: the invoice itself, its number and its totals.
enum InvoiceStage {
    /// The part every invoice number of a period shares: `INV-<YYYYMMDD of the period start>-`.
    ///
    /// A biller works it out once per period. A number is this prefix and the customer's
    /// 1-based position in the catalog, 6 digits (``number(prefix:customerPosition:scratch:)``),
    /// built only from the period and the catalog, so a re-run issues the same numbers.
    static func numberPrefix(period: BillingPeriod) -> [UInt8] {
        let date = period.start.civilDate
        var text: [UInt8] = []
        text.reserveCapacity(13)
        text.append(contentsOf: "INV-".utf8)
        appendPadded(date.year, 4, to: &text)
        appendPadded(date.month, 2, to: &text)
        appendPadded(date.day, 2, to: &text)
        text.append(UInt8(ascii: "-"))
        return text
    }

    /// A number from its period's ``numberPrefix(period:)``, written byte by byte into `scratch`,
    /// which the caller keeps from one invoice to the next: a million invoices made ten small
    /// strings each, then a buffer each.
    static func number(prefix: [UInt8], customerPosition: Int, scratch text: inout [UInt8]) -> String {
        text.removeAll(keepingCapacity: true)
        text.append(contentsOf: prefix)
        appendPadded(customerPosition, 6, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `value` in decimal, zero-padded on the left to `width` digits (a wider value keeps all its digits).
    static func appendPadded(_ value: Int, _ width: Int, to text: inout [UInt8]) {
        guard value >= 0 else {
            // Not reached by real dates and positions; spelled as before, zeros then "-digits".
            let digits = String(value).utf8
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: Swift.max(0, width - digits.count)))
            text.append(contentsOf: digits)
            return
        }
        // Digits from the most significant, appended one by one: no padding or placeholder
        // arrays, which were most of the cost of numbering a million invoices.
        var count = 1
        var divisor = 1
        while value / divisor >= 10 {
            count += 1
            divisor *= 10
        }
        for _ in count..<Swift.max(count, width) { text.append(UInt8(ascii: "0")) }
        var remaining = value
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }

    /// The subtotal, discount total and tax total, and `total = subtotal - discounts + tax` (without
    /// `+ tax` when the prices include it).
    static func totals(
        lines: [InvoiceLine], discounts: [DiscountLine], taxes: [TaxLine], taxIncluded: Bool = false,
        context: BillingContext
    ) throws(BillingError) -> (subtotal: ExactDecimal, discounts: ExactDecimal, tax: ExactDecimal, total: ExactDecimal)
    {
        try context.checked(.invoice, "invoice totals") {
            () throws(DecimalError) -> (ExactDecimal, ExactDecimal, ExactDecimal, ExactDecimal) in
            let subtotal = try ExactDecimal.sum(lines.lazy.map(\.amount))
            let discountTotal = try ExactDecimal.sum(discounts.lazy.map(\.amount))
            let taxTotal = try ExactDecimal.sum(taxes.lazy.map(\.amount))
            let added = taxIncluded ? .zero : taxTotal
            return (subtotal, discountTotal, taxTotal, try (try subtotal - discountTotal) + added)
        }
    }
}
