/// One priced line of a plan: a metric and the pricing model that turns its quantity into money.
public struct Charge: Sendable, Hashable {
    /// The line's name on the invoice.
    public var name: String
    /// The metric key; nil only for `flat` charges, which do not depend on usage.
    public var metric: String?
    /// The pricing model that turns the metric's quantity for a period into an amount.
    public var model: PricingModel
    /// The least the charge bills per period, prorated like the plan's minimum commitment.
    ///
    /// A true-up line for this charge alone makes up a shortfall. In the plan's pricing unit, if any.
    public var minAmount: ExactDecimal?
    /// The tax code of the charge's lines, overriding the plan's; ``TaxRate/exemptCode`` for none.
    public var taxCode: String?
    /// Whether the charge prices the level of its recurring metric by the days each unit was held
    /// (a seat added halfway through a month pays for half), rather than the period's quantity.
    ///
    /// `per_unit`, `graduated` and `volume` only; see Docs/Semantics.md, "Prorated charges".
    public var prorated = false
    /// When a flat fee is invoiced: at the end of the period it covers (the default) or at its start.
    public var billing: FeeBilling = .inArrears

    /// Creates a charge of `metric` priced by `model`, shown on invoices as `name`.
    public init(name: String, metric: String?, model: PricingModel) {
        self.name = name
        self.metric = metric
        self.model = model
    }
}

/// When a flat fee is invoiced, relative to the period it covers.
public enum FeeBilling: String, Sendable, Hashable, CaseIterable {
    /// On the period's invoice, at its end, with the usage.
    case inArrears = "in_arrears"
    /// On an invoice of its own dated at the period's start (or when the fee starts inside it).
    case inAdvance = "in_advance"
}

/// How a charge prices a quantity: the nine pricing models.
///
/// See each case for the formula, and ``Pricing`` for the functions that apply them.
public enum PricingModel: Sendable, Hashable {
    /// A fixed amount per period, prorated by days for a partial subscription.
    case flat(amount: ExactDecimal)
    /// Every unit at one price: quantity x unit price.
    case perUnit(unitPrice: ExactDecimal)
    /// Each tier prices the part of the quantity inside it, plus the flat fee of
    /// every tier reached (tier 1 always, even at quantity 0).
    case graduated([Tier])
    /// The whole quantity at the unit price of the one tier the total falls in,
    /// plus that tier's flat fee (tier 1 at quantity 0).
    case volume([Tier])
    /// ceil((quantity - free units) / size) x price; floor when `roundUp` is false.
    case package(size: ExactDecimal, price: ExactDecimal, freeUnits: ExactDecimal, roundUp: Bool)
    /// A share of each event's value plus a fixed fee, clamped per event.
    case percentage(PercentageTerms)
    /// Like graduated, but each tier charges a rate (percent) of the amount inside it.
    case graduatedPercentage([PercentageTier])
    /// A fixed price for the tier the total falls in (no per-unit part).
    case stairstep([Tier])
    /// A unit price per combination of property values, with a default.
    case matrix(MatrixPrices)
    /// Kill Bill's tiered blocks: units sold in whole blocks whose size and price change from tier to tier.
    case tieredBlocks(TieredBlocks)
}

/// The tiers of a `tiered_blocks` charge and which of them price the quantity.
public struct TieredBlocks: Sendable, Hashable {
    /// The block tiers in order of their bounds, the last one unbounded.
    public var tiers: [BlockTier]
    /// Whether every tier reached prices its own units, or the top tier prices the whole quantity.
    public var mode: Mode

    /// Kill Bill's two tier block policies.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Every tier reached prices the units inside it (Kill Bill's ALL_TIERS).
        case allTiers = "all_tiers"
        /// The tier the whole quantity falls in prices all of it (Kill Bill's TOP_TIER).
        case topTier = "top_tier"
    }

    /// Creates the terms of a `tiered_blocks` charge from its tiers and block policy.
    public init(tiers: [BlockTier], mode: Mode) {
        self.tiers = tiers
        self.mode = mode
    }
}

/// A band of quantities `(previous up_to, up_to]` sold in blocks of its own size.
public struct BlockTier: Sendable, Hashable {
    /// Inclusive upper bound, a whole number of blocks above the previous one; nil for the last tier.
    public var upTo: ExactDecimal?
    /// Units per block, above 0.
    public var blockSize: ExactDecimal
    /// The price of one block, a started block counting whole.
    public var blockPrice: ExactDecimal

    /// Creates a tier up to `upTo` units (inclusive; nil for the last), sold in blocks of `blockSize` at `blockPrice`.
    public init(upTo: ExactDecimal?, blockSize: ExactDecimal, blockPrice: ExactDecimal) {
        self.upTo = upTo
        self.blockSize = blockSize
        self.blockPrice = blockPrice
    }
}

/// A band of quantities `(previous up_to, up_to]`; tier 1 starts at 0.
public struct Tier: Sendable, Hashable {
    /// Inclusive upper bound; nil for the last, unbounded tier.
    public var upTo: ExactDecimal?
    /// Price per unit inside the tier (for `stairstep`: unused, zero).
    public var unitPrice: ExactDecimal
    /// A fee charged once when the quantity reaches the tier (for `stairstep`: the tier's price).
    public var flatFee: ExactDecimal

    /// Creates a tier up to `upTo` units (inclusive; nil for the last, open tier).
    public init(upTo: ExactDecimal?, unitPrice: ExactDecimal, flatFee: ExactDecimal = .zero) {
        self.upTo = upTo
        self.unitPrice = unitPrice
        self.flatFee = flatFee
    }
}

/// A band of amounts with its rate, for `graduated_percentage`.
public struct PercentageTier: Sendable, Hashable {
    /// Inclusive upper bound of the amounts in the tier; nil for the last, unbounded tier.
    public var upTo: ExactDecimal?
    /// Percent of the amount inside the tier (2.5 means 2.5%).
    public var rate: ExactDecimal
    /// A fee charged once when the summed amount reaches the tier.
    public var flatFee: ExactDecimal

    /// Creates a tier up to `upTo` (inclusive; nil for the last, open tier) at `rate` percent.
    public init(upTo: ExactDecimal?, rate: ExactDecimal, flatFee: ExactDecimal = .zero) {
        self.upTo = upTo
        self.rate = rate
        self.flatFee = flatFee
    }
}

/// Revenue-share terms, applied event by event in timestamp order (ties: event id).
public struct PercentageTerms: Sendable, Hashable {
    /// Percent of each event's value (2.9 means 2.9%).
    public var rate: ExactDecimal
    /// Added to every billable event's fee.
    public var fixedFee: ExactDecimal
    /// The first N events of the period are free.
    public var freeEvents: Int
    /// The first X of value in the period is free.
    public var freeAmount: ExactDecimal
    /// The least fee a charged event pays (after the fixed fee); nil for no minimum.
    public var perEventMin: ExactDecimal?
    /// The most fee a charged event pays (after the fixed fee); nil for no maximum.
    public var perEventMax: ExactDecimal?
    /// How free events and a free amount combine when both are set.
    public var freeAllowance: FreeAllowance = .eventsThenAmount

    /// How a percentage charge's two free allowances combine.
    public enum FreeAllowance: String, Sendable, Hashable, CaseIterable {
        /// Tally's rule: the first `freeEvents` events are free, then the next `freeAmount` of value is waived.
        case eventsThenAmount = "events_then_amount"
        /// Lago's rule: events are free until either limit is reached, whichever comes first; the event
        /// that crosses the free amount pays on the part above it, and every later event pays in full.
        case firstLimit = "first_limit"
    }

    /// Creates revenue-share terms of `rate` percent; the free allowances and clamps default to none.
    public init(
        rate: ExactDecimal, fixedFee: ExactDecimal = .zero, freeEvents: Int = 0, freeAmount: ExactDecimal = .zero,
        perEventMin: ExactDecimal? = nil, perEventMax: ExactDecimal? = nil
    ) {
        self.rate = rate
        self.fixedFee = fixedFee
        self.freeEvents = freeEvents
        self.freeAmount = freeAmount
        self.perEventMin = perEventMin
        self.perEventMax = perEventMax
    }
}

/// Unit prices by combination of property values.
public struct MatrixPrices: Sendable, Hashable {
    /// The property names, in the order each combination lists its values.
    public var dimensions: [String]
    /// The listed combinations and their unit prices.
    public var prices: [MatrixPrice]
    /// The unit price of any combination not listed.
    public var defaultPrice: ExactDecimal

    /// Creates a price matrix over `dimensions`, with `defaultPrice` for unlisted combinations.
    public init(dimensions: [String], prices: [MatrixPrice], defaultPrice: ExactDecimal) {
        self.dimensions = dimensions
        self.prices = prices
        self.defaultPrice = defaultPrice
    }
}

/// The unit price of one combination of property values in a matrix charge.
public struct MatrixPrice: Sendable, Hashable {
    /// One value per dimension, in the dimensions' order.
    public var values: [String]
    /// The price per unit of usage with this combination.
    public var unitPrice: ExactDecimal

    /// Creates the price of the combination `values`, one value per dimension.
    public init(values: [String], unitPrice: ExactDecimal) {
        self.values = values
        self.unitPrice = unitPrice
    }
}
