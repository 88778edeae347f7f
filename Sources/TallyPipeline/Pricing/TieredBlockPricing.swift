extension Pricing {
    /// Kill Bill's tiered blocks: each tier sells its units in whole blocks of its own size.
    ///
    /// `all_tiers`: each tier reached prices the units inside it as started blocks of its size,
    /// `ceil(units in tier / block size) x block price` (a bounded tier holds a whole number of
    /// blocks, so only the top tier reached can end on a started block). `top_tier`: the whole
    /// quantity is priced in the one tier it falls in, `ceil(quantity / its block size) x its block
    /// price`. Nothing is charged at quantity 0.
    public static func tieredBlocks(quantity: ExactDecimal, terms: TieredBlocks) throws(DecimalError) -> Rated {
        let quantity = ExactDecimal.max(.zero, quantity)
        var slices: [BlockSlice] = []
        func slice(_ index: Int, units: ExactDecimal) throws(DecimalError) -> BlockSlice {
            let tier = terms.tiers[index]
            let blocks = try units.divided(by: tier.blockSize, scale: 0, .ceiling)
            return BlockSlice(
                tier: index + 1, units: units, blockSize: tier.blockSize, blocks: blocks,
                blockPrice: tier.blockPrice, amount: try blocks * tier.blockPrice)
        }
        switch terms.mode {
        case .allTiers:
            for (index, bound) in bounds(terms.tiers.lazy.map(\.upTo)).enumerated() {
                let units = try self.units(of: quantity, in: bound, isFirst: false) ?? .zero
                guard units > .zero else { continue }
                slices.append(try slice(index, units: units))
            }
        case .topTier:
            if quantity > .zero {
                slices.append(try slice(tierIndex(of: quantity, upTos: terms.tiers.lazy.map(\.upTo)), units: quantity))
            }
        }
        return Rated(
            quantity: quantity, amount: try ExactDecimal.sum(slices.lazy.map(\.amount)),
            breakdown: .tieredBlocks(mode: terms.mode, slices))
    }
}
