/// A discount on a customer's invoices, applied before tax.
public struct Discount: Sendable, Hashable {
    public var name: String
    /// The customer it applies to.
    public var customer: String
    public var kind: Kind
    public var duration: Duration

    public enum Kind: Sendable, Hashable {
        /// A percentage of the lines (10 means 10%).
        case percent(ExactDecimal)
        /// A fixed amount, spread over the lines in proportion to their amounts.
        case fixed(ExactDecimal)
    }

    public enum Duration: Sendable, Hashable {
        /// The first invoice only; an unused fixed amount carries to the next invoice.
        case once
        /// The customer's first N invoices (for a customer who starts mid-run, counted from its first).
        case periods(Int)
        case forever
    }

    public init(name: String, customer: String, kind: Kind, duration: Duration) {
        self.name = name
        self.customer = customer
        self.kind = kind
        self.duration = duration
    }
}

/// An exclusive sales tax rate of a jurisdiction; several rates of one jurisdiction add up.
public struct TaxRate: Sendable, Hashable {
    public var name: String
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
    public var customer: String
    public var amount: ExactDecimal
    /// The period index (0-based) in which the credit is granted.
    public var grantedInPeriod: Int
    /// How many periods the credit can be used, counting the one it is granted
    /// in; nil for never expiring. What is left after that expires.
    public var expiresAfterPeriods: Int?

    public init(customer: String, amount: ExactDecimal, grantedInPeriod: Int = 0, expiresAfterPeriods: Int? = nil) {
        self.customer = customer
        self.amount = amount
        self.grantedInPeriod = grantedInPeriod
        self.expiresAfterPeriods = expiresAfterPeriods
    }
}
