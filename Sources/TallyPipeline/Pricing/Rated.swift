/// The unrounded price of one charge for one period, with the arithmetic behind it.
///
/// Pricing never rounds (except flat proration, which the contract rounds in its
/// single division): the rating stage rounds each line once, so a product manager
/// can recompute the line from ``breakdown`` and see where every digit came from.
public struct Rated: Sendable, Equatable {
    /// The quantity priced: units, or for percentage charges the summed event value.
    public var quantity: ExactDecimal
    /// The exact, unrounded amount.
    public var amount: ExactDecimal
    /// How the amount was computed, model by model, as the invoice's golden file shows it.
    public var breakdown: RatingBreakdown

    /// Creates a priced charge from its quantity, its unrounded amount and the arithmetic behind it.
    public init(quantity: ExactDecimal, amount: ExactDecimal, breakdown: RatingBreakdown) {
        self.quantity = quantity
        self.amount = amount
        self.breakdown = breakdown
    }
}

/// How a charge's amount was computed, model by model.
public enum RatingBreakdown: Sendable, Equatable {
    /// A fixed fee, with the days it was prorated over.
    case flat(FlatBreakdown)
    /// Every unit at one price.
    case perUnit(unitPrice: ExactDecimal)
    /// Every tier the quantity reached, in tier order.
    case graduated([TierSlice])
    /// The one tier the whole quantity was priced at.
    case volume(TierSlice)
    /// Whole packages sold.
    case package(PackageBreakdown)
    /// A share of each event's value.
    case percentage(PercentageBreakdown)
    /// Every tier the summed amount reached, in tier order.
    case graduatedPercentage([PercentageTierSlice])
    /// The tier whose price was charged.
    case stairstep(tier: Int, price: ExactDecimal)
    /// One cell per group combination seen, sorted by the combination's values.
    case matrix([MatrixCell])
    /// The blocks sold in each tier that priced units (one tier for `top_tier`).
    case tieredBlocks(mode: TieredBlocks.Mode, [BlockSlice])
}

/// The blocks one tier of a `tiered_blocks` charge sold.
public struct BlockSlice: Sendable, Equatable {
    /// 1-based.
    public var tier: Int
    /// The units the tier priced.
    public var units: ExactDecimal
    /// The tier's units per block, as its ``BlockTier/blockSize`` gives it.
    public var blockSize: ExactDecimal
    /// `ceil(units / block size)`.
    public var blocks: ExactDecimal
    /// The price of one of the tier's blocks, in the plan's currency or pricing unit.
    public var blockPrice: ExactDecimal
    /// blocks x block price.
    public var amount: ExactDecimal
}

/// A flat fee and the proration applied to it.
public struct FlatBreakdown: Sendable, Equatable {
    /// The plan's amount for a whole period.
    public var fullAmount: ExactDecimal
    /// Days of the period the subscription was active, a started day counting whole.
    public var activeDays: Int64
    /// Days in the whole billing period (28 to 31 for a calendar month).
    public var periodDays: Int64
    /// Whether the amount was prorated (a subscription starting or ending inside the period).
    public var prorated: Bool
}

/// The part of a quantity inside one tier.
public struct TierSlice: Sendable, Equatable {
    /// The tier's number, from 1, as a price sheet numbers tiers.
    public var tier: Int
    /// The units of the quantity inside the tier.
    public var units: ExactDecimal
    /// The tier's price per unit.
    public var unitPrice: ExactDecimal
    /// The tier's fee, charged once because the quantity reached the tier.
    public var flatFee: ExactDecimal
    /// The slice's price, unrounded: units x unit price + flat fee.
    public var amount: ExactDecimal
}

/// The part of a summed amount inside one percentage tier.
public struct PercentageTierSlice: Sendable, Equatable {
    /// The tier's number, from 1.
    public var tier: Int
    /// The value inside the tier.
    public var value: ExactDecimal
    /// The tier's rate in percent (2.5 means 2.5%).
    public var rate: ExactDecimal
    /// The tier's fee, charged once because the summed amount reached the tier.
    public var flatFee: ExactDecimal
    /// The slice's price, unrounded: value x rate / 100 + flat fee.
    public var amount: ExactDecimal
}

/// How many packages were sold and at what price.
public struct PackageBreakdown: Sendable, Equatable {
    /// Units given free before the first package.
    public var freeUnits: ExactDecimal
    /// Units in one package.
    public var packageSize: ExactDecimal
    /// Whole packages charged (ceiling of the billable units over the size, or floor).
    public var packages: ExactDecimal
    /// The price of one package.
    public var packagePrice: ExactDecimal
}

/// How a revenue share was computed over a period's events.
public struct PercentageBreakdown: Sendable, Equatable {
    /// Every event of the period.
    public var events: Int
    /// Events free because they were among the first `freeEvents` (under Lago's `first_limit`
    /// rule: events wholly inside both limits).
    public var freeEvents: Int
    /// Value waived by the free amount.
    public var freeValue: ExactDecimal
    /// Value the rate applied to.
    public var billableValue: ExactDecimal
    /// Events that paid a fee.
    public var chargedEvents: Int
    /// Events whose fee was raised to the per-event minimum.
    public var raisedToMinimum: Int
    /// Events whose fee was lowered to the per-event maximum.
    public var loweredToMaximum: Int
}

/// One combination of a matrix charge.
public struct MatrixCell: Sendable, Equatable {
    /// One value per dimension, in the dimensions' order.
    public var values: [String]
    /// The combination's usage in the period.
    public var quantity: ExactDecimal
    /// The unit price applied: the listed one, or the matrix's default.
    public var unitPrice: ExactDecimal
    /// True when the combination is not listed and the default price applied.
    public var usedDefaultPrice: Bool
    /// quantity x unit price, unrounded.
    public var amount: ExactDecimal
}

/// The pure pricing functions, one per pricing model.
///
/// Each turns a quantity (or a period's event values) and the model's parameters
/// into a ``Rated``; none reads usage, the catalog or a clock.
public enum Pricing {
    /// `percent / 100` as an exact factor, so a rate never goes through a division.
    static func percentFactor(_ percent: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        try percent * ExactDecimal(significand: 1, scale: 2)
    }

    /// `(lower, upper]` of each tier: tier 1 starts at 0; the last tier is open.
    ///
    /// Worked out as the tiers are walked, not collected: billing a million invoices
    /// rates several million charges, and an array per charge was an allocation each.
    static func bounds<UpTos: Sequence<ExactDecimal?>>(_ upTos: UpTos) -> TierBounds<UpTos.Iterator> {
        TierBounds(upTos: upTos.makeIterator())
    }

    /// The 0-based tier a total falls in: the first whose `up_to` is at or above it
    /// (so a total exactly at `up_to` stays in that tier); 0 for a total of 0.
    static func tierIndex(of total: ExactDecimal, upTos: some Collection<ExactDecimal?>) -> Int {
        for (index, upTo) in upTos.enumerated() {
            guard let upTo else { return index }
            if total <= upTo { return index }
        }
        // Validated catalogs end with an open tier; a closed last tier keeps the overflow.
        return Swift.max(0, upTos.count - 1)
    }

    /// The part of `total` inside `(lower, upper]`, or nil when the tier is not reached.
    ///
    /// Tier 1 is always reached, even by 0, because its flat fee is a base fee.
    static func units(
        of total: ExactDecimal, in bound: (lower: ExactDecimal, upper: ExactDecimal?), isFirst: Bool
    ) throws(DecimalError) -> ExactDecimal? {
        guard isFirst || total > bound.lower else { return nil }
        let top = bound.upper.map { ExactDecimal.min(total, $0) } ?? total
        return ExactDecimal.max(.zero, try top - bound.lower)
    }
}

/// The `(lower, upper]` bounds of consecutive tiers, from their `up_to`s (see ``Pricing/bounds(_:)``).
struct TierBounds<UpTos: IteratorProtocol<ExactDecimal?>>: Sequence, IteratorProtocol {
    var upTos: UpTos
    var lower = ExactDecimal.zero

    mutating func next() -> (lower: ExactDecimal, upper: ExactDecimal?)? {
        guard let upTo = upTos.next() else { return nil }
        defer { if let upTo { lower = upTo } }
        return (lower, upTo)
    }
}
