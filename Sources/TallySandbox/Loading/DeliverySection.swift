import TallyCatalogFile
import TallyGateways
import TallyPipeline
import Yams

/// Reads a traffic's `delivery:` and the `expect: reconciliation:` checks.
struct DeliverySection {
    let reader: NodeReader

    static let keys = [
        "batch", "flush", "lag", "retry_failed_batches", "failed_flushes", "outages", "spill_to_disk",
    ]

    /// `{ batch: 100, flush: 5s, lag: 2s..5s, retry_failed_batches: true, failed_flushes: [...],
    /// outages: [{ from: T, to: T }], spill_to_disk: true }`, each key defaulting to the gateway's.
    func delivery(_ node: Node, gateway: Gateway?) -> Delivery? {
        guard let map = reader.mapping(node, "delivery", allowed: DeliverySection.keys) else { return nil }
        var delivery = Delivery.defaults(for: gateway)
        var valid = true
        func read<T>(_ key: String, _ parse: (Node) -> T?, into value: inout T) {
            guard let node = map[key] else { return }
            if let read = parse(node) { value = read } else { valid = false }
        }
        read("batch", { reader.integer($0, "delivery.batch", in: 1...100_000) }, into: &delivery.batch)
        read("flush", { reader.span($0, "delivery.flush") }, into: &delivery.flush)
        read("lag", lag, into: &delivery.lag)
        read(
            "retry_failed_batches", { reader.bool($0, "delivery.retry_failed_batches") },
            into: &delivery.retryFailedBatches)
        read("spill_to_disk", { reader.bool($0, "delivery.spill_to_disk") }, into: &delivery.spillToDisk)
        read("failed_flushes", { windows($0, "delivery.failed_flushes") }, into: &delivery.failedFlushes)
        read("outages", { windows($0, "delivery.outages") }, into: &delivery.outages)
        if delivery.flush.milliseconds < 0, let node = map["flush"] {
            reader.fail(node, "delivery.flush must be 0 or more")
            valid = false
        }
        return valid ? delivery : nil
    }

    /// `3s`, or a range `2s..5s` drawn from uniformly per batch.
    private func lag(_ node: Node) -> ClosedRange<Int64>? {
        guard let text = reader.scalarText(node, "delivery.lag", expected: "a duration like 3s or a range like 2s..5s")
        else { return nil }
        let parts = text.components(separatedBy: "..")
        var bounds: [Int64] = []
        for part in parts {
            do { bounds.append(try TimeSpan(parsing: part.trimmingCharacters(in: .whitespaces)).milliseconds) } catch {
                reader.fail(node, "delivery.lag: \(error.message), expected a duration like 3s or a range like 2s..5s")
                return nil
            }
        }
        guard bounds.count <= 2, let low = bounds.first, let high = bounds.last, low >= 0, low <= high,
            high <= TimeSpan.days(1).milliseconds
        else {
            reader.fail(
                node, "delivery.lag must be a duration or a range low..high with 0 <= low <= high <= 1d, got \(text)")
            return nil
        }
        return low...high
    }

    /// A list of `{ from: T, to: T }` with from before to.
    private func windows(_ node: Node, _ what: String) -> [Delivery.Window]? {
        guard let items = reader.sequence(node, what) else { return nil }
        var windows: [Delivery.Window] = []
        for item in items {
            guard let map = reader.mapping(item, "a window of \(what)", allowed: ["from", "to"]),
                let from = map.required("from", "when it starts (UTC)").flatMap({ reader.instant($0, "from") }),
                let to = map.required("to", "when it ends (UTC)").flatMap({ reader.instant($0, "to") })
            else { return nil }
            guard from < to else {
                reader.fail(item, "\(what): from must be before to, got \(from) and \(to)")
                return nil
            }
            windows.append(Delivery.Window(from: from, to: to))
        }
        return windows
    }

    /// `reconciliation: { served: 2880, lost_in_delivery: 60, customers: { acme: { metered: 1400 } } }`.
    func expectations(_ node: Node, catalog: Catalog) -> (total: [String: Int], customers: [String: [String: Int]]) {
        let fields = DeliveryReconciliation.Line().fields.map(\.name)
        guard let map = reader.mapping(node, "expect.reconciliation", allowed: fields + ["customers"]) else {
            return ([:], [:])
        }
        func figures(_ map: YAMLMapping, _ what: String) -> [String: Int] {
            var figures: [String: Int] = [:]
            for field in fields {
                guard let node = map[field] else { continue }
                let range = field == "delta" ? Int.min...Int.max : 0...Int.max
                if let value = reader.integer(node, "\(what).\(field)", in: range) { figures[field] = value }
            }
            return figures
        }
        let total = figures(map, "expect.reconciliation")
        var customers: [String: [String: Int]] = [:]
        if let node = map["customers"] {
            guard case .mapping(let mapping) = node else {
                reader.fail(node, "expect.reconciliation.customers must map customer ids to figures")
                return (total, [:])
            }
            for (customerNode, valueNode) in mapping {
                guard let customer = reader.string(customerNode, "a customer id") else { continue }
                if catalog.customer(customer) == nil {
                    reader.fail(customerNode, "unknown customer '\(customer)' in expect.reconciliation.customers")
                }
                let what = "expect.reconciliation.customers.\(customer)"
                if let map = reader.mapping(valueNode, what, allowed: fields) {
                    customers[customer] = figures(map, what)
                }
            }
        }
        return (total, customers)
    }
}
