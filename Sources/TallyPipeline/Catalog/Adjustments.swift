/// A discount on a customer's invoices, applied before tax.
public struct Discount: Sendable, Hashable {
    /// The discount's name on the invoice.
    public var name: String
    /// The customer it applies to.
    public var customer: String
    /// How much it takes off: a percentage or a fixed amount.
    public var kind: Kind
    /// How many of the customer's invoices it applies to.
    public var duration: Duration

    /// How much a discount takes off.
    public enum Kind: Sendable, Hashable {
        /// A percentage of the lines (10 means 10%).
        case percent(ExactDecimal)
        /// A fixed amount, spread over the lines in proportion to their amounts.
        case fixed(ExactDecimal)
    }

    /// How many of a customer's invoices a discount applies to.
    public enum Duration: Sendable, Hashable {
        /// The first invoice only; an unused fixed amount carries to the next invoice.
        case once
        /// The customer's first N invoices (for a customer who starts mid-run, counted from its first).
        case periods(Int)
        /// Every invoice of the customer.
        case forever
    }

    /// Creates a discount of `customer`'s invoices.
    public init(name: String, customer: String, kind: Kind, duration: Duration) {
        self.name = name
        self.customer = customer
        self.kind = kind
        self.duration = duration
    }
}

/// An exclusive sales tax rate of a jurisdiction; several rates of one jurisdiction add up.
public struct TaxRate: Sendable, Hashable {
    /// The tax's name on the invoice, such as `CA state tax`.
    public var name: String
    /// The jurisdiction it applies in; a customer's ``Customer/taxJurisdiction`` selects its rates.
    public var jurisdiction: String
    /// Percent (7.25 means 7.25%).
    public var rate: ExactDecimal

    /// Creates a tax rate of `rate` percent in `jurisdiction`.
    public init(name: String, jurisdiction: String, rate: ExactDecimal) {
        self.name = name
        self.jurisdiction = jurisdiction
        self.rate = rate
    }
}

/// Prepaid credit (a wallet top-up) that pays invoices after tax.
public struct PrepaidCredit: Sendable, Hashable {
    /// The id of the customer whose invoices the credit pays.
    public var customer: String
    /// The credit granted, in the catalog's currency.
    public var amount: ExactDecimal
    /// The period index (0-based) in which the credit is granted.
    public var grantedInPeriod: Int
    /// How many periods the credit can be used, counting the one it is granted in.
    ///
    /// Nil for never expiring. What is left after the last of them expires.
    public var expiresAfterPeriods: Int?

    /// Creates a grant of `amount` to `customer` in period `grantedInPeriod`.
    public init(customer: String, amount: ExactDecimal, grantedInPeriod: Int = 0, expiresAfterPeriods: Int? = nil) {
        self.customer = customer
        self.amount = amount
        self.grantedInPeriod = grantedInPeriod
        self.expiresAfterPeriods = expiresAfterPeriods
    }
}
