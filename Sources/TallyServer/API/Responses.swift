import TallyJSON
import TallyPipeline

/// The JSON of an ingest answer: each event's outcome, in the order sent, and the totals.
///
/// ```json
/// {"accepted":1,"dead_lettered":0,"received":2,"rejected":1,
///  "results":[{"event_id":"e1","outcome":"accepted","period":0},
///             {"event_id":"e1","outcome":"rejected","reason":"duplicate"}]}
/// ```
enum IngestResponse {
    struct Tally: Sendable {
        var received = 0, accepted = 0, rejected = 0, deadLettered = 0

        mutating func add(_ outcome: MeteringOutcome) {
            received += 1
            switch outcome {
            case .accepted: accepted += 1
            case .rejected: rejected += 1
            case .deadLettered: deadLettered += 1
            }
        }
    }

    static func outcomeLabel(_ outcome: MeteringOutcome) -> String {
        switch outcome {
        case .accepted: "accepted"
        case .rejected(let reason), .deadLettered(let reason): reason.rawValue
        }
    }

    static func result(id: String, outcome: MeteringOutcome, detail: String?) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("event_id", .string(id))]
        switch outcome {
        case .accepted(let acceptance):
            members.append(("outcome", .string("accepted")))
            if let period = acceptance.period { members.append(("period", .number(String(period)))) }
            if acceptance.late { members.append(("late", .bool(true))) }
            if acceptance.overSoftLimit { members.append(("over_soft_limit", .bool(true))) }
        case .rejected(let reason):
            members.append(("outcome", .string("rejected")))
            members.append(("reason", .string(reason.rawValue)))
        case .deadLettered(let reason):
            members.append(("outcome", .string("dead_lettered")))
            members.append(("reason", .string(reason.rawValue)))
            if let detail { members.append(("detail", .string(detail))) }
        }
        return .object(JSONObject(members))
    }

    static func json(results: [JSONValue], tally: Tally) -> String {
        CanonicalJSON.write(.object(JSONObject([
            ("received", .number(String(tally.received))), ("accepted", .number(String(tally.accepted))),
            ("rejected", .number(String(tally.rejected))), ("dead_lettered", .number(String(tally.deadLettered))),
            ("results", .array(results)),
        ])), pretty: false)
    }
}

/// The answer to `POST /v1/canAccess`: may the customer use the metric now?
struct AccessAnswer: Sendable, Hashable {
    var allowed: Bool
    /// The period's limit; nil without one.
    var quota: ExactDecimal?
    var used: ExactDecimal
    var remaining: ExactDecimal?
    /// `ok`, `warning` (at or past a soft limit) or `blocked`.
    var marginLevel: String
    /// Why: `within_quota`, `no_quota`, `soft_limit_reached`, `quota_exceeded`, `unknown_customer_or_metric`.
    var reason: String

    var json: String {
        func decimal(_ value: ExactDecimal?) -> JSONValue { value.map { .string($0.description) } ?? .null }
        return CanonicalJSON.write(.object(JSONObject([
            ("allowed", .bool(allowed)), ("quota", decimal(quota)), ("used", .string(used.description)),
            ("remaining", decimal(remaining)), ("margin_level", .string(marginLevel)), ("reason", .string(reason)),
        ])), pretty: false)
    }
}

/// The request-path decision for a gateway, from the pipeline.
///
/// The one place the service asks the pipeline whether a call may go on: when the
/// pipeline's `Meter.canAccess(tenant:customer:metric:at:)` lands (spike arrest and Margin
/// Guard), this function switches to it and maps its `AccessDecision`.
func accessDecision(_ meter: Meter, tenant: String, customer: String, metric: String, at instant: Instant) -> AccessAnswer {
    let entitlement = meter.entitlement(customer: customer, metric: metric, at: instant)
    // Only an unknown customer or metric is refused without a limit.
    let known = entitlement.allowed || entitlement.limit != nil
    let reason: String
    let level: String
    switch (known, entitlement.allowed, entitlement.limit, entitlement.remaining) {
    case (false, _, _, _): (reason, level) = ("unknown_customer_or_metric", "blocked")
    case (true, false, _, _): (reason, level) = ("quota_exceeded", "blocked")
    case (true, true, nil, _): (reason, level) = ("no_quota", "ok")
    case (true, true, .some, let remaining?) where remaining == .zero: (reason, level) = ("soft_limit_reached", "warning")
    default: (reason, level) = ("within_quota", "ok")
    }
    return AccessAnswer(allowed: entitlement.allowed, quota: entitlement.limit, used: entitlement.used,
                        remaining: entitlement.remaining, marginLevel: level, reason: reason)
}
