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
        CanonicalJSON.write(
            .object(
                JSONObject([
                    ("received", .number(String(tally.received))), ("accepted", .number(String(tally.accepted))),
                    ("rejected", .number(String(tally.rejected))),
                    ("dead_lettered", .number(String(tally.deadLettered))),
                    ("results", .array(results)),
                ])), pretty: false)
    }
}

/// The answer to `POST /v1/canAccess`: may the customer use the metric now?
///
/// The pipeline's ``AccessDecision`` as JSON: the quota standing, the Margin Guard level, the flags
/// of an allowed request, and why (a refusal's code, or how the quota stands).
struct AccessAnswer: Sendable, Hashable {
    var decision: AccessDecision

    /// `within_quota`, `no_quota` or `soft_limit_reached` when allowed; the refusal's code otherwise.
    var reason: String {
        if let refusal = decision.refusal { return refusal.rawValue }
        guard let remaining = decision.remaining else { return "no_quota" }
        return remaining.isZero ? "soft_limit_reached" : "within_quota"
    }

    /// The flags' codes, in their fixed order.
    var flags: [String] { AccessFlags.codes.filter { decision.flags.contains($0.flag) }.map(\.code) }

    var json: String {
        func decimal(_ value: ExactDecimal?) -> JSONValue { value.map { .string($0.description) } ?? .null }
        return CanonicalJSON.write(
            .object(
                JSONObject([
                    ("allowed", .bool(decision.allowed)), ("quota", decimal(decision.limit)),
                    ("used", .string(decision.quota.used.description)),
                    ("remaining", decimal(decision.remaining)), ("margin_level", .string(decision.marginLevel.name)),
                    ("flags", .array(flags.map { .string($0) })), ("reason", .string(reason)),
                ])), pretty: false)
    }
}
