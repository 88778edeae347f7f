/// A customer of the API seller, subscribed to one plan.
public struct Customer: Sendable, Hashable {
    /// The customer's id, which events carry as `customer_id`.
    public var id: String
    /// The plan's id.
    public var plan: String
    /// The tax jurisdiction whose rates apply (`US-CA`); nil for none.
    public var taxJurisdiction: String?
    /// Exempt customers are never taxed, whatever their jurisdiction.
    public var taxExempt: Bool
    /// How the customer pays: by card, or by invoice on net terms.
    public var billing: BillingType
    /// When the subscription starts; nil for the first period's start.
    ///
    /// A start or end inside a period prorates the flat fees and commitments of that period.
    public var start: Instant?
    /// When the subscription ends (exclusive); nil for never.
    public var end: Instant?
    /// A credit balance the customer holds at the start, such as one from a refund.
    ///
    /// It pays invoices after prepaid credits.
    public var creditBalance: ExactDecimal
    /// The trial of this subscription, overriding its first plan's; nil for the plan's.
    public var trial: TimeSpan?
    /// Whether usage during the trial is billed or free, overriding its first plan's; nil for the plan's.
    public var trialUsage: TrialUsage?
    /// Dated changes to the subscription after it starts (new plans, a cancellation), in date order.
    public var changes: [PlanChange] = []
    /// Whose dates the customer's billing periods follow: the run's schedule, or its own start.
    public var anchor: BillingAnchor = .calendar

    /// Creates a customer of plan `plan`, subscribed from the first period on unless `start` says otherwise.
    public init(
        id: String, plan: String, taxJurisdiction: String? = nil, taxExempt: Bool = false,
        billing: BillingType = .card, start: Instant? = nil, end: Instant? = nil, creditBalance: ExactDecimal = .zero
    ) {
        self.id = id
        self.plan = plan
        self.taxJurisdiction = taxJurisdiction
        self.taxExempt = taxExempt
        self.billing = billing
        self.start = start
        self.end = end
        self.creditBalance = creditBalance
    }
}

/// A dated change to a customer's subscription: a move to another plan, or its cancellation.
public struct PlanChange: Sendable, Hashable {
    /// When the change was asked for.
    public var at: Instant
    /// The new plan's id; nil for a cancellation.
    public var plan: String?
    /// When the change takes effect; nil for the default (see ``Timing``).
    public var timing: Timing?

    /// When a change takes effect.
    public enum Timing: String, Sendable, Hashable, CaseIterable {
        /// At ``PlanChange/at``: the default for an upgrade and a cancellation.
        case immediately
        /// At the end of the billing period containing ``PlanChange/at``: the default for a downgrade.
        case periodEnd = "period_end"
    }

    /// Creates a change at `at` to `plan` (nil: cancel), taking effect as `timing` says.
    public init(at: Instant, plan: String?, timing: Timing? = nil) {
        self.at = at
        self.plan = plan
        self.timing = timing
    }
}

/// Where a customer's billing periods start: Stripe's billing cycle anchor, Lago's calendar or anniversary billing.
public enum BillingAnchor: String, Sendable, Hashable, CaseIterable {
    /// The run's schedule, shared by every such customer, from the scenario's `start`.
    case calendar
    /// The customer's own schedule: as many periods of the same length, the first starting at its `start`.
    case anniversary
}

/// Where a customer's invoices go: the routing stage's answer.
public enum BillingType: String, Sendable, Hashable, CaseIterable {
    /// Charged automatically to a card on file.
    case card
    /// Sent to accounts receivable, payable on net terms.
    case invoice
}
