import TallyPipeline
import Yams

/// Reads the request path's keys: a metric's `cost`, a plan's `spike_arrest` and `margin_guard`,
/// the scenario's `entitlement_cache`, and the `expect:` checks of refusals and flags.
struct RequestPathSection {
    let reader: NodeReader

    /// `cost: 0.00025`, or `cost: { by: model, values: { gpt-4o: 0.01 }, default: 0.001 }`.
    func unitCost(_ node: Node) -> UnitCost? {
        guard case .mapping = node else { return reader.decimal(node, "cost").map { .flat($0) } }
        guard let map = reader.mapping(node, "cost", allowed: ["by", "values", "default"]),
              let property = map.required("by", "the event property whose value picks the cost, like model").flatMap({ reader.string($0, "cost.by") }),
              let valuesNode = map.required("values", "a mapping of property value to unit cost") else { return nil }
        guard case .mapping(let values) = valuesNode else {
            reader.fail(valuesNode, "cost.values must map property values to unit costs, like { gpt-4o: 0.01 }")
            return nil
        }
        var costs: [(value: String, cost: ExactDecimal)] = []
        for (valueNode, costNode) in values {
            guard let value = reader.string(valueNode, "a property value"), let cost = reader.decimal(costNode, "the unit cost of \(value)") else { return nil }
            costs.append((value, cost))
        }
        guard let defaultCost = map.required("default", "the unit cost of a value not listed").flatMap({ reader.decimal($0, "cost.default") }) else { return nil }
        return .byProperty(PropertyCosts(property: property, costs: costs, defaultCost: defaultCost))
    }

    /// `spike_arrest: { rate: 30/s, burst: 5, metric: calls }`, or a list of them.
    func spikeArrests(_ node: Node) -> [SpikeArrest] {
        let items: [Node]
        if case .sequence = node { items = reader.sequence(node, "spike_arrest") ?? [] } else { items = [node] }
        return items.compactMap { item -> SpikeArrest? in
            guard let map = reader.mapping(item, "a spike arrest", allowed: ["rate", "burst", "metric"]),
                  let rateNode = map.required("rate", "requests per second or minute, like 30/s or 100/min"),
                  let text = reader.scalarText(rateNode, "rate", expected: "like 30/s or 100/min") else { return nil }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let rate = Int64(parts[0]), let unit = SpikeArrest.Unit(rawValue: String(parts[1])) else {
                reader.fail(rateNode, "rate is '\(text)', expected a whole number of requests per s or min, like 30/s or 100/min")
                return nil
            }
            let burst = map["burst"].flatMap { reader.integer($0, "burst", in: 1...Int(SpikeArrest.maxBurst)) }.map(Int64.init) ?? 1
            let metric = map["metric"].flatMap { reader.string($0, "spike_arrest.metric") }
            return SpikeArrest(rate: rate, unit: unit, burst: burst, metric: metric)
        }
    }

    /// `margin_guard: { warn_below: 20%, throttle_below: 10%, block_below: 0% }`; a level left out keeps the published one.
    func marginGuard(_ node: Node) -> MarginGuard? {
        guard let map = reader.mapping(node, "margin_guard", allowed: ["warn_below", "throttle_below", "block_below"]) else { return nil }
        var levels = MarginGuard.standard
        if let value = map["warn_below"].flatMap({ percent($0, "warn_below") }) { levels.warnBelow = value }
        if let value = map["throttle_below"].flatMap({ percent($0, "throttle_below") }) { levels.throttleBelow = value }
        if let value = map["block_below"].flatMap({ percent($0, "block_below") }) { levels.blockBelow = value }
        return levels
    }

    /// `20%` as the fraction 0.2 (a margin can be negative: `-5%`).
    func percent(_ node: Node, _ what: String) -> ExactDecimal? {
        guard let text = reader.scalarText(node, what, expected: "a percentage like 20%"), text.hasSuffix("%"),
              let value = ExactDecimal(String(text.dropLast())),
              let fraction = try? value.divided(by: 100, scale: value.scale + 2, .halfUp) else {
            reader.fail(node, "\(what) must be a percentage like 20% or 7.5%")
            return nil
        }
        return fraction
    }

    /// `entitlement_cache: { refresh: 10s }`.
    func entitlementCache(_ node: Node) -> TimeSpan? {
        guard let map = reader.mapping(node, "entitlement_cache", allowed: ["refresh"]),
              let refresh = map.required("refresh", "how often the gateway refetches a customer's standing, like 10s").flatMap({ reader.span($0, "entitlement_cache.refresh") }) else { return nil }
        guard refresh.milliseconds > 0 else {
            reader.fail(node, "entitlement_cache.refresh must be longer than 0; leave the key out for exact decisions")
            return nil
        }
        return refresh
    }

    /// `refused: { spike_arrested: 3 }` (counts by refusal reason).
    func refusalCounts(_ node: Node, _ what: String) -> [AccessRefusal: Int] {
        guard case .mapping(let mapping) = node else { reader.fail(node, "\(what) must map refusal reasons to counts"); return [:] }
        var counts: [AccessRefusal: Int] = [:]
        for (reasonNode, countNode) in mapping {
            if let reason = reader.choice(reasonNode, "a refusal reason", AccessRefusal.self),
               let count = reader.integer(countNode, "the expected count of \(reason.rawValue)") { counts[reason] = count }
        }
        return counts
    }

    /// `flagged: { margin_warning: 10, throttled: 5 }`.
    func flagCounts(_ node: Node, _ what: String) -> [String: Int] {
        guard case .mapping(let mapping) = node else { reader.fail(node, "\(what) must map flags to counts"); return [:] }
        var counts: [String: Int] = [:]
        let codes = AccessFlags.codes.map(\.code)
        for (flagNode, countNode) in mapping {
            guard let flag = reader.string(flagNode, "a flag") else { continue }
            guard codes.contains(flag) else { reader.fail(flagNode, "unknown flag '\(flag)', expected one of: \(codes.joined(separator: ", "))"); continue }
            if let count = reader.integer(countNode, "the expected count of \(flag)") { counts[flag] = count }
        }
        return counts
    }

    /// `requests_by_customer: { c1: { refused: {...}, flagged: {...}, first_refusal: 2026-01-01T00:00:01Z } }`.
    func customerExpectations(_ node: Node, catalog: Catalog) -> [String: CustomerRequestExpectations] {
        guard case .mapping(let mapping) = node else {
            reader.fail(node, "expect.requests_by_customer must map customer ids to { refused, flagged, first_refusal }")
            return [:]
        }
        var result: [String: CustomerRequestExpectations] = [:]
        for (customerNode, valueNode) in mapping {
            guard let customer = reader.string(customerNode, "a customer id") else { continue }
            if catalog.customer(customer) == nil { reader.fail(customerNode, "unknown customer '\(customer)' in expect.requests_by_customer") }
            guard let map = reader.mapping(valueNode, "the requests of \(customer)", allowed: ["refused", "flagged", "first_refusal"]) else { continue }
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
