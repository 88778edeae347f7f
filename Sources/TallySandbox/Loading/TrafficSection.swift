import TallyCatalogFile
import TallyGateways
import TallyPipeline
import Yams

/// Reads what a scenario sends: generated traffic, explicit events and faults.
struct TrafficSection {
    let reader: NodeReader
    let catalog: Catalog

    func metric(_ node: Node) -> String? {
        guard let key = reader.string(node, "metric") else { return nil }
        guard catalog.metric(key) != nil else {
            reader.fail(
                node,
                "unknown metric '\(Escaped(key))', \(Catalog.expected(oneOf: catalog.metrics.map(\.key), section: "metrics"))"
            )
            return nil
        }
        return key
    }

    func traffic(_ node: Node) -> [Traffic] {
        guard let items = reader.sequence(node, "traffic") else { return [] }
        // Made once and shared by every traffic of all the customers: ten million ids are 160 MB.
        return items.compactMap { item in
            let keys = [
                "metric", "customers", "events", "quantity", "arrival", "spread", "source", "properties", "gateway",
                "delivery",
            ]
            guard let map = reader.mapping(item, "a traffic stream", allowed: keys) else { return nil }
            let metric = map.required("metric", "the metric the events report").flatMap(metric)
            let events = map.required("events", "how many events over the whole scenario").flatMap {
                reader.integer($0, "events", in: 0...10_000_000_000)
            }
            var customers: TrafficCustomers = []
            if let node = map["customers"],
                !(isScalar(node) && reader.scalarText(node, "customers", expected: "all or a list") == "all")
            {
                let ids = reader.strings(node, "customers") ?? []
                let itemNodes: [Node] = if case .sequence(let items) = node { Array(items) } else { [node] }
                for (offset, id) in ids.enumerated() where catalog.customer(id) == nil {
                    // Point at the list item itself, not at the whole list.
                    reader.fail(
                        offset < itemNodes.count ? itemNodes[offset] : node,
                        "unknown customer '\(Escaped(id))' in traffic, expected a customer of the scenario")
                }
                customers = .listed(ids)
            } else {
                customers = .all(catalog.customers)
            }
            if customers.isEmpty { reader.fail(item, "a traffic stream needs at least one customer") }
            let quantity = map["quantity"].map(quantity) ?? .constant(.one)
            let arrival = map["arrival"].flatMap { reader.choice($0, "arrival", ArrivalPattern.self) } ?? .uniform
            let spread = map["spread"].flatMap(spread) ?? .even
            let gateway = map["gateway"].flatMap { reader.choice($0, "gateway", Gateway.self) }
            let source = map["source"].flatMap { reader.string($0, "source") } ?? gateway?.rawValue ?? "sdk"
            if let gateway, source != gateway.rawValue, let node = map["source"] {
                reader.fail(
                    node,
                    "a \(gateway.rawValue) traffic's events come from \(gateway.rawValue): leave source out or set it to \(gateway.rawValue)"
                )
            }
            var properties: [(key: String, values: [String])] = []
            if let node = map["properties"] {
                if case .mapping(let mapping) = node {
                    for (key, value) in mapping {
                        guard let name = reader.string(key, "a property name"),
                            let values = reader.strings(value, "the values of \(name)")
                        else { continue }
                        if values.isEmpty { reader.fail(value, "property \(name) needs at least one value") }
                        properties.append((name, values))
                    }
                } else {
                    reader.fail(node, "properties must be a mapping of property name to a list of values")
                }
            }
            if let gateway, !properties.isEmpty, !gateway.carriesProperties, let node = map["properties"] {
                reader.fail(
                    node,
                    "\(gateway.rawValue) records carry no event properties (only kong's query string does), expected no properties"
                )
            }
            var delivery: Delivery?
            if let node = map["delivery"] {
                guard let read = DeliverySection(reader: reader).delivery(node, gateway: gateway) else { return nil }
                delivery = read
            }
            guard let metric, let events, let quantity else { return nil }
            var traffic = Traffic(
                metric: metric, customers: customers, events: events, quantity: quantity, arrival: arrival,
                spread: spread, source: source, properties: properties.sorted { $0.key < $1.key }, gateway: gateway)
            traffic.delivery = delivery
            return traffic
        }
    }

    func isScalar(_ node: Node) -> Bool {
        if case .scalar = node { return true }
        return false
    }

    /// `quantity: 1`, or `{ uniform: [1, 10] }`, `{ normal: [mean, stddev] }`, `{ log_normal: [mu, sigma] }`,
    /// `{ pareto: [scale, shape] }`, each with optional `decimals:`.
    func quantity(_ node: Node) -> QuantityDistribution? {
        if isScalar(node) { return reader.decimal(node, "quantity").map { .constant($0) } }
        guard
            let map = reader.mapping(
                node, "quantity", allowed: ["uniform", "normal", "log_normal", "pareto", "decimals"])
        else { return nil }
        let decimals = map["decimals"].flatMap { reader.integer($0, "decimals", in: 0...12) } ?? 0
        let kinds = ["uniform", "normal", "log_normal", "pareto"].filter(map.has)
        guard kinds.count == 1, let kind = kinds.first, let paramsNode = map[kind] else {
            reader.fail(
                node, "quantity needs exactly one of uniform, normal, log_normal or pareto, like { uniform: [1, 10] }")
            return nil
        }
        guard let items = reader.sequence(paramsNode, "quantity.\(kind)"), items.count == 2 else {
            if case .sequence = paramsNode {
                reader.fail(paramsNode, "quantity.\(kind) takes two numbers, like [1, 10]")
            }
            return nil
        }
        let negativeOK = kind == "log_normal"  // mu may be negative
        guard let a = reader.decimal(items[0], "quantity.\(kind)[0]", nonNegative: !negativeOK),
            let b = reader.decimal(items[1], "quantity.\(kind)[1]")
        else { return nil }
        switch kind {
        case "uniform":
            guard a <= b else {
                reader.fail(paramsNode, "uniform needs low <= high, got [\(a), \(b)]")
                return nil
            }
            return .uniform(low: a, high: b, decimals: decimals)
        case "normal": return .normal(mean: a, stddev: b, decimals: decimals)
        case "log_normal": return .logNormal(mu: a, sigma: b, decimals: decimals)
        default:
            guard a > .zero, b > .zero else {
                reader.fail(paramsNode, "pareto needs a scale and a shape above 0")
                return nil
            }
            return .pareto(scale: a, shape: b, decimals: decimals)
        }
    }

    func spread(_ node: Node) -> CustomerSpread? {
        if isScalar(node) {
            if reader.scalarText(node, "spread", expected: "even or { zipf: s }") == "even" { return .even }
            reader.fail(node, "spread must be even or { zipf: s }")
            return nil
        }
        guard let map = reader.mapping(node, "spread", allowed: ["zipf"]),
            let s = map.required("zipf", "the zipf exponent, like 1.1").flatMap({ reader.decimal($0, "zipf") })
        else { return nil }
        guard s > .zero, s <= 10 else {
            reader.fail(node, "the zipf exponent must be above 0 and at most 10, got \(s)")
            return nil
        }
        return .zipf(s)
    }

    func events(_ node: Node, tenant: String) -> [ExplicitEvent] {
        guard let items = reader.sequence(node, "events") else { return [] }
        return items.compactMap { item in
            let keys = ["id", "customer", "metric", "quantity", "at", "received", "source", "tenant", "properties"]
            guard let map = reader.mapping(item, "an event", allowed: keys) else { return nil }
            // Explicit events may name unknown customers or metrics on purpose: that is how a
            // scenario tests dead letters. So only their types are checked here.
            let id = map.required("id", "the event id").flatMap { reader.string($0, "id") }
            let customer = map.required("customer", "the customer id").flatMap { reader.string($0, "customer") }
            let metric = map.required("metric", "the metric").flatMap { reader.string($0, "metric") }
            let quantity = map["quantity"].flatMap { reader.decimal($0, "quantity", nonNegative: false) } ?? .one
            let at = map.required("at", "the event's timestamp").flatMap { reader.instant($0, "at") }
            let received = map["received"].flatMap { reader.instant($0, "received") }
            var properties = EventProperties()
            if let node = map["properties"] {
                if case .mapping(let mapping) = node {
                    for (key, value) in mapping {
                        if let name = reader.string(key, "a property name"),
                            let text = reader.scalarText(value, name, expected: "text")
                        {
                            properties[name] = text
                        }
                    }
                } else {
                    reader.fail(node, "properties must be a mapping of names to values")
                }
            }
            guard let id, let customer, let metric, let at else { return nil }
            let event = Event(
                id: id, tenant: map["tenant"].flatMap { reader.string($0, "tenant") } ?? tenant,
                customer: customer, metric: metric, quantity: quantity, timestamp: at,
                source: map["source"].flatMap { reader.string($0, "source") } ?? "sdk", properties: properties)
            return ExplicitEvent(event: event, receivedAt: received)
        }
    }

    func faults(_ node: Node, traffic: [Traffic]) -> [Fault] {
        guard let items = reader.sequence(node, "faults") else { return [] }
        let generated = traffic.reduce(0) { $0 + $1.events }
        var altered = 0
        var oneFaultTooBig = false
        let faults = items.compactMap { item -> Fault? in
            guard
                let map = reader.mapping(
                    item, "a fault", allowed: ["kind", "count", "fraction", "offset", "delay", "metric"]),
                let kind = map.required("kind", Fault.Kind.allCases.map(\.rawValue).joined(separator: ", ")).flatMap({
                    reader.choice($0, "kind", Fault.Kind.self)
                })
            else { return nil }
            var amount: Fault.Amount?
            switch (map["count"], map["fraction"]) {
            case (let count?, nil): amount = reader.integer(count, "count").map { .count($0) }
            case (nil, let fraction?): amount = reader.fraction(fraction, "fraction").map { .fraction($0) }
            case (_?, let fraction?): reader.fail(fraction, "a fault has either count or fraction, not both")
            case (nil, nil):
                reader.fail(item, "a fault needs count (how many events) or fraction (of the generated events)")
            }
            var offset = map["offset"].flatMap { reader.span($0, "offset") }
            if let delay = map["delay"] {
                if offset != nil { reader.fail(delay, "use offset or delay, not both") }
                offset = reader.span(delay, "delay")
            }
            if offset != nil && ![.clockSkew, .late, .tooOld].contains(kind) {
                reader.fail(
                    map["offset"] ?? map["delay"],
                    "\(kind.rawValue) takes no offset; only clock_skew, late and too_old do")
            }
            let metric = map["metric"].flatMap(metric)
            guard let amount else { return nil }
            let pool =
                metric.map { key in traffic.filter { $0.metric == key }.reduce(0) { $0 + $1.events } } ?? generated
            let count = amount.count(of: pool)
            if kind != .duplicate {
                altered = altered.addingReportingOverflow(count).overflow ? Int.max : altered + count
                if count > pool {
                    oneFaultTooBig = true
                    reader.fail(
                        item, "\(kind.rawValue) alters \(count) events, but the traffic it applies to has only \(pool)")
                }
            } else if count > 0 && pool == 0 {
                reader.fail(item, "duplicate re-sends generated events, but there is no generated traffic")
            } else if count > pool {
                reader.fail(
                    item,
                    "duplicate re-sends \(count) events, but the traffic it applies to has only \(pool); "
                        + "each generated event is re-sent at most once")
            }
            return Fault(kind: kind, amount: amount, offset: offset, metric: metric)
        }
        if altered > generated && faults.count == items.count && !oneFaultTooBig {
            reader.fail(
                node,
                "the faults alter \(altered) events in all, more than the \(generated) generated; each event takes at most one fault"
            )
        }
        return faults
    }
}

/// Reads a scenario's inline `expect:` checks.
struct ExpectSection {
    let reader: NodeReader
    let catalog: Catalog

    func expectations(_ node: Node, periods: Int) -> Expectations {
        var expectations = Expectations()
        guard
            let map = reader.mapping(
                node, "expect",
                allowed: [
                    "rejected", "dead_lettered", "accepted", "late", "invoice_total", "amount_due",
                    "refused", "flagged", "requests_by_customer", "reconciliation",
                ])
        else { return expectations }
        let requestPath = RequestPathSection(reader: reader)
        if let node = map["refused"] { expectations.refused = requestPath.refusalCounts(node, "expect.refused") }
        if let node = map["flagged"] { expectations.flagged = requestPath.flagCounts(node, "expect.flagged") }
        if let node = map["requests_by_customer"] {
            expectations.requestsByCustomer = requestPath.customerExpectations(node, catalog: catalog)
        }
        for key in ["rejected", "dead_lettered"] {
            guard let section = map[key] else { continue }
            guard case .mapping(let mapping) = section else {
                reader.fail(section, "expect.\(key) must map reason codes to counts")
                continue
            }
            for (reasonNode, countNode) in mapping {
                let disposition: OutcomeReason.Disposition = key == "rejected" ? .rejected : .deadLettered
                let allowed = OutcomeReason.allCases.filter { $0.disposition == disposition }
                guard
                    let reason = reader.choice(
                        reasonNode, "a \(key.replacingOccurrences(of: "_", with: "-")) reason", OutcomeReason.self)
                else { continue }
                guard allowed.contains(reason) else {
                    reader.fail(
                        reasonNode,
                        "\(reason.rawValue) is not a \(key.replacingOccurrences(of: "_", with: " ")) reason, expected one of: \(allowed.map(\.rawValue).joined(separator: ", "))"
                    )
                    continue
                }
                if let count = reader.integer(countNode, "the expected count of \(reason.rawValue)") {
                    expectations.outcomes[reason] = count
                }
            }
        }
        if let node = map["reconciliation"] {
            (expectations.reconciliation, expectations.reconciliationByCustomer) = DeliverySection(reader: reader)
                .expectations(node, catalog: catalog)
        }
        expectations.accepted = map["accepted"].flatMap { reader.integer($0, "expect.accepted") }
        expectations.late = map["late"].flatMap { reader.integer($0, "expect.late") }
        for (key, isInvoiceTotal) in [("invoice_total", true), ("amount_due", false)] {
            guard let section = map[key] else { continue }
            guard case .mapping(let mapping) = section else {
                reader.fail(section, "expect.\(key) must map customer ids to amounts")
                continue
            }
            for (customerNode, amountNode) in mapping {
                guard let customer = reader.string(customerNode, "a customer id") else { continue }
                if catalog.customer(customer) == nil {
                    reader.fail(customerNode, "unknown customer '\(Escaped(customer))' in expect.\(key)")
                }
                var amounts: [ExactDecimal] = []
                var perPeriod = false
                if case .sequence(let items) = amountNode {
                    perPeriod = true
                    amounts = items.compactMap { reader.decimal($0, "an expected amount") }
                    if items.count != periods {
                        reader.fail(
                            amountNode,
                            "expect.\(key).\(customer) lists \(items.count) amounts, expected one per period (\(periods))"
                        )
                    }
                } else if let amount = reader.decimal(amountNode, "expect.\(key).\(customer)") {
                    amounts = [amount]
                }
                if isInvoiceTotal {
                    expectations.invoiceTotals[customer] = amounts
                    expectations.invoiceTotalIsPerPeriod[customer] = perPeriod
                } else {
                    expectations.amountsDue[customer] = amounts
                    expectations.amountDueIsPerPeriod[customer] = perPeriod
                }
            }
        }
        return expectations
    }
}
