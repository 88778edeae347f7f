/// Stage 4: the discounts in effect, before tax, each spread over the invoice lines it covers.
///
/// A discount is in effect on an invoice when it names the customer or the customer's plan and the
/// period starts inside its dates; its duration counts the invoices it was in effect on. Discounts
/// apply in catalog order, each to what the earlier ones left of every line; one limited to some
/// charges or metrics takes nothing off the other lines (nor off the plan's own contract lines).
/// A customer with several subscriptions has a plan's discount (`plan:`) in effect when one of its subscriptions
/// is on that plan, and it covers only those subscriptions' lines.
/// Every share is rounded per line, so a line's net is always an exact amount of the currency and
/// tax can be computed on it.
enum DiscountStage {
    static func run(
        discounts: [Discount], customer: Customer, plans: LinePlans, periodStart: Instant, uses: inout [Int: Int],
        rests: inout [Int: ExactDecimal], lines: [InvoiceLine], currency: Currency, context: BillingContext
    ) throws(BillingError) -> [DiscountLine] {
        // Most customers have no discount: no lines to copy for them.
        guard discounts.contains(where: { $0.applies(to: customer, periodStart: periodStart) }) else { return [] }
        var net = lines.map(\.amount)
        var result: [DiscountLine] = []
        for (index, discount) in discounts.enumerated() where discount.applies(to: customer, periodStart: periodStart) {
            let ordinal = uses[index] ?? 0
            uses[index] = ordinal + 1
            let covers = covers(discount.duration, invoiceOrdinal: ordinal)
            // The net of the lines the discount covers, 0 for the others.
            // A plan's discount on a customer with several subscriptions covers that plan's subscriptions only.
            let byPlan = discount.plan != nil && !customer.subscriptions.isEmpty
            let covered =
                discount.isScoped || byPlan
                ? zip(lines, net).map { line, amount in
                    if byPlan, line.subscription.map({ customer.subscriptions[$0].plan }) != discount.plan {
                        return .zero
                    }
                    guard discount.isScoped else { return amount }
                    return line.chargeIndex.map { discount.covers(plans.plan(of: line).charges[$0]) } == true
                        ? amount : .zero
                }
                : net
            let line = try context.checked(.discounts, "discount '\(discount.name)'") {
                () throws(DecimalError) -> DiscountLine? in
                switch discount.kind {
                case .percent(let percent):
                    guard covers else { return nil }
                    let factor = try Pricing.percentFactor(percent)
                    var shares: [ExactDecimal] = []
                    for amount in covered { shares.append(try currency.round(try amount * factor)) }
                    return DiscountLine(
                        name: discount.name, amount: try ExactDecimal.sum(shares), perLine: shares,
                        carriedForward: .zero)
                case .fixed(let amount):
                    let carriesRest = discount.duration == .once
                    let rest = carriesRest ? rests[index] ?? .zero : .zero
                    guard covers || rest > .zero else { return nil }
                    let budget = try (covers ? amount : .zero) + rest
                    let netSubtotal = try ExactDecimal.sum(covered)
                    let applied =
                        netSubtotal > .zero && budget > .zero
                        ? try currency.round(ExactDecimal.min(budget, netSubtotal)) : .zero
                    let shares = try spread(applied, over: covered, currency: currency)
                    let carried = carriesRest ? ExactDecimal.max(.zero, try budget - applied) : .zero
                    rests[index] = carried
                    return DiscountLine(name: discount.name, amount: applied, perLine: shares, carriedForward: carried)
                }
            }
            guard let line else { continue }
            for offset in net.indices {
                net[offset] = try context.checked(.discounts, "discount '\(discount.name)'") {
                    () throws(DecimalError) -> ExactDecimal in
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
    static func spread(
        _ amount: ExactDecimal, over lines: [ExactDecimal], currency: Currency
    ) throws(DecimalError) -> [ExactDecimal] {
        let digits = currency.minorDigits
        func minor(_ value: ExactDecimal) throws(DecimalError) -> Int128 {
            try value.rounded(toScale: digits, .halfUp).significand
        }
        let total = try minor(amount)
        let weights = try lines.map { (line: ExactDecimal) throws(DecimalError) -> Int128 in
            Swift.max(0, try minor(line))
        }
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
        let byLargestRemainder = remainders.sorted {
            $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.line < $1.line
        }
        for entry in byLargestRemainder.prefix(Int(total - given)) { shares[entry.line] += 1 }
        return try shares.map { (share: Int128) throws(DecimalError) -> ExactDecimal in
            try ExactDecimal(significand: share, scale: digits)
        }
    }
}
