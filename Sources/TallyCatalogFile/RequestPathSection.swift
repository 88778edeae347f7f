import TallyPipeline
import Yams

/// Reads the request path's keys: a metric's `cost`, a plan's `spike_arrest` and `margin_guard`,
/// and the scenario's `entitlement_cache` (the sandbox adds the `expect:` checks of refusals and flags).
package struct RequestPathSection {
    package let reader: NodeReader

    package init(reader: NodeReader) {
        self.reader = reader
    }

    /// `cost: 0.00025`, or `cost: { by: model, values: { gpt-4o: 0.01 }, default: 0.001 }`.
    package func unitCost(_ node: Node) -> UnitCost? {
        guard case .mapping = node else { return reader.decimal(node, "cost").map { .flat($0) } }
        guard let map = reader.mapping(node, "cost", allowed: ["by", "values", "default"]),
            let property = map.required("by", "the event property whose value picks the cost, like model").flatMap({
                reader.string($0, "cost.by")
            }),
            let valuesNode = map.required("values", "a mapping of property value to unit cost")
        else { return nil }
        guard case .mapping(let values) = valuesNode else {
            reader.fail(valuesNode, "cost.values must map property values to unit costs, like { gpt-4o: 0.01 }")
            return nil
        }
        var costs: [(value: String, cost: ExactDecimal)] = []
        for (valueNode, costNode) in values {
            guard let value = reader.string(valueNode, "a property value"),
                let cost = reader.decimal(costNode, "the unit cost of \(value)")
            else { return nil }
            costs.append((value, cost))
        }
        guard
            let defaultCost = map.required("default", "the unit cost of a value not listed").flatMap({
                reader.decimal($0, "cost.default")
            })
        else { return nil }
        return .byProperty(PropertyCosts(property: property, costs: costs, defaultCost: defaultCost))
    }

    /// `spike_arrest: { rate: 30/s, burst: 5, metric: calls }`, or a list of them.
    package func spikeArrests(_ node: Node) -> [SpikeArrest] {
        let items: [Node]
        if case .sequence = node { items = reader.sequence(node, "spike_arrest") ?? [] } else { items = [node] }
        return items.compactMap { item -> SpikeArrest? in
            guard let map = reader.mapping(item, "a spike arrest", allowed: ["rate", "burst", "metric"]),
                let rateNode = map.required("rate", "requests per second or minute, like 30/s or 100/min"),
                let text = reader.scalarText(rateNode, "rate", expected: "like 30/s or 100/min")
            else { return nil }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let rate = Int64(parts[0]), let unit = SpikeArrest.Unit(rawValue: String(parts[1]))
            else {
                reader.fail(
                    rateNode,
                    "rate is '\(text)', expected a whole number of requests per s or min, like 30/s or 100/min")
                return nil
            }
            let burst =
                map["burst"].flatMap { reader.integer($0, "burst", in: 1...Int(SpikeArrest.maxBurst)) }.map(Int64.init)
                ?? 1
            let metric = map["metric"].flatMap { reader.string($0, "spike_arrest.metric") }
            return SpikeArrest(rate: rate, unit: unit, burst: burst, metric: metric)
        }
    }

    /// `margin_guard: { warn_below: 20%, throttle_below: 10%, block_below: 0% }`; a level left out keeps the published one.
    package func marginGuard(_ node: Node) -> MarginGuard? {
        guard let map = reader.mapping(node, "margin_guard", allowed: ["warn_below", "throttle_below", "block_below"])
        else { return nil }
        var levels = MarginGuard.standard
        if let value = map["warn_below"].flatMap({ percent($0, "warn_below") }) { levels.warnBelow = value }
        if let value = map["throttle_below"].flatMap({ percent($0, "throttle_below") }) { levels.throttleBelow = value }
        if let value = map["block_below"].flatMap({ percent($0, "block_below") }) { levels.blockBelow = value }
        return levels
    }

    /// `20%` as the fraction 0.2 (a margin can be negative: `-5%`).
    package func percent(_ node: Node, _ what: String) -> ExactDecimal? {
        guard let text = reader.scalarText(node, what, expected: "a percentage like 20%"), text.hasSuffix("%"),
            let value = ExactDecimal(String(text.dropLast())),
            let fraction = try? value.divided(by: 100, scale: value.scale + 2, .halfUp)
        else {
            reader.fail(node, "\(what) must be a percentage like 20% or 7.5%")
            return nil
        }
        return fraction
    }

    /// `entitlement_cache: { refresh: 10s }`.
    package func entitlementCache(_ node: Node) -> TimeSpan? {
        guard let map = reader.mapping(node, "entitlement_cache", allowed: ["refresh"]),
            let refresh = map.required("refresh", "how often the gateway refetches a customer's standing, like 10s")
                .flatMap({ reader.span($0, "entitlement_cache.refresh") })
        else { return nil }
        guard refresh.milliseconds > 0 else {
            reader.fail(node, "entitlement_cache.refresh must be longer than 0; leave the key out for exact decisions")
            return nil
        }
        return refresh
    }
}
