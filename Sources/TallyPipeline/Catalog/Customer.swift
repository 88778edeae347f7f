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
    /// The customer's subscriptions when it holds several (two products, each on its own plan), in file order;
    /// empty for a customer on one ``plan``.
    ///
    /// Each bills its own plan on the customer's one invoice per period. Made with
    /// ``init(id:subscriptions:taxJurisdiction:taxExempt:billing:creditBalance:)``, which sets ``plan`` to the first
    /// subscription's, ``start`` to the earliest start and ``end`` to the latest end (nil when one never ends):
    /// the dates metering follows, and where an ``BillingAnchor/anniversary`` customer's periods start. Requests
    /// are judged by each subscription's plan in force.
    public var subscriptions: [Subscription] = []

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

    /// Creates a customer holding several subscriptions (at least one), billed on one invoice per period.
    public init(
        id: String, subscriptions: [Subscription], taxJurisdiction: String? = nil, taxExempt: Bool = false,
        billing: BillingType = .card, creditBalance: ExactDecimal = .zero
    ) {
        let starts = subscriptions.map(\.start)
        let ends = subscriptions.map(\.end)
        self.init(
            id: id, plan: subscriptions.first?.plan ?? "", taxJurisdiction: taxJurisdiction, taxExempt: taxExempt,
            billing: billing,
            start: starts.contains(nil) ? nil : starts.compactMap { $0 }.min(),
            end: ends.contains(nil) ? nil : ends.compactMap { $0 }.max(), creditBalance: creditBalance)
        self.subscriptions = subscriptions
    }

    /// The customer as if it held only its subscription at `position`: that subscription's plan, dates, trial and
    /// changes, the customer's own tax, billing and anchor.
    func holding(subscriptionAt position: Int) -> Customer {
        let subscription = subscriptions[position]
        var customer = self
        customer.subscriptions = []
        customer.plan = subscription.plan
        customer.start = subscription.start
        customer.end = subscription.end
        customer.trial = subscription.trial
        customer.trialUsage = subscription.trialUsage
        customer.changes = subscription.changes
        return customer
    }
}

/// One of a customer's several subscriptions: one product on its own plan, with its own dates, trial and changes.
public struct Subscription: Sendable, Hashable {
    /// The subscription's id, unique within its customer.
    public var id: String
    /// The plan's id.
    public var plan: String
    /// When the subscription starts; nil for the first period's start.
    public var start: Instant?
    /// When the subscription ends (exclusive); nil for never.
    public var end: Instant?
    /// The trial of this subscription, overriding its first plan's; nil for the plan's.
    public var trial: TimeSpan?
    /// Whether usage during the trial is billed or free, overriding its first plan's; nil for the plan's.
    public var trialUsage: TrialUsage?
    /// Dated changes to the subscription after it starts (new plans, a cancellation), in date order.
    public var changes: [PlanChange] = []

    /// Creates a subscription `id` to plan `plan`, from the first period on unless `start` says otherwise.
    public init(id: String, plan: String, start: Instant? = nil, end: Instant? = nil) {
        self.id = id
        self.plan = plan
        self.start = start
        self.end = end
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
