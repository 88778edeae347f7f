/// A price plan: the charges a subscribed customer pays and the contract terms around them.
public struct Plan: Sendable, Hashable {
    /// The plan's id, which ``Customer/plan`` names.
    public var id: String
    /// The priced lines, each becoming one invoice line per period, in this order.
    public var charges: [Charge]
    /// Entitlement limits per metric key, checked as events arrive.
    public var quotas: [Quota]
    /// A minimum spend per period: a true-up line makes up any shortfall.
    public var minimumCommitment: ExactDecimal?
    /// A maximum spend per period: an adjustment line brings the total down to it.
    public var spendCap: ExactDecimal?
    /// Unused included units that carry into later periods.
    public var rollover: Rollover?
    /// Request rates the gateway smooths, checked at request time (see ``Meter/canAccess(tenant:customer:metric:at:)``).
    public var spikeArrests: [SpikeArrest]
    /// The plan's Margin Guard levels; nil for ``MarginGuard/standard``.
    ///
    /// They apply once a metric has a cost.
    public var marginGuard: MarginGuard?
    /// The tax code of the plan's lines, unless a charge gives its own; nil for the standard rates.
    public var taxCode: String?
    /// Whether the plan's prices include tax: the tax is carved out of each line, not added to it.
    public var pricesIncludeTax = false
    /// The unit the plan's charges are priced in (credits, tokens), when not the currency.
    public var pricingUnit: PricingUnit?
    /// A commitment over a term of periods, drawn down by usage charges.
    public var commitment: Commitment?
    /// How long a new subscription's fixed fees are free; nil for no trial.
    ///
    /// Usage is billed during it unless ``trialUsage`` says otherwise.
    public var trial: TimeSpan?
    /// Whether usage during a trial is billed (nil: billed, Lago's rule) or free.
    public var trialUsage: TrialUsage?

    /// Whether any of the plan's flat fees is invoiced in advance.
    public var billsInAdvance: Bool { charges.contains { $0.billing == .inAdvance } }

    /// The plan's flat fees for a whole period, both timings: what decides an upgrade from a downgrade.
    func flatFeesPerPeriod() throws(DecimalError) -> ExactDecimal {
        var total = ExactDecimal.zero
        for charge in charges {
            if case .flat(let amount) = charge.model { total = try total + amount }
        }
        return total
    }

    /// Creates a plan; the ``Catalog`` it goes into checks it against the rest of the catalog.
    public init(
        id: String, charges: [Charge], quotas: [Quota] = [], minimumCommitment: ExactDecimal? = nil,
        spendCap: ExactDecimal? = nil, rollover: Rollover? = nil, spikeArrests: [SpikeArrest] = [],
        marginGuard: MarginGuard? = nil
    ) {
        self.id = id
        self.charges = charges
        self.quotas = quotas
        self.minimumCommitment = minimumCommitment
        self.spendCap = spendCap
        self.rollover = rollover
        self.spikeArrests = spikeArrests
        self.marginGuard = marginGuard
    }

    /// The charges of the `base_fee` + `included_units` + `overage_price` shorthand.
    ///
    /// It is exactly a flat fee plus a graduated charge whose first tier is free up
    /// to the included units, so both spellings give the same invoice.
    public static func shorthandCharges(
        metric: String, baseFee: ExactDecimal?, includedUnits: ExactDecimal, overagePrice: ExactDecimal,
        baseFeeName: String = "Base fee", usageName: String? = nil
    ) -> [Charge] {
        var charges: [Charge] = []
        if let baseFee { charges.append(Charge(name: baseFeeName, metric: nil, model: .flat(amount: baseFee))) }
        let tiers =
            includedUnits.isZero
            ? [Tier(upTo: nil, unitPrice: overagePrice)]
            : [Tier(upTo: includedUnits, unitPrice: .zero), Tier(upTo: nil, unitPrice: overagePrice)]
        charges.append(Charge(name: usageName ?? metric, metric: metric, model: .graduated(tiers)))
        return charges
    }
}

/// An entitlement limit on one metric per period.
public struct Quota: Sendable, Hashable {
    /// The key of the limited metric.
    public var metric: String
    /// The most usage allowed per period, in the metric's unit (events for `count`).
    public var limit: ExactDecimal
    /// Hard limits reject events past the limit (`quota_exceeded`, a gateway's 429);
    /// soft limits accept them and flag them.
    public var hard: Bool

    /// Creates a limit of `limit` units of `metric` per period, hard or soft.
    public init(metric: String, limit: ExactDecimal, hard: Bool) {
        self.metric = metric
        self.limit = limit
        self.hard = hard
    }
}

/// Carry-over of unused included units.
public struct Rollover: Sendable, Hashable {
    /// The metric whose first free tier (its included units) rolls over.
    public var metric: String
    /// How many later periods rolled-over units stay usable.
    public var maxPeriods: Int
    /// The most units that may roll over out of one period; nil for no cap.
    public var cap: ExactDecimal?

    /// Creates a rollover of the included units of `metric`'s graduated charge.
    public init(metric: String, maxPeriods: Int, cap: ExactDecimal? = nil) {
        self.metric = metric
        self.maxPeriods = maxPeriods
        self.cap = cap
    }
}

/// A unit of a plan's own that its charges are priced in, as AI products sell credits or tokens.
public struct PricingUnit: Sendable, Hashable {
    /// The unit's name on invoices (`credits`).
    public var name: String
    /// The currency amount of one unit (0.01: a credit is worth a cent).
    public var conversionRate: ExactDecimal

    /// Creates a unit named `name` worth `conversionRate` of the catalog's currency.
    public init(name: String, conversionRate: ExactDecimal) {
        self.name = name
        self.conversionRate = conversionRate
    }
}

/// Whether the usage of a subscription's trial is billed, or free.
public enum TrialUsage: String, Sendable, Hashable, CaseIterable {
    /// Billed like any other usage (Lago: the trial only applies to the subscription fee): the default.
    case billed
    /// On no invoice: each plan's usage charges start billing when the trial ends.
    case free
}
