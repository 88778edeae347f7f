extension Pricing {
    /// Each tier prices the units inside it, plus the flat fee of every tier reached.
    ///
    /// Tier k covers `(up_to[k-1], up_to[k]]`; tier 1 is reached even at 0, so its
    /// flat fee works as a base fee.
    public static func graduated(quantity: ExactDecimal, tiers: [Tier]) throws(DecimalError) -> Rated {
        var slices: [TierSlice] = []
        var total = ExactDecimal.zero
        for (index, bound) in bounds(tiers.lazy.map(\.upTo)).enumerated() {
            guard let units = try units(of: quantity, in: bound, isFirst: index == 0) else { break }
            let tier = tiers[index]
            let amount = try (try units * tier.unitPrice) + tier.flatFee
            slices.append(
                TierSlice(
                    tier: index + 1, units: units, unitPrice: tier.unitPrice, flatFee: tier.flatFee, amount: amount))
            total = try total + amount
        }
        return Rated(quantity: quantity, amount: total, breakdown: .graduated(slices))
    }
}
