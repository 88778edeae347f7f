/// A commitment over a term of several periods: an amount the customer's usage charges draw down.
///
/// Prepaid, the amount is invoiced on the term's first invoice and each period's usage is taken off
/// it (a negative drawdown line) until it is used up; usage past it is overage, billed as usual.
/// In arrears, usage is billed as usual and drawn down all the same, and the term's last invoice
/// trues up what was not used.
public struct Commitment: Sendable, Hashable {
    /// The amount committed for the whole term, in the currency.
    public var amount: ExactDecimal
    /// The term's length in periods, counted from the customer's first invoice.
    public var periods: Int
    /// Whether the amount is invoiced up front (prepaid) or trued up at the term's end (in arrears).
    public var billing: Billing

    /// When the commitment is paid.
    public enum Billing: String, Sendable, Hashable, CaseIterable {
        /// Invoiced whole on the term's first invoice; an unused rest is forfeited at the term's end.
        case prepaid
        /// Paid through the usage it covers; an unused rest is invoiced as a true-up at the term's end.
        case inArrears = "in_arrears"
    }

    /// Creates a commitment of `amount` over `periods` periods, paid as `billing` says.
    public init(amount: ExactDecimal, periods: Int, billing: Billing) {
        self.amount = amount
        self.periods = periods
        self.billing = billing
    }
}
