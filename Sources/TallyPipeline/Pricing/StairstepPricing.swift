extension Pricing {
    /// The price of the tier the total falls in, whatever the quantity inside it (tier 1 at 0).
    public static func stairstep(quantity: ExactDecimal, tiers: [Tier]) -> Rated {
        let index = tierIndex(of: quantity, upTos: tiers.lazy.map(\.upTo))
        let price = tiers.indices.contains(index) ? tiers[index].flatFee : .zero
        return Rated(quantity: quantity, amount: price, breakdown: .stairstep(tier: index + 1, price: price))
    }
}
