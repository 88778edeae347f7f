extension Pricing {
    /// Each combination's quantity at its listed unit price, or the default price when unlisted.
    ///
    /// `groups` comes sorted from ``Usage/groupedQuantities(customer:metric:period:)``,
    /// and the cells keep that order, so the breakdown never depends on hashing.
    public static func matrix(
        groups: [(group: [String], quantity: ExactDecimal)], prices: MatrixPrices
    ) throws(DecimalError) -> Rated {
        var cells: [MatrixCell] = []
        var quantity = ExactDecimal.zero
        var total = ExactDecimal.zero
        for (values, groupQuantity) in groups {
            let listed = prices.prices.first { $0.values == values }
            let unitPrice = listed?.unitPrice ?? prices.defaultPrice
            let amount = try groupQuantity * unitPrice
            cells.append(
                MatrixCell(
                    values: values, quantity: groupQuantity, unitPrice: unitPrice, usedDefaultPrice: listed == nil,
                    amount: amount))
            quantity = try quantity + groupQuantity
            total = try total + amount
        }
        return Rated(quantity: quantity, amount: total, breakdown: .matrix(cells))
    }
}
