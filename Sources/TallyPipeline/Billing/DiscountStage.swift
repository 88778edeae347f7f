/// Stage 4: the customer's discounts, before tax, each spread over the invoice lines.
///
/// Discounts apply in catalog order, each to what the earlier ones left of every
/// line. Every share is rounded per line, so a line's net is always an exact
/// amount of the currency and tax can be computed on it.
enum DiscountStage {
    static func run(
        discounts: [Discount], customer: String, invoiceOrdinal: Int, rests: inout [Int: ExactDecimal],
        lines: [InvoiceLine], currency: Currency, context: BillingContext
    ) throws(BillingError) -> [DiscountLine] {
        // Most customers have no discount: no lines to copy for them.
        guard discounts.contains(where: { $0.customer == customer }) else { return [] }
        var net = lines.map(\.amount)
        var result: [DiscountLine] = []
        for (index, discount) in discounts.enumerated() where discount.customer == customer {
            let covers = covers(discount.duration, invoiceOrdinal: invoiceOrdinal)
            let line = try context.checked(.discounts, "discount '\(discount.name)'") { () throws(DecimalError) -> DiscountLine? in
                switch discount.kind {
                case .percent(let percent):
                    guard covers else { return nil }
                    let factor = try Pricing.percentFactor(percent)
                    var shares: [ExactDecimal] = []
                    for amount in net { shares.append(try currency.round(try amount * factor)) }
                    return DiscountLine(name: discount.name, amount: try ExactDecimal.sum(shares), perLine: shares, carriedForward: .zero)
                case .fixed(let amount):
                    let carriesRest = discount.duration == .once
                    let rest = carriesRest ? rests[index] ?? .zero : .zero
                    guard covers || rest > .zero else { return nil }
                    let budget = try (covers ? amount : .zero) + rest
                    let netSubtotal = try ExactDecimal.sum(net)
                    let applied = netSubtotal > .zero && budget > .zero
                        ? try currency.round(ExactDecimal.min(budget, netSubtotal)) : .zero
                    let shares = try spread(applied, over: net, currency: currency)
                    let carried = carriesRest ? ExactDecimal.max(.zero, try budget - applied) : .zero
                    rests[index] = carried
                    return DiscountLine(name: discount.name, amount: applied, perLine: shares, carriedForward: carried)
                }
            }
            guard let line else { continue }
            for offset in net.indices {
                net[offset] = try context.checked(.discounts, "discount '\(discount.name)'") { () throws(DecimalError) -> ExactDecimal in
                    try net[offset] - line.perLine[offset]
                }
            }
            result.append(line)
        }
        return result
    }

    /// Whether a discount's duration covers the customer's `invoiceOrdinal`-th invoice (0-based).
    static func covers(_ duration: Discount.Duration, invoiceOrdinal: Int) -> Bool {
        switch duration {
        case .once: invoiceOrdinal == 0
        case .periods(let count): invoiceOrdinal < count
        case .forever: true
        }
    }

    /// Splits `amount` over the positive lines in proportion to them, in minor units,
    /// by the largest-remainder method: the shares add up to `amount` exactly, ties
    /// going to the earlier line, and no share exceeds its line.
    static func spread(_ amount: ExactDecimal, over lines: [ExactDecimal], currency: Currency) throws(DecimalError) -> [ExactDecimal] {
        let digits = currency.minorDigits
        func minor(_ value: ExactDecimal) throws(DecimalError) -> Int128 { try value.rounded(toScale: digits, .halfUp).significand }
        let total = try minor(amount)
        let weights = try lines.map { (line: ExactDecimal) throws(DecimalError) -> Int128 in Swift.max(0, try minor(line)) }
        var weightSum: Int128 = 0
        for weight in weights {
            let (sum, overflow) = weightSum.addingReportingOverflow(weight)
            if overflow { throw .overflow }
            weightSum = sum
        }
        guard total > 0, weightSum > 0 else { return lines.map { _ in .zero } }
        var shares: [Int128] = []
        var remainders: [(remainder: Int128, line: Int)] = []
        var given: Int128 = 0
        for (line, weight) in weights.enumerated() {
            let (product, overflow) = total.multipliedReportingOverflow(by: weight)
            if overflow { throw .overflow }
            let (share, remainder) = product.quotientAndRemainder(dividingBy: weightSum)
            shares.append(share)
            remainders.append((remainder, line))
            given += share
        }
        let byLargestRemainder = remainders.sorted { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.line < $1.line }
        for entry in byLargestRemainder.prefix(Int(total - given)) { shares[entry.line] += 1 }
        return try shares.map { (share: Int128) throws(DecimalError) -> ExactDecimal in try ExactDecimal(significand: share, scale: digits) }
    }
}
