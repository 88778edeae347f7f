extension Pricing {
    /// The whole quantity at the unit price of the tier the total falls in, plus that tier's flat fee.
    ///
    /// Crossing into a cheaper tier can lower the total: that is the point of volume pricing.
    /// Without tiers (which catalog validation refuses) no tier is reached and nothing is charged.
    public static func volume(quantity: ExactDecimal, tiers: [Tier]) throws(DecimalError) -> Rated {
        let index = tierIndex(of: quantity, upTos: tiers.lazy.map(\.upTo))
        guard tiers.indices.contains(index) else {
            return Rated(quantity: quantity, amount: .zero, breakdown: .graduated([]))
        }
        let tier = tiers[index]
        let amount = try (try quantity * tier.unitPrice) + tier.flatFee
        let slice = TierSlice(
            tier: index + 1, units: quantity, unitPrice: tier.unitPrice, flatFee: tier.flatFee, amount: amount)
        return Rated(quantity: quantity, amount: amount, breakdown: .volume(slice))
    }
}
