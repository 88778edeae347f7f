import TallyPipeline

/// What the gateway in front of a run decided: refusals and flags, in all and per customer.
public struct RequestLog: Sendable {
    /// The meter's counts of every decision.
    public var counts = AccessCounts()
    /// Per customer with at least one refusal or flag.
    public var customers: [String: CustomerRequests] = [:]
    /// The first request ids refused for each reason, in request order.
    public var samples: [AccessRefusal: [String]] = [:]

    /// One line for a run's summary: requests, refusals by reason and flags (those above 0).
    public var summary: String {
        let refusals = AccessRefusal.allCases.sorted().filter { counts.count($0) > 0 }.map {
            "\($0.rawValue) \(counts.count($0))"
        }
        let flags = AccessFlags.codes.filter { counts.count($0.flag) > 0 }.map { "\($0.code) \(counts.count($0.flag))" }
        var text = "\(counts.requests) requests, \(counts.refused) refused"
        if !refusals.isEmpty { text += " (\(refusals.joined(separator: ", ")))" }
        if !flags.isEmpty { text += ", flagged \(flags.joined(separator: ", "))" }
        return text
    }

    /// Notes a decision on a request of `customer` at `instant`: its refusal, or its flags.
    mutating func record(
        _ refusal: AccessRefusal?, flags: AccessFlags, customer: String, requestID: String, at instant: Instant
    ) {
        if let refusal {
            customers[customer, default: CustomerRequests()].refuse(refusal, at: instant)
            if samples[refusal, default: []].count < RejectionsDocument.sampleSize {
                samples[refusal, default: []].append(requestID)
            }
        } else if !flags.isEmpty {
            customers[customer, default: CustomerRequests()].flag(flags)
        }
    }
}

/// One customer's refusals and flags at the gateway.
public struct CustomerRequests: Sendable, Hashable {
    /// Refusals, indexed like `AccessRefusal.allCases`.
    private var refusals = Array(repeating: 0, count: AccessRefusal.allCases.count)
    /// Flags, indexed like `AccessFlags.codes`.
    private var flags = Array(repeating: 0, count: AccessFlags.codes.count)
    /// When its first request was refused, and why.
    public private(set) var firstRefusal: (at: Instant, reason: AccessRefusal)?

    public func count(_ refusal: AccessRefusal) -> Int { refusals[AccessRefusal.allCases.firstIndex(of: refusal) ?? 0] }

    /// The count of the flag with this code (`margin_warning`, `throttled`).
    public func count(flag code: String) -> Int {
        AccessFlags.codes.firstIndex { $0.code == code }.map { flags[$0] } ?? 0
    }

    mutating func refuse(_ refusal: AccessRefusal, at instant: Instant) {
        refusals[AccessRefusal.allCases.firstIndex(of: refusal) ?? 0] += 1
        if firstRefusal == nil { firstRefusal = (instant, refusal) }
    }

    mutating func flag(_ set: AccessFlags) {
        for (index, entry) in AccessFlags.codes.enumerated() where set.contains(entry.flag) { flags[index] += 1 }
    }

    public static func == (lhs: CustomerRequests, rhs: CustomerRequests) -> Bool {
        lhs.refusals == rhs.refusals && lhs.flags == rhs.flags && lhs.firstRefusal?.at == rhs.firstRefusal?.at
            && lhs.firstRefusal?.reason == rhs.firstRefusal?.reason
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(refusals) }
}
