/// The reason code of every event that is not simply accepted.
///
/// Codes are stable strings: they appear in golden files, ledgers and dashboards.
public enum OutcomeReason: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A required field is missing, empty or of the wrong type, or the quantity is
    /// not a finite decimal (or is negative for a metric that forbids it).
    case schemaInvalid = "schema_invalid"
    /// The timestamp is more than `maxFuture` after ingest time.
    case timestampInFuture = "timestamp_in_future"
    /// The timestamp is more than `maxAge` before ingest time.
    case timestampTooOld = "timestamp_too_old"
    /// The tenant already had an accepted event with this id: counted, never billed.
    case duplicate
    /// The customer is not in the catalog: kept as a dead letter until the catalog knows it.
    case unknownCustomer = "unknown_customer"
    /// The metric is not in the catalog: kept as a dead letter until the catalog knows it.
    case unknownMetric = "unknown_metric"
    /// Past a hard quota: what a gateway answers with HTTP 429.
    case quotaExceeded = "quota_exceeded"

    /// Whether the event is kept as a dead letter for replay after a fix, or rejected for good.
    public var disposition: Disposition {
        switch self {
        case .schemaInvalid, .unknownCustomer, .unknownMetric: .deadLettered
        case .timestampInFuture, .timestampTooOld, .duplicate, .quotaExceeded: .rejected
        }
    }

    /// What happens to an event that is not accepted.
    public enum Disposition: String, Sendable, Hashable {
        /// Refused for good and counted; the sender is told why.
        case rejected
        /// Kept whole in the dead-letter queue, to be replayed once the catalog is fixed.
        case deadLettered = "dead_lettered"
    }

    /// Ordered by code, so every listing of reasons reads the same.
    public static func < (lhs: OutcomeReason, rhs: OutcomeReason) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the metering stages decided for one event.
public enum MeteringOutcome: Sendable, Hashable {
    /// Counted and aggregated into usage, with its flags.
    case accepted(Acceptance)
    /// Refused for good, with the reason.
    case rejected(OutcomeReason)
    /// Kept in the dead-letter queue, with the reason.
    case deadLettered(OutcomeReason)

    /// The reason code, or nil for an accepted event.
    public var reason: OutcomeReason? {
        switch self {
        case .accepted: nil
        case .rejected(let reason), .deadLettered(let reason): reason
        }
    }
}

/// Flags of an accepted event.
public struct Acceptance: Sendable, Hashable {
    /// The timestamp is more than `lateAfter` before ingest time.
    public var late: Bool
    /// The event passed a soft quota limit.
    public var overSoftLimit: Bool
    /// The billing period the event falls in; nil when it lies outside every
    /// simulated period (accepted and kept, but on no invoice of this run).
    public var period: Int?

    /// The flags of an accepted event (as a ledger stores them).
    public init(late: Bool, overSoftLimit: Bool, period: Int?) {
        self.late = late
        self.overSoftLimit = overSoftLimit
        self.period = period
    }
}

/// Outcome counts of a batch or a run, which must add up to the events in.
public struct OutcomeCounts: Sendable, Hashable {
    /// Events handed to the pipeline.
    public var received: Int = 0
    /// Events counted into usage (including late, soft-limit and out-of-period ones).
    public var accepted: Int = 0
    /// Accepted events flagged late (a subset of `accepted`).
    public var late: Int = 0
    /// Accepted events outside every simulated period (a subset of `accepted`).
    public var outsidePeriods: Int = 0
    /// Accepted events past a soft quota (a subset of `accepted`).
    public var overSoftLimit: Int = 0
    /// Rejected and dead-lettered events by reason, indexed like `OutcomeReason.allCases`.
    var byReason: [Int] = Array(repeating: 0, count: OutcomeReason.allCases.count)

    /// Creates counts of zero.
    public init() {}

    /// Events rejected or dead-lettered with this reason.
    public func count(_ reason: OutcomeReason) -> Int {
        byReason[OutcomeReason.allCases.firstIndex(of: reason) ?? 0]
    }

    /// Events rejected for good, all reasons together.
    public var rejected: Int {
        OutcomeReason.allCases.filter { $0.disposition == .rejected }.reduce(0) { $0 + count($1) }
    }

    /// Events kept as dead letters, all reasons together.
    public var deadLettered: Int {
        OutcomeReason.allCases.filter { $0.disposition == .deadLettered }.reduce(0) { $0 + count($1) }
    }

    /// Conservation: `received = accepted + rejected (by reason) + dead-lettered (by reason)`.
    public var isBalanced: Bool { received == accepted + rejected + deadLettered }

    /// Counts the outcome of one event; `received` is counted separately, where events enter.
    mutating func record(_ outcome: MeteringOutcome) {
        switch outcome {
        case .accepted(let acceptance):
            accepted += 1
            if acceptance.late { late += 1 }
            if acceptance.period == nil { outsidePeriods += 1 }
            if acceptance.overSoftLimit { overSoftLimit += 1 }
        case .rejected(let reason), .deadLettered(let reason):
            byReason[reason.index] += 1
        }
    }

    /// The counts of two batches together.
    public static func + (lhs: OutcomeCounts, rhs: OutcomeCounts) -> OutcomeCounts {
        var sum = lhs
        sum.received += rhs.received
        sum.accepted += rhs.accepted
        sum.late += rhs.late
        sum.outsidePeriods += rhs.outsidePeriods
        sum.overSoftLimit += rhs.overSoftLimit
        for i in sum.byReason.indices { sum.byReason[i] += rhs.byReason[i] }
        return sum
    }
}

extension OutcomeReason {
    var index: Int {
        switch self {
        case .schemaInvalid: 0
        case .timestampInFuture: 1
        case .timestampTooOld: 2
        case .duplicate: 3
        case .unknownCustomer: 4
        case .unknownMetric: 5
        case .quotaExceeded: 6
        }
    }
}

/// Raised when a batch's outcomes do not add up to its events: a pipeline bug,
/// reported rather than hidden, because a lost event is lost money.
public struct ConservationError: Error, Sendable, CustomStringConvertible {
    /// The counts that do not add up.
    public let counts: OutcomeCounts
    /// The counts as a sentence: how many events went in and where they went.
    public var description: String {
        "conservation violated: \(counts.received) events in, but \(counts.accepted) accepted + \(counts.rejected) rejected + \(counts.deadLettered) dead-lettered"
    }
}
