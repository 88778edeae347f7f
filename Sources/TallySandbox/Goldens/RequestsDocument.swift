import TallyJSON
import TallyPipeline

/// `Fixtures/<name>/requests.json`, for a scenario with a request path: the gateway's decisions,
/// refusals by reason with the first request ids, flags, and each customer refused or flagged.
enum RequestsDocument {
    static func json(scenario: String, log: RequestLog, metered: Int) -> JSONValue {
        let counts = log.counts
        func number(_ n: Int) -> JSONValue { .number(String(n)) }
        let refused = InvoicesDocument.object(
            AccessRefusal.allCases.sorted().map { reason in
                (
                    reason.rawValue,
                    InvoicesDocument.object([
                        ("count", number(counts.count(reason))),
                        ("first_request_ids", .array((log.samples[reason] ?? []).map { .string($0) })),
                    ])
                )
            })
        let flagged = InvoicesDocument.object(AccessFlags.codes.map { ($0.code, number(counts.count($0.flag))) })
        let customers: [JSONValue] = log.customers.keys.sorted().compactMap { id in
            guard let customer = log.customers[id] else { return nil }
            var fields: [(String, JSONValue)] = [
                ("customer", .string(id)),
                (
                    "refused",
                    InvoicesDocument.object(
                        AccessRefusal.allCases.sorted().filter { customer.count($0) > 0 }
                            .map { ($0.rawValue, number(customer.count($0))) })
                ),
                (
                    "flagged",
                    InvoicesDocument.object(
                        AccessFlags.codes.filter { customer.count(flag: $0.code) > 0 }
                            .map { ($0.code, number(customer.count(flag: $0.code))) })
                ),
            ]
            if let first = customer.firstRefusal {
                fields.append(
                    (
                        "first_refusal",
                        InvoicesDocument.object([
                            ("at", .string(first.at.iso8601)), ("reason", .string(first.reason.rawValue)),
                        ])
                    ))
            }
            return InvoicesDocument.object(fields)
        }
        return InvoicesDocument.object([
            ("scenario", .string(scenario)),
            ("requests", number(counts.requests)),
            ("allowed", number(counts.allowed)),
            ("refused", refused),
            ("flagged", flagged),
            ("events_metered", number(metered)),
            ("customers", .array(customers)),
            ("balanced", .bool(counts.isBalanced)),
        ])
    }
}
