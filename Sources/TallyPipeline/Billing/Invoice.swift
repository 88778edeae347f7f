/// One customer's bill for one period, every amount already rounded to the currency.
///
/// `total = subtotal - discountTotal + taxTotal` (without the tax when prices include it) and
/// `amountDue = total - creditsApplied`, exactly: every figure is a sum of
/// rounded lines, so the invoice adds up to the last minor unit.
public struct Invoice: Sendable, Equatable {
    /// `INV-<YYYYMMDD of the period start>-<customer position in the catalog, 6 digits>`.
    public var number: String
    /// The id of the customer billed.
    public var customer: String
    /// The billing period the invoice covers.
    public var period: BillingPeriod
    /// The currency of every amount on the invoice.
    public var currency: Currency
    /// Where the invoice goes: charged to a card or sent to accounts receivable.
    public var destination: BillingType
    /// Charge lines in plan order, then charge minimum true-ups in plan order, then a term
    /// commitment's lines, then the minimum commitment true-up, then the spend-cap adjustment.
    public var lines: [InvoiceLine]
    /// The sum of the rounded lines.
    public var subtotal: ExactDecimal
    /// The customer's discounts that applied, in catalog order.
    public var discounts: [DiscountLine]
    /// The sum of the discounts, positive: taken off the subtotal.
    public var discountTotal: ExactDecimal
    /// One line per tax rate of the customer's jurisdiction; empty for an exempt customer.
    public var taxes: [TaxLine]
    /// The sum of the tax lines.
    public var taxTotal: ExactDecimal
    /// What the period costs: `subtotal - discountTotal + taxTotal`.
    public var total: ExactDecimal
    /// Credits that paid part of the total, prepaid grants (oldest first) then the balance.
    public var credits: [CreditApplication]
    /// The sum of the credits that paid part of the total.
    public var creditsApplied: ExactDecimal
    /// `total - creditsApplied`, never negative.
    public var amountDue: ExactDecimal
    /// Prepaid credit that reached the end of its validity with this invoice, unused.
    public var expiredCredits: [ExpiredCredit]
    /// Included units carried between periods, when the plan rolls them over.
    public var rollover: RolloverSummary?
    /// Whether the lines' prices include the tax: then `total = subtotal - discountTotal`, the tax
    /// lines showing what of it is tax.
    public var pricesIncludeTax = false
    /// The unit the plan's charges are priced in, when not the currency.
    public var pricingUnit: PricingUnit?
    /// Where the customer stands in its commitment's term, when the plan has one.
    public var commitment: CommitmentSummary?
    /// When the invoice was issued, for a customer with in-advance fees, a trial or plan changes;
    /// nil for every other invoice, which is issued at its period's end.
    public var issued: Instant? = nil
    /// Whether this is the in-advance invoice of the period, which holds only in-advance fees.
    public var inAdvance = false
    /// For a customer with several subscriptions, their ids in its order (``InvoiceLine/subscription`` indexes
    /// them); empty otherwise.
    public var subscriptions: [String] = []
}

/// A commitment's drawdown on one invoice and what remains of it.
public struct CommitmentSummary: Sendable, Equatable {
    /// Whether the commitment was prepaid or is paid in arrears, which decides its lines.
    public var billing: Commitment.Billing
    /// The amount committed for the term.
    public var amount: ExactDecimal
    /// This invoice's period in the term, from 1.
    public var periodInTerm: Int
    /// The term's length in periods; the term ends when ``periodInTerm`` reaches it.
    public var termPeriods: Int
    /// The period's usage lines that the commitment covered.
    public var drawnThisPeriod: ExactDecimal
    /// The usage drawn down in the term so far, this period included.
    public var drawnInTerm: ExactDecimal
    /// What is left for the term's later periods (0 once the term has ended).
    public var remaining: ExactDecimal
    /// The period's usage past the commitment, billed as usual.
    public var overage: ExactDecimal
    /// In arrears, what the ended term left unused, invoiced as a true-up line.
    public var trueUp: ExactDecimal
    /// Prepaid, what the ended term left unused: paid for and gone.
    public var forfeited: ExactDecimal
}

/// One priced line of an invoice.
public struct InvoiceLine: Sendable, Equatable {
    /// Where a line comes from: a plan charge or a contract term.
    public enum Kind: String, Sendable, Hashable {
        /// A plan charge.
        case charge
        /// Makes up the shortfall of one charge below its `min_amount`.
        case chargeMinimumTrueUp = "charge_minimum_true_up"
        /// Makes up the shortfall below the minimum commitment.
        case minimumCommitmentTrueUp = "minimum_commitment_true_up"
        /// Brings the total down to the spend cap (negative).
        case spendCapAdjustment = "spend_cap_adjustment"
        /// A prepaid commitment, invoiced whole on its term's first invoice.
        case commitmentPrepayment = "commitment_prepayment"
        /// The period's usage taken off a prepaid commitment (negative).
        case commitmentDrawdown = "commitment_drawdown"
        /// What an in-arrears commitment's term left unused, on the term's last invoice.
        case commitmentTrueUp = "commitment_true_up"
    }

    /// Whether the line is a plan charge or a contract term.
    public var kind: Kind
    /// The line's name: the charge's name, or the contract term's.
    public var name: String
    /// The metric of a usage charge.
    public var metric: String?
    /// The quantity priced; nil for contract lines.
    ///
    /// With rollover the metered quantity is `quantity + rolloverUnitsUsed`.
    public var quantity: ExactDecimal?
    /// Rolled-over units that covered usage before the charge priced the rest.
    public var rolloverUnitsUsed: ExactDecimal
    /// The exact amount before the line's single rounding (for a prorated true-up,
    /// whose quotient may not end, the quotient to 10 digits past the currency's).
    public var unroundedAmount: ExactDecimal
    /// The amount rounded half-up to the currency's minor unit.
    public var amount: ExactDecimal
    /// How a charge was priced; nil for contract lines.
    public var breakdown: RatingBreakdown?
    /// The position, in the plan's charges, of the charge the line prices or trues up.
    ///
    /// Nil for a line of the whole plan. Tax codes and scoped discounts follow it.
    public var chargeIndex: Int? = nil
    /// In a plan priced in a unit of its own (credits, tokens), the line's exact amount in that unit;
    /// ``unroundedAmount`` is it times the conversion rate.
    public var pricingUnitAmount: ExactDecimal? = nil
    /// For a customer with several subscriptions, the position in its ``Customer/subscriptions`` of the one the
    /// line bills (then ``chargeIndex`` is a position in that subscription's plan); nil for a customer on one plan.
    public var subscription: Int? = nil

    /// A contract line of the whole plan: no metric, quantity or breakdown.
    static func contract(
        _ kind: Kind, _ name: String, amount: ExactDecimal, unrounded: ExactDecimal? = nil
    ) -> InvoiceLine {
        InvoiceLine(
            kind: kind, name: name, metric: nil, quantity: nil, rolloverUnitsUsed: .zero,
            unroundedAmount: unrounded ?? amount, amount: amount, breakdown: nil)
    }
}

/// One discount on an invoice and its share of each line.
public struct DiscountLine: Sendable, Equatable {
    /// The discount's name from the catalog.
    public var name: String
    /// The discount taken off, positive.
    public var amount: ExactDecimal
    /// The share of each invoice line, aligned with ``Invoice/lines``.
    public var perLine: [ExactDecimal]
    /// Unused fixed amount of a `once` discount, carried to the next invoice.
    public var carriedForward: ExactDecimal
}

/// One tax rate's total on an invoice.
public struct TaxLine: Sendable, Equatable {
    /// The tax rate's name from the catalog.
    public var name: String
    /// The customer's tax jurisdiction, whose rate this is.
    public var jurisdiction: String
    /// The rate in percent (7.25 means 7.25%).
    public var rate: ExactDecimal
    /// The sum of ``perLine``; with tax rounded per invoice, their exact sum rounded once.
    public var amount: ExactDecimal
    /// The tax of each invoice line at this rate, aligned with ``Invoice/lines``.
    ///
    /// Each is `round((line - its discounts) x rate / 100)`, 0 for a line the rate does not apply to;
    /// with prices that include tax, `/ (100 + the line's rates)` instead of `/ 100`.
    /// With tax rounded per invoice, the shares unrounded (to 10 digits past the currency's).
    public var perLine: [ExactDecimal]
    /// With tax rounded per invoice, the exact sum before its single rounding; nil otherwise.
    public var unroundedAmount: ExactDecimal? = nil
}

/// Where money that paid an invoice came from.
public enum CreditSource: Sendable, Hashable {
    /// A prepaid grant, identified by its period and its position in the catalog's credits.
    case prepaid(grantedInPeriod: Int, catalogIndex: Int)
    /// The customer's credit balance.
    case balance
}

/// Credit used to pay an invoice, and what of that source is left.
public struct CreditApplication: Sendable, Equatable {
    /// Where the money came from: a prepaid grant or the credit balance.
    public var source: CreditSource
    /// How much of the invoice's total this source paid.
    public var amount: ExactDecimal
    /// What remains of the source after this invoice.
    public var remaining: ExactDecimal
}

/// Prepaid credit lost because its validity ended.
public struct ExpiredCredit: Sendable, Equatable {
    /// The period the grant was made in (0-based).
    public var grantedInPeriod: Int
    /// The grant's position in ``Catalog/credits``.
    public var catalogIndex: Int
    /// The unused credit lost.
    public var amount: ExactDecimal
}

/// Rolled-over included units for one period.
public struct RolloverSummary: Sendable, Equatable {
    /// The metric whose included units roll over.
    public var metric: String
    /// The free first tier of the metric's graduated charge.
    public var includedUnits: ExactDecimal
    /// Rolled-over units usable at the start of the period.
    public var available: ExactDecimal
    /// Rolled-over units that covered usage this period.
    public var used: ExactDecimal
    /// Rolled-over units that reached their last period unused and were dropped.
    public var expired: ExactDecimal
    /// Unused included units of this period that roll forward (after the cap).
    public var carriedForward: ExactDecimal
}
