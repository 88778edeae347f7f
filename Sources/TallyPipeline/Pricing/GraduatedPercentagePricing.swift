extension Pricing {
    /// Like graduated, over a summed amount: each tier takes its rate of the value
    /// inside it, plus the flat fee of every tier reached (tier 1 always).
    public static func graduatedPercentage(amount: ExactDecimal, tiers: [PercentageTier]) throws(DecimalError) -> Rated
    {
        var slices: [PercentageTierSlice] = []
        var total = ExactDecimal.zero
        for (index, bound) in bounds(tiers.lazy.map(\.upTo)).enumerated() {
            guard let value = try units(of: amount, in: bound, isFirst: index == 0) else { break }
            let tier = tiers[index]
            let fee = try (try value * (try percentFactor(tier.rate))) + tier.flatFee
            slices.append(
                PercentageTierSlice(tier: index + 1, value: value, rate: tier.rate, flatFee: tier.flatFee, amount: fee))
            total = try total + fee
        }
        return Rated(quantity: amount, amount: total, breakdown: .graduatedPercentage(slices))
    }
}
