import TallyCatalogFile
import TallyPipeline
import Yams

extension RequestPathSection {
    /// `refused: { spike_arrested: 3 }` (counts by refusal reason).
    func refusalCounts(_ node: Node, _ what: String) -> [AccessRefusal: Int] {
        guard case .mapping(let mapping) = node else {
            reader.fail(node, "\(what) must map refusal reasons to counts")
            return [:]
        }
        var counts: [AccessRefusal: Int] = [:]
        for (reasonNode, countNode) in mapping {
            if let reason = reader.choice(reasonNode, "a refusal reason", AccessRefusal.self),
                let count = reader.integer(countNode, "the expected count of \(reason.rawValue)")
            {
                counts[reason] = count
            }
        }
        return counts
    }

    /// `flagged: { margin_warning: 10, throttled: 5 }`.
    func flagCounts(_ node: Node, _ what: String) -> [String: Int] {
        guard case .mapping(let mapping) = node else {
            reader.fail(node, "\(what) must map flags to counts")
            return [:]
        }
        var counts: [String: Int] = [:]
        let codes = AccessFlags.codes.map(\.code)
        for (flagNode, countNode) in mapping {
            guard let flag = reader.string(flagNode, "a flag") else { continue }
            guard codes.contains(flag) else {
                reader.fail(flagNode, "unknown flag '\(flag)', expected one of: \(codes.joined(separator: ", "))")
                continue
            }
            if let count = reader.integer(countNode, "the expected count of \(flag)") { counts[flag] = count }
        }
        return counts
    }

    /// `requests_by_customer: { c1: { refused: {...}, flagged: {...}, first_refusal: 2026-01-01T00:00:01Z } }`.
    func customerExpectations(_ node: Node, catalog: Catalog) -> [String: CustomerRequestExpectations] {
        guard case .mapping(let mapping) = node else {
            reader.fail(
                node, "expect.requests_by_customer must map customer ids to { refused, flagged, first_refusal }")
            return [:]
        }
        var result: [String: CustomerRequestExpectations] = [:]
        for (customerNode, valueNode) in mapping {
            guard let customer = reader.string(customerNode, "a customer id") else { continue }
            if catalog.customer(customer) == nil {
                reader.fail(customerNode, "unknown customer '\(customer)' in expect.requests_by_customer")
            }
            guard
                let map = reader.mapping(
                    valueNode, "the requests of \(customer)", allowed: ["refused", "flagged", "first_refusal"])
            else { continue }
            var expected = CustomerRequestExpectations()
            if let refused = map["refused"] { expected.refused = refusalCounts(refused, "refused") }
            if let flagged = map["flagged"] { expected.flagged = flagCounts(flagged, "flagged") }
            if let first = map["first_refusal"] {
                expected.checksFirstRefusal = true
                expected.firstRefusal = reader.isNull(first) ? nil : reader.instant(first, "first_refusal")
            }
            result[customer] = expected
        }
        return result
    }
}
