extension Pricing {
    /// Whole packages of `size` units past the free units, at `price` each.
    ///
    /// `roundUp` sells a started package whole (ceiling); otherwise only full
    /// packages are charged (floor). Nothing is charged at or below the free units.
    public static func package(
        quantity: ExactDecimal, size: ExactDecimal, price: ExactDecimal, freeUnits: ExactDecimal, roundUp: Bool
    ) throws(DecimalError) -> Rated {
        var packages = ExactDecimal.zero
        if quantity > freeUnits {
            packages = try (try quantity - freeUnits).divided(by: size, scale: 0, roundUp ? .ceiling : .floor)
        }
        let breakdown = PackageBreakdown(
            freeUnits: freeUnits, packageSize: size, packages: packages, packagePrice: price)
        return Rated(quantity: quantity, amount: try packages * price, breakdown: .package(breakdown))
    }
}
