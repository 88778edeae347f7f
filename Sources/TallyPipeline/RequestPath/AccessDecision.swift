/// The gateway's answer to one request: allowed or refused, and the standing it was judged on.
///
/// Made by ``Meter/canAccess(tenant:customer:metric:at:)`` before a request reaches the backend.
/// A refused request never becomes a usage event, so it is never metered or billed.
public struct AccessDecision: Sendable, Hashable {
    /// Why the request was refused; nil when it is allowed.
    public var refusal: AccessRefusal?
    /// The customer's quota standing on the metric (as of ``judgedAt``): limit, usage, remaining units.
    public var quota: Entitlement
    /// The Margin Guard level of the customer's current period (as of ``judgedAt``).
    public var marginLevel: MarginLevel
    /// The revenue and cost the level was judged on; nil when no metric has a cost, or when the
    /// cost is so far below the revenue last worked out that the level is surely none (revenue
    /// was then not worked out again; see Docs/Semantics.md, "The request path").
    public var margin: MarginStanding?
    /// Flags of an allowed request (`margin_warning`, `throttled`); empty when refused.
    public var flags: AccessFlags
    /// The instant of the usage the decision was judged on: the request's own instant, or
    /// with an entitlement cache, when the cache last fetched the customer's standing.
    public var judgedAt: Instant

    /// Whether the request may go on to the backend.
    public var allowed: Bool { refusal == nil }
    /// The period's quota on the metric; nil when the plan sets none.
    public var limit: ExactDecimal? { quota.limit }
    /// Units left under the quota, never below 0; nil without a quota.
    public var remaining: ExactDecimal? { quota.remaining }
}

/// Why a gateway refused a request.
///
/// Codes are stable strings: they appear in golden files.
public enum AccessRefusal: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The customer is not in the catalog.
    case unknownCustomer = "unknown_customer"
    /// The metric is not in the catalog.
    case unknownMetric = "unknown_metric"
    /// The period's hard quota is used up.
    case quotaExceeded = "quota_exceeded"
    /// Margin Guard L3: the period's margin is below the plan's block level.
    case marginBlocked = "margin_blocked"
    /// Faster than the plan's spike arrest admits.
    case spikeArrested = "spike_arrested"

    /// The HTTP status a service answers with.
    public var httpStatus: Int {
        switch self {
        case .unknownCustomer: 403
        case .unknownMetric: 404
        case .quotaExceeded, .marginBlocked, .spikeArrested: 429
        }
    }

    /// Ordered by code, so every listing reads the same.
    public static func < (lhs: AccessRefusal, rhs: AccessRefusal) -> Bool { lhs.rawValue < rhs.rawValue }

    var index: Int { AccessRefusal.allCases.firstIndex(of: self) ?? 0 }
}

/// Margin Guard's levels, from none to L3.
public enum MarginLevel: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// The margin is at or above the warning level (or nothing was earned or spent yet).
    case none = 0
    /// L1: below `warn_below`; allowed and flagged `margin_warning`.
    case warning = 1
    /// L2: below `throttle_below`; allowed and flagged `throttled`.
    case throttled = 2
    /// L3: below `block_below`; refused `margin_blocked`.
    case blocked = 3

    /// `L0` to `L3`, as golden files and headers write it.
    public var name: String { "L\(rawValue)" }

    /// Ordered by severity, so `level >= .throttled` reads as "throttled or worse".
    public static func < (lhs: MarginLevel, rhs: MarginLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Flags of an allowed request, each counted.
public struct AccessFlags: OptionSet, Sendable, Hashable {
    /// The flags as bits: 1 for ``marginWarning``, 2 for ``throttled``.
    public let rawValue: UInt8
    /// Creates the set of flags whose bits `rawValue` holds.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Margin Guard L1: a webhook and a warning header in a service.
    public static let marginWarning = AccessFlags(rawValue: 1)
    /// Margin Guard L2: a throttle header in a service.
    public static let throttled = AccessFlags(rawValue: 2)

    /// Every flag with its stable code, in code order.
    public static let codes: [(flag: AccessFlags, code: String)] = [
        (.marginWarning, "margin_warning"), (.throttled, "throttled"),
    ]
}

/// A customer's revenue and cost in a period, and the exact test of its margin against a level.
public struct MarginStanding: Sendable, Hashable {
    /// The invoice the period would have if it closed now, after contract terms and discounts, before tax and credits.
    public var revenue: ExactDecimal
    /// The unit costs of the period's metered usage, summed exactly (not rounded).
    public var cost: ExactDecimal

    /// Creates a standing from the period's revenue so far and the cost of serving its usage.
    public init(revenue: ExactDecimal, cost: ExactDecimal) {
        self.revenue = revenue
        self.cost = cost
    }

    /// Whether the margin `(revenue - cost) / revenue` is below `threshold` (0.2 for 20%), with no rounding.
    ///
    /// With revenue above 0 that is `revenue - cost < threshold x revenue`, both sides exact.
    /// Cost with no revenue (0 or less) is below every threshold; no cost and no revenue is below none.
    /// A figure too large for exact decimals counts as below (the guard fails closed).
    public func isBelow(_ threshold: ExactDecimal) -> Bool {
        guard revenue > .zero else { return cost > .zero }
        guard let earned = try? revenue - cost, let floor = try? threshold * revenue else { return true }
        return earned < floor
    }

    /// The level `levels` give this standing.
    public func level(_ levels: MarginGuard) -> MarginLevel {
        if isBelow(levels.blockBelow) { return .blocked }
        if isBelow(levels.throttleBelow) { return .throttled }
        if isBelow(levels.warnBelow) { return .warning }
        return .none
    }
}

/// The gateway's counts: every request decided, allowed or refused by reason, and the flags.
public struct AccessCounts: Sendable, Hashable {
    /// Requests decided.
    public var requests = 0
    /// Requests let through, flagged or not.
    public var allowed = 0
    /// Refusals, indexed like `AccessRefusal.allCases`.
    var byRefusal = Array(repeating: 0, count: AccessRefusal.allCases.count)
    /// Allowed requests flagged `margin_warning`.
    public var marginWarnings = 0
    /// Allowed requests flagged `throttled`.
    public var throttled = 0

    /// Creates counts of zero requests.
    public init() {}

    /// Requests refused for `refusal`.
    public func count(_ refusal: AccessRefusal) -> Int { byRefusal[refusal.index] }

    /// Requests refused, for any reason.
    public var refused: Int { byRefusal.reduce(0, +) }

    /// Flagged requests by flag.
    public func count(_ flag: AccessFlags) -> Int {
        (flag.contains(.marginWarning) ? marginWarnings : 0) + (flag.contains(.throttled) ? throttled : 0)
    }

    /// Conservation at the gateway: `requests = allowed + refused (by reason)`.
    public var isBalanced: Bool { requests == allowed + refused }

    mutating func record(refusal: AccessRefusal?, flags: AccessFlags) {
        requests += 1
        if let refusal {
            byRefusal[refusal.index] += 1
        } else {
            allowed += 1
            if flags.contains(.marginWarning) { marginWarnings += 1 }
            if flags.contains(.throttled) { throttled += 1 }
        }
    }
}
