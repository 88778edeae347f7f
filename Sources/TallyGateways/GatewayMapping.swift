import TallyJSON
import TallyPipeline

/// Which fields of a gateway's log record give an event's fields, and which responses are billed.
///
/// Every gateway has defaults (``Gateway/defaultMapping``, tabled in Docs/Gateways.md);
/// a scenario's `mapping:` block replaces any of them.
public struct GatewayMapping: Sendable, Hashable {
    /// Where the tenant comes from; a record without it belongs to the scenario's tenant.
    public var tenant: FieldPath?
    /// The field holding the customer's id in the catalog, such as Kong's `consumer.username`.
    public var customer: FieldPath
    /// The idempotency key: the gateway's request id.
    public var eventID: FieldPath
    /// Whole milliseconds since the epoch (a number or digits) or an ISO-8601 UTC time.
    public var timestamp: FieldPath
    /// How a record names the metric it bills: a constant, or a field such as the route, translated by rules.
    public var metric: MetricMapping
    /// A numeric field such as response bytes; nil counts each request as 1.
    public var quantity: FieldPath?
    /// The HTTP status; nil bills every record.
    public var status: FieldPath?
    /// The statuses billed; default 200 to 299.
    public var billable: [ClosedRange<Int>]
    /// An object whose scalar members become the event's properties (Kong: the query string); nil for none.
    public var properties: FieldPath?

    /// Creates a mapping; the quantity defaults to 1 per request and the billed statuses to 200 to 299.
    public init(
        tenant: FieldPath?, customer: FieldPath, eventID: FieldPath, timestamp: FieldPath, metric: MetricMapping,
        quantity: FieldPath? = nil, status: FieldPath?, billable: [ClosedRange<Int>] = [200...299],
        properties: FieldPath? = nil
    ) {
        self.properties = properties
        self.tenant = tenant
        self.customer = customer
        self.eventID = eventID
        self.timestamp = timestamp
        self.metric = metric
        self.quantity = quantity
        self.status = status
        self.billable = billable
    }
}

/// How a record names its metric: a constant, or a field's value translated by rules.
public struct MetricMapping: Sendable, Hashable {
    /// Every record bills this metric.
    public var constant: String?
    /// The field whose value (a route, an API, a path) picks the metric.
    public var field: FieldPath?
    /// Rules that translate the field's value into a metric, tried in order; the first that matches names it.
    ///
    /// When none does, the value itself is the metric, without a leading `/` (so `/forecasts`
    /// bills `forecasts`), and a value the catalog does not know becomes an `unknown_metric`
    /// dead letter that can be replayed after a catalog fix.
    public var rules: [MetricRule]

    /// Creates a mapping from a constant metric, or from a field and its rules.
    public init(constant: String? = nil, field: FieldPath? = nil, rules: [MetricRule] = []) {
        self.constant = constant
        self.field = field
        self.rules = rules
    }

    /// The metric of a record whose field holds `value`.
    public func metric(for value: String) -> String {
        for rule in rules {
            switch rule.match {
            case .exact(let text) where value == text: return rule.metric
            case .prefix(let text) where value.hasPrefix(text): return rule.metric
            default: continue
            }
        }
        return value.hasPrefix("/") ? String(value.dropFirst()) : value
    }
}

/// One rule of a ``MetricMapping``: a value, exactly or by its start, and the metric it bills.
public struct MetricRule: Sendable, Hashable {
    /// How a rule compares the field's value with its text.
    public enum Match: Sendable, Hashable {
        /// The value equals the text, such as `/v1/ping`.
        case exact(String)
        /// The value starts with the text, such as `/v1/forecast` for `/v1/forecast/daily`.
        case prefix(String)
    }

    /// The values the rule applies to.
    public var match: Match
    /// The key of the metric a matching record bills.
    public var metric: String

    /// Creates a rule that bills `metric` for the values `match` accepts.
    public init(_ match: Match, metric: String) {
        self.match = match
        self.metric = metric
    }
}

/// A dotted path to a field of a JSON record: `request.headers.x-tenant-id`.
///
/// A key may itself hold dots (AWS access-log formats often use `identity.apiKey` as one key):
/// at each object the rest of the path is tried whole first, then split at each dot in turn.
/// Keys match exactly, or else ignoring ASCII case (HTTP header names are case-insensitive).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path as written, keys joined by dots.
    public let text: String

    /// Creates the path `text`, such as `consumer.username`.
    public init(_ text: String) { self.text = text }
    /// Creates the path a string literal spells, as the default mappings write them.
    public init(stringLiteral value: String) { text = value }

    /// The path as written, for messages.
    public var description: String { text }

    /// The value at this path in `record`, or nil when the record has none there.
    public func value(in record: JSONValue) -> JSONValue? {
        Self.resolve(record, text[...])
    }

    private static func resolve(_ value: JSONValue, _ rest: Substring) -> JSONValue? {
        guard case .object(let object) = value else { return nil }
        if let found = member(object, rest) { return found }
        var search = rest.startIndex
        while let dot = rest[search...].firstIndex(of: ".") {
            if let child = member(object, rest[..<dot]), let found = resolve(child, rest[rest.index(after: dot)...]) {
                return found
            }
            search = rest.index(after: dot)
        }
        return nil
    }

    private static func member(_ object: JSONObject, _ key: Substring) -> JSONValue? {
        for member in object.members where member.key.utf8.elementsEqual(key.utf8) { return member.value }
        for member in object.members
        where member.key.utf8.count == key.utf8.count
            && member.key.lowercased() == key.lowercased()
        {
            return member.value
        }
        return nil
    }
}

extension JSONValue {
    /// A scalar's text (a string, a number's digits, `true` or `false`); nil for null, arrays and objects.
    var scalarText: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }
}

/// The fields a mapping reads, one per role: where ``GatewayMapping`` keeps the path of each.
enum MappedField: Int, CaseIterable {
    case tenant, customer, eventID, timestamp, metric, quantity, status, properties
}

/// What a record holds at a mapped field's path.
enum MappedValue {
    /// Nothing at that path.
    case missing
    /// Null, an array or an object.
    case notScalar
    /// A string's text, a number's digits, `true` or `false`.
    case scalar(String)
}

/// A record's mapped fields, read from its parse tree or pulled straight from its bytes (``GatewayFieldScanner``).
protocol MappedFields {
    /// The value at the path the mapping gives `field`.
    func value(_ field: MappedField) -> MappedValue
    /// The scalar members of the object at the mapping's `properties` path, set in the record's order.
    func properties() -> EventProperties
}

extension GatewayMapping {
    /// Where this mapping reads `field` from; nil when it reads none (a constant metric, no status...).
    func path(_ field: MappedField) -> FieldPath? {
        switch field {
        case .tenant: tenant
        case .customer: customer
        case .eventID: eventID
        case .timestamp: timestamp
        case .metric: metric.constant == nil ? metric.field : nil
        case .quantity: quantity
        case .status: status
        case .properties: properties
        }
    }

    /// The event one gateway record reports, or why it is not billed or cannot be decoded.
    func decode(_ record: JSONValue, gateway: Gateway, tenant defaultTenant: String) -> DecodedRecord {
        func raw() -> String { DecodedRecord.raw(CanonicalJSON.write(record, pretty: false).utf8) }
        guard case .object = record else {
            return .undecodable(raw: raw(), problem: "expected a \(gateway.rawValue) log record, a JSON object")
        }
        do {
            return try decode(TreeFields(record: record, mapping: self), gateway: gateway, tenant: defaultTenant)
        } catch {
            return .undecodable(raw: raw(), problem: error.message)
        }
    }

    /// The event a record's mapped fields report or whether it is billed; throws what is wrong with it.
    ///
    /// Thrown rather than returned in a `Result`: the record, 129 bytes, is then returned in place
    /// instead of being copied in and out of the `Result`.
    func decode(
        _ record: some MappedFields, gateway: Gateway, tenant defaultTenant: String
    ) throws(RecordProblem) -> DecodedRecord {
        if let status {
            guard case .scalar(let text) = record.value(.status), let code = Int(text) else {
                throw RecordProblem("\(status): missing or not an HTTP status, expected a number like 200")
            }
            if !billable.contains(where: { $0.contains(code) }) { return .notBilled(status: code) }
        }
        func text(_ field: MappedField, _ path: FieldPath, _ what: String) throws(RecordProblem) -> String {
            switch record.value(field) {
            case .missing: throw RecordProblem("\(path): missing, expected \(what)")
            case .scalar(let text) where !text.isEmpty: return text
            default: throw RecordProblem("\(path): is empty or not text, expected \(what)")
            }
        }
        let id = try text(.eventID, eventID, "the request id")
        if id.count > Event.maxIDLength {
            throw RecordProblem("\(eventID): has \(id.count) characters, expected 1 to \(Event.maxIDLength)")
        }
        let customer = try text(.customer, self.customer, "the customer")
        let metric: String
        if let constant = self.metric.constant {
            metric = constant
        } else if let field = self.metric.field {
            metric = self.metric.metric(for: try text(.metric, field, "the value that names the metric"))
        } else {
            throw RecordProblem("the mapping names no metric")
        }
        let timestamp = try instant(record.value(.timestamp))
        var quantity = ExactDecimal.one
        if let field = self.quantity {
            var value = try text(.quantity, field, "a decimal quantity")
            let parsed = value.withUTF8 { bytes in
                Result { () throws(DecimalParseError) in try ExactDecimal(utf8: bytes) }
            }
            switch parsed {
            case .success(let decimal): quantity = decimal
            case .failure(let error):
                throw RecordProblem("\(field): \"\(value.prefix(40))\" is not a plain decimal: \(error.message)")
            }
        }
        var tenant = defaultTenant
        if self.tenant != nil, case .scalar(let text) = record.value(.tenant), !text.isEmpty { tenant = text }
        let properties = self.properties == nil ? EventProperties() : record.properties()
        return .event(
            Event(
                id: id, tenant: tenant, customer: customer, metric: metric, quantity: quantity,
                timestamp: timestamp, source: gateway.rawValue, properties: properties),
            receivedAt: nil)
    }

    private func instant(_ value: MappedValue) throws(RecordProblem) -> Instant {
        let what = "milliseconds since the epoch or an ISO-8601 UTC time like 2026-01-03T10:00:00Z"
        guard case .scalar(let text) = value, !text.isEmpty else {
            throw RecordProblem("\(timestamp): missing, expected \(what)")
        }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let milliseconds = Int64(text) else {
                throw RecordProblem("\(timestamp): \(text.prefix(40)) is out of range")
            }
            return Instant(millisecondsSinceEpoch: milliseconds)
        }
        do { return try Instant(iso8601: Self.millisecondPrecision(text)) } catch {
            throw RecordProblem(
                "\(timestamp): '\(text.prefix(40))' is neither \(what)"
                    .replacingOccurrences(of: "since the epoch or", with: "since the epoch nor"))
        }
    }

    /// `2026-03-01T10:00:00.1234567Z` (Azure writes seven digits) as `2026-03-01T10:00:00.123Z`:
    /// Tally's instants are whole milliseconds, so finer digits are dropped.
    static func millisecondPrecision(_ text: String) -> String {
        guard text.hasSuffix("Z"), let dot = text.firstIndex(of: ".") else { return text }
        let digits = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard digits.count != 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return text }
        let kept = digits.prefix(3)
        return String(text[...dot]) + kept + String(repeating: "0", count: 3 - kept.count) + "Z"
    }
}

/// A record's mapped fields read from its parse tree, through ``FieldPath/value(in:)``.
private struct TreeFields: MappedFields {
    let record: JSONValue
    let mapping: GatewayMapping

    func value(_ field: MappedField) -> MappedValue {
        guard let path = mapping.path(field), let value = path.value(in: record) else { return .missing }
        return value.scalarText.map { .scalar($0) } ?? .notScalar
    }

    func properties() -> EventProperties {
        var properties = EventProperties()
        if let path = mapping.properties, case .object(let members)? = path.value(in: record) {
            // Scalars only: a repeated query parameter (an array) names no one value.
            for member in members.members {
                if let text = member.value.scalarText { properties[member.key] = text }
            }
        }
        return properties
    }
}
