/// A discount on a customer's invoices, or on those of every customer on a plan, applied before tax.
public struct Discount: Sendable, Hashable {
    /// The discount's name on the invoice.
    public var name: String
    /// The customer it applies to; nil for every customer on ``plan``.
    public var customer: String?
    /// The plan whose customers it applies to; nil for the customer's whatever its plan.
    public var plan: String?
    /// How much it takes off: a percentage or a fixed amount.
    public var kind: Kind
    /// How many of the customer's invoices it applies to.
    public var duration: Duration
    /// The charges (by name) it is limited to; with ``metrics``, none for every line of the invoice.
    public var charges: [String] = []
    /// The metrics whose charges it is limited to.
    public var metrics: [String] = []
    /// It is in effect on invoices of periods starting at or after this; nil for from the first.
    public var start: Instant?
    /// It is in effect on invoices of periods starting before this; nil for never expiring.
    public var expires: Instant?

    /// How much a discount takes off.
    public enum Kind: Sendable, Hashable {
        /// A percentage of the lines (10 means 10%).
        case percent(ExactDecimal)
        /// A fixed amount, spread over the lines in proportion to their amounts.
        case fixed(ExactDecimal)
    }

    /// How many of a customer's invoices a discount applies to.
    public enum Duration: Sendable, Hashable {
        /// The first invoice it is in effect on; an unused fixed amount carries to the next invoice.
        case once
        /// The first N invoices it is in effect on, counted per customer (for a customer who starts
        /// mid-run, from its first).
        case periods(Int)
        /// Every invoice of the customer.
        case forever
    }

    /// Whether it applies to a customer's invoice of a period (its customer, plan and dates; not its duration).
    public func applies(to customer: Customer, periodStart: Instant) -> Bool {
        if let id = self.customer, id != customer.id { return false }
        if let plan, plan != customer.plan, !customer.subscriptions.contains(where: { $0.plan == plan }) {
            return false
        }
        if let start, periodStart < start { return false }
        if let expires, periodStart >= expires { return false }
        return true
    }

    /// Whether it is limited to some charges, rather than every line of the invoice.
    public var isScoped: Bool { !charges.isEmpty || !metrics.isEmpty }

    /// Whether it covers `charge` (every charge when it is not limited).
    public func covers(_ charge: Charge) -> Bool {
        !isScoped || charges.contains(charge.name) || charge.metric.map(metrics.contains) == true
    }

    /// Creates a discount of `customer`'s invoices (nil: of every customer on ``plan``, set after).
    public init(name: String, customer: String?, kind: Kind, duration: Duration) {
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
    /// The tax code of the lines this rate applies to (a reduced rate's `reduced`, say); nil for the
    /// standard rate, which applies to every line without a code.
    public var code: String?

    /// The code that exempts a charge or plan from every rate.
    public static let exemptCode = "exempt"
    /// The code that gives a charge the standard rates (those without a code) on a plan with a code of its own.
    public static let standardCode = "standard"

    /// Creates a tax rate of `rate` percent in `jurisdiction`.
    public init(name: String, jurisdiction: String, rate: ExactDecimal) {
        self.name = name
        self.jurisdiction = jurisdiction
        self.rate = rate
    }
}

/// When tax is rounded to the currency's minor unit.
public enum TaxRounding: String, Sendable, Hashable, CaseIterable {
    /// Each rate's tax on each invoice line is rounded, and the tax line is their sum (the default).
    case line
    /// Each rate's tax is summed unrounded over the invoice's lines and rounded once.
    case invoice
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
