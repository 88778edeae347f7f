import Foundation
import TallyCatalogFile
import TallyGateways
import TallyPipeline
import Yams

/// Reads a scenario's `events_from:` list: event files, their formats and gateway mappings.
struct EventFilesSection {
    let reader: NodeReader
    let catalog: Catalog

    func inputs(_ node: Node) -> [EventFileInput] {
        guard let items = reader.sequence(node, "events_from") else { return [] }
        let folder = URL(fileURLWithPath: reader.file).deletingLastPathComponent()
        return items.compactMap { item in
            guard let map = reader.mapping(item, "an events_from entry", allowed: ["file", "format", "mapping"]) else {
                return nil
            }
            guard
                let name = map.required("file", "the event file's path, relative to the scenario")
                    .flatMap({ reader.string($0, "file") })
            else { return nil }
            let format = map["format"].flatMap { reader.choice($0, "format", RecordFormat.self) } ?? .jsonl
            var mapping: GatewayMapping?
            if let node = map["mapping"] {
                if let gateway = format.gateway {
                    mapping = self.mapping(node, defaults: gateway.defaultMapping)
                } else {
                    reader.fail(
                        node,
                        "mapping applies to gateway formats (\(Gateway.allCases.map(\.rawValue).joined(separator: ", "))), not to \(format.rawValue)"
                    )
                }
            }
            let path = name.hasPrefix("/") ? name : folder.appendingPathComponent(name).path
            // What `run` would refuse, `check` refuses here, at the entry: a file that cannot be read.
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue,
                FileManager.default.isReadableFile(atPath: path)
            else {
                reader.fail(
                    map["file"] ?? item,
                    "events_from: cannot read '\(Escaped(name))', expected a readable file (a path relative to the scenario's folder)"
                )
                return nil
            }
            return EventFileInput(
                path: path, name: name, format: format, mapping: mapping ?? format.gateway?.defaultMapping)
        }
    }

    static let mappingKeys = [
        "tenant", "customer", "event_id", "timestamp", "metric", "quantity", "status", "billable",
    ]

    /// A `mapping:` block over a gateway's defaults: each key a field path, `metric` also
    /// `{ constant: m }` or `{ field: f, rules: [{ exact|prefix: text, metric: m }] }`,
    /// `quantity: 1` or a field, `billable` a list of statuses (`200`, `200-299`, `2xx`).
    func mapping(_ node: Node, defaults: GatewayMapping) -> GatewayMapping? {
        guard let map = reader.mapping(node, "mapping", allowed: Self.mappingKeys) else { return nil }
        var mapping = defaults
        func path(_ key: String) -> FieldPath? {
            map[key].flatMap { reader.string($0, "mapping.\(key)") }.map { FieldPath($0) }
        }
        // `tenant: null`: the file is one tenant's, every record the scenario's whatever it says.
        if let node = map["tenant"], reader.isNull(node) {
            mapping.tenant = nil
        } else if let value = path("tenant") {
            mapping.tenant = value
        }
        if let value = path("customer") { mapping.customer = value }
        if let value = path("event_id") { mapping.eventID = value }
        if let value = path("timestamp") { mapping.timestamp = value }
        if let value = path("status") { mapping.status = value }
        if let node = map["quantity"] {
            let text = reader.scalarText(node, "mapping.quantity", expected: "1 or a numeric field's path")
            mapping.quantity = text == "1" ? nil : text.map { FieldPath($0) }
        }
        if let node = map["metric"] { mapping.metric = metric(node) ?? mapping.metric }
        if let node = map["billable"] {
            let items: [Node] = if case .sequence(let list) = node { Array(list) } else { [node] }
            var ranges: [ClosedRange<Int>] = []
            for item in items {
                guard let text = reader.scalarText(item, "a billable status", expected: "200, 200-299 or 2xx") else {
                    continue
                }
                if let range = Self.statuses(text) {
                    ranges.append(range)
                } else {
                    reader.fail(
                        item, "'\(text)' is not a status, expected 200, a range like 200-299, or a class like 2xx")
                }
            }
            mapping.billable = ranges
        }
        return mapping
    }

    private func metric(_ node: Node) -> MetricMapping? {
        if case .scalar = node {
            return reader.string(node, "mapping.metric").map { MetricMapping(field: FieldPath($0)) }
        }
        guard let map = reader.mapping(node, "mapping.metric", allowed: ["constant", "field", "rules"]) else {
            return nil
        }
        if let constant = map["constant"] {
            if map.has("field") || map.has("rules") {
                reader.fail(node, "mapping.metric has either constant or field (with rules), not both")
            }
            return knownMetric(constant).map { MetricMapping(constant: $0) }
        }
        guard
            let field = map.required("field", "the field whose value names the metric").flatMap({
                reader.string($0, "mapping.metric.field")
            })
        else { return nil }
        var rules: [MetricRule] = []
        for item in map["rules"].flatMap({ reader.sequence($0, "mapping.metric.rules") }) ?? [] {
            guard let rule = reader.mapping(item, "a metric rule", allowed: ["exact", "prefix", "metric"]) else {
                continue
            }
            guard let metric = rule.required("metric", "the metric the matching records bill").flatMap(knownMetric)
            else { continue }
            switch (
                rule["exact"].flatMap { reader.string($0, "exact") },
                rule["prefix"].flatMap { reader.string($0, "prefix") }
            ) {
            case (let exact?, nil): rules.append(MetricRule(.exact(exact), metric: metric))
            case (nil, let prefix?): rules.append(MetricRule(.prefix(prefix), metric: metric))
            default: reader.fail(item, "a metric rule has exact: or prefix:, one of them")
            }
        }
        return MetricMapping(field: FieldPath(field), rules: rules)
    }

    private func knownMetric(_ node: Node) -> String? {
        guard let key = reader.string(node, "metric") else { return nil }
        guard catalog.metric(key) != nil else {
            reader.fail(
                node, "unknown metric '\(key)', expected one of: \(catalog.metrics.map(\.key).joined(separator: ", "))")
            return nil
        }
        return key
    }

    /// `200`, `200-299` or `2xx` as a range of statuses.
    static func statuses(_ text: String) -> ClosedRange<Int>? {
        if text.count == 3, text.hasSuffix("xx"), let hundreds = Int(text.prefix(1)), (1...5).contains(hundreds) {
            return (hundreds * 100)...(hundreds * 100 + 99)
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let low = Int(parts[0]), let high = Int(parts[parts.count - 1]),
            (100...599).contains(low), (low...599).contains(high)
        else { return nil }
        return low...high
    }
}
