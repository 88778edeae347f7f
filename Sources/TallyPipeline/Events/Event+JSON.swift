import TallyJSON

/// Why a JSON document is not a valid event: the `schema_invalid` detail.
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault (`quantity`), or nil when the document itself is bad.
    public let field: String?
    /// What is wrong and what was expected, such as `is empty, expected a non-empty string`.
    public let message: String

    /// The field and the message, as `quantity: is "abc", expected a decimal number`.
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

extension Event {
    /// The wire names of the seven required fields, in the order they are checked.
    public static let requiredFields = [
        "event_id", "tenant_id", "customer_id", "metric", "quantity", "timestamp", "source",
    ]

    /// Decodes one event from a JSON object.
    ///
    /// `quantity` is a JSON number or a string holding a plain decimal, read from
    /// its text (never through a binary float). `timestamp` is an ISO-8601 UTC
    /// string or whole milliseconds since the epoch. `properties` is an object
    /// whose values are strings (numbers and booleans are kept as their text).
    public init(json: JSONValue) throws(EventDecodingError) {
        guard case .object(let object) = json else {
            throw EventDecodingError(
                field: nil,
                message: "expected a JSON object with the fields \(Event.requiredFields.joined(separator: ", "))")
        }
        func string(_ field: String) throws(EventDecodingError) -> String {
            guard let value = object[field] else {
                throw EventDecodingError(field: field, message: "missing, expected a non-empty string")
            }
            guard case .string(let text) = value else {
                throw EventDecodingError(field: field, message: "is \(value.kind), expected a non-empty string")
            }
            guard !text.isEmpty else {
                throw EventDecodingError(field: field, message: "is empty, expected a non-empty string")
            }
            return text
        }
        let id = try string("event_id")
        if id.utf8.count > Event.maxIDLength, id.count > Event.maxIDLength {
            throw EventDecodingError(
                field: "event_id", message: "has \(id.count) characters, expected 1 to \(Event.maxIDLength)")
        }
        let tenant = try string("tenant_id")
        let customer = try string("customer_id")
        let metric = try string("metric")
        let quantity: ExactDecimal
        switch object["quantity"] {
        case .number(let text), .string(let text):
            do { quantity = try ExactDecimal(parsing: text) } catch {
                throw EventDecodingError(
                    field: "quantity", message: "\"\(text.prefix(40))\" is not a finite plain decimal: \(error.message)"
                )
            }
        case nil:
            throw EventDecodingError(field: "quantity", message: "missing, expected a decimal number")
        case let other?:
            throw EventDecodingError(field: "quantity", message: "is \(other.kind), expected a decimal number")
        }
        let timestamp: Instant
        switch object["timestamp"] {
        case .string(let text):
            do { timestamp = try Instant(iso8601: text) } catch {
                throw EventDecodingError(field: "timestamp", message: error.message)
            }
        case .number(let text):
            guard let milliseconds = Int64(text) else {
                throw EventDecodingError(
                    field: "timestamp", message: "\(text.prefix(40)) is not whole milliseconds since the epoch")
            }
            timestamp = Instant(millisecondsSinceEpoch: milliseconds)
        case nil:
            throw EventDecodingError(
                field: "timestamp", message: "missing, expected an ISO-8601 UTC time like 2026-01-03T10:00:00Z")
        case let other?:
            throw EventDecodingError(field: "timestamp", message: "is \(other.kind), expected an ISO-8601 UTC time")
        }
        let source = try string("source")
        var properties = EventProperties()
        switch object["properties"] {
        case nil, .null?:
            break
        case .object(let members)?:
            for (key, value) in members.members {
                switch value {
                case .string(let text), .number(let text): properties[key] = text
                case .bool(let flag): properties[key] = flag ? "true" : "false"
                default:
                    throw EventDecodingError(field: "properties.\(key)", message: "is \(value.kind), expected a string")
                }
            }
        case let other?:
            throw EventDecodingError(field: "properties", message: "is \(other.kind), expected an object of strings")
        }
        self.init(
            id: id, tenant: tenant, customer: customer, metric: metric, quantity: quantity,
            timestamp: timestamp, source: source, properties: properties)
    }

    /// The event as a JSON object with the wire field names.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("event_id", .string(id)), ("tenant_id", .string(tenant)), ("customer_id", .string(customer)),
            ("metric", .string(metric)), ("quantity", .number(quantity.description)),
            ("timestamp", .string(timestamp.iso8601)), ("source", .string(source)),
        ]
        if !properties.isEmpty {
            members.append(
                ("properties", .object(JSONObject(properties.map { (key: $0.key, value: JSONValue.string($0.value)) })))
            )
        }
        return .object(JSONObject(members))
    }
}

extension JSONValue {
    /// "a number", "an object"...: the kind of a value, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension Meter {
    /// Meters one JSON document (one line of JSON Lines): an event, or a
    /// `schema_invalid` dead letter that keeps the text and names the field at fault.
    @discardableResult
    public mutating func ingest(json text: String, receivedAt: Instant) -> MeteringOutcome {
        let event: Event
        do {
            event = try Event(json: try JSONValue.parse(text))
        } catch let error as JSONError {
            return ingestUndecodable(text, problem: "malformed JSON: \(error)", receivedAt: receivedAt)
        } catch let error as EventDecodingError {
            return ingestUndecodable(text, problem: error.description, receivedAt: receivedAt)
        } catch {
            return ingestUndecodable(text, problem: "\(error)", receivedAt: receivedAt)
        }
        return ingest(event, receivedAt: receivedAt)
    }
}
