extension Pricing {
    /// quantity x unit price.
    public static func perUnit(quantity: ExactDecimal, unitPrice: ExactDecimal) throws(DecimalError) -> Rated {
        Rated(quantity: quantity, amount: try quantity * unitPrice, breakdown: .perUnit(unitPrice: unitPrice))
    }
}
