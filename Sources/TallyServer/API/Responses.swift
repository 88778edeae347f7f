import TallyJSON
import TallyPipeline

/// The JSON of an ingest answer: each event's outcome, in the order sent, and the totals.
///
/// ```json
/// {"accepted":1,"dead_lettered":0,"received":2,"rejected":1,
///  "results":[{"event_id":"e1","outcome":"accepted","period":0},
///             {"event_id":"e1","outcome":"rejected","reason":"duplicate"}]}
/// ```
///
/// An accepted event's `period` is the index of its customer's own period containing it, as the meter
/// assigned it: for a customer with `anchor: anniversary`, counted from its own start (Docs/Server.md).
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

    /// Writes an answer's canonical JSON straight to bytes, one result at a time (no JSON tree per event).
    ///
    /// `minimal` (the client sent `Prefer: return=minimal`) lists only the events not accepted, each with
    /// its `index` in the request; the totals still count every event.
    struct Writer {
        let minimal: Bool
        private(set) var tally = Tally()
        private var results: [UInt8] = []
        private var index = 0

        init(minimal: Bool, capacity: Int) {
            self.minimal = minimal
            results.reserveCapacity(minimal ? 256 : capacity * 56)
        }

        /// Adds one event's result, in the order sent.
        mutating func add(id: String, outcome: MeteringOutcome, detail: String?) {
            defer { index += 1 }
            tally.add(outcome)
            if minimal, case .accepted = outcome { return }
            if !results.isEmpty { results.append(UInt8(ascii: ",")) }
            // Keys in canonical (byte) order: detail, event_id, index, late, outcome, over_soft_limit, period, reason.
            results.append(UInt8(ascii: "{"))
            if case .deadLettered = outcome, let detail {
                literal(#""detail":"#)
                CanonicalJSON.appendString(detail, to: &results)
                results.append(UInt8(ascii: ","))
            }
            literal(#""event_id":"#)
            CanonicalJSON.appendString(id, to: &results)
            if minimal {
                literal(#","index":"#)
                number(index)
            }
            switch outcome {
            case .accepted(let acceptance):
                if acceptance.late { literal(#","late":true"#) }
                literal(#","outcome":"accepted""#)
                if acceptance.overSoftLimit { literal(#","over_soft_limit":true"#) }
                if let period = acceptance.period {
                    literal(#","period":"#)
                    number(period)
                }
            case .rejected(let reason):
                literal(#","outcome":"rejected","reason":"#)
                CanonicalJSON.appendString(reason.rawValue, to: &results)
            case .deadLettered(let reason):
                literal(#","outcome":"dead_lettered","reason":"#)
                CanonicalJSON.appendString(reason.rawValue, to: &results)
            }
            results.append(UInt8(ascii: "}"))
        }

        /// The whole answer, ending in a newline as ``CanonicalJSON/write(_:pretty:)`` ends it.
        func json() -> String {
            var out: [UInt8] = []
            out.reserveCapacity(results.count + 100)
            func field(_ name: StaticString, _ value: Int) {
                out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                out.append(contentsOf: String(value).utf8)
            }
            field(#"{"accepted":"#, tally.accepted)
            field(#","dead_lettered":"#, tally.deadLettered)
            field(#","received":"#, tally.received)
            field(#","rejected":"#, tally.rejected)
            out.append(contentsOf: #","results":["#.utf8)
            out.append(contentsOf: results)
            out.append(contentsOf: "]}\n".utf8)
            return String(decoding: out, as: UTF8.self)
        }

        private mutating func literal(_ text: StaticString) {
            results.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        private mutating func number(_ value: Int) {
            results.append(contentsOf: String(value).utf8)
        }
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

    /// The canonical JSON (keys in byte order), written straight to text: every gateway call makes one.
    var json: String {
        var out = #"{"allowed":"#
        out += decision.allowed ? "true" : "false"
        out += #","flags":["#
        var first = true
        for (flag, code) in AccessFlags.codes where decision.flags.contains(flag) {
            if !first { out += "," }
            first = false
            out += "\"" + code + "\""
        }
        out += #"],"margin_level":"#
        out += CanonicalJSON.quotedString(decision.marginLevel.name)
        out += #","quota":"#
        out += decision.limit.map { "\"" + $0.description + "\"" } ?? "null"
        out += #","reason":"#
        out += CanonicalJSON.quotedString(reason)
        out += #","remaining":"#
        out += decision.remaining.map { "\"" + $0.description + "\"" } ?? "null"
        out += #","used":""#
        out += decision.quota.used.description
        out += "\"}\n"
        return out
    }
}

extension CanonicalJSON {
    /// `text` as a canonical JSON string literal (see ``CanonicalJSON/emitString(_:_:)``).
    static func quotedString(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendString(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
