import TallyJSON
import TallyPipeline

/// A request the service refuses, as the JSON error it answers: the status, a stable code,
/// the field at fault (`events[3].quantity`) and what was expected.
public struct APIError: Error, Sendable, Hashable {
    public var status: Int
    public var code: String
    public var field: String?
    public var message: String

    public init(status: Int, code: String, field: String? = nil, message: String) {
        self.status = status
        self.code = code
        self.field = field
        self.message = message
    }

    static func invalid(_ field: String?, _ message: String) -> APIError {
        APIError(status: 400, code: "invalid_request", field: field, message: message)
    }

    /// `{"error":{"code":...,"field":...,"message":...}}`.
    var json: String {
        var members: [(key: String, value: JSONValue)] = [("code", .string(code))]
        if let field { members.append(("field", .string(field))) }
        members.append(("message", .string(message)))
        return CanonicalJSON.write(.object(JSONObject([("error", .object(JSONObject(members)))])), pretty: false)
    }
}

/// The bounds on what one request may make the service read and hold.
public struct RequestLimits: Sendable {
    /// Bytes of a request body as sent (compressed or not), and after gzip decoding.
    public var maxBodyBytes = 16 << 20
    public var maxDecodedBytes = 64 << 20
    /// Events in one batch.
    public var maxBatchEvents = 10_000
    /// Characters of an id or a name (event_id, customer_id, metric, source, property keys and values).
    public var maxTextLength = Event.maxIDLength
    /// Properties of one event.
    public var maxProperties = 64

    public init() {}
}

/// One event of an ingest request, decoded and checked, with the instant it counts as received.
struct IngestItem: Sendable {
    var event: Event
    var receivedAt: Instant
}

/// Reads ingest and canAccess bodies strictly: unknown fields, wrong types and oversized
/// values are refused with the field named, and then nothing of the request is applied.
struct RequestDecoder {
    var limits: RequestLimits
    var principal: Principal
    /// The service's clock when the request arrived: the received-at of live events.
    var now: Instant

    static let eventFields: Set<String> = Set(Event.requiredFields + ["properties", "received_at"])

    /// `{"events": [event, ...]}`: flat events straight from the bytes (``FlatBatch``), others through the JSON tree.
    func batch(_ body: [UInt8]) throws(APIError) -> [IngestItem] {
        if let items = FlatBatch.items(body, decoder: self) { return items }
        return try treeBatch(body)
    }

    /// ``batch(_:)`` through the JSON tree: every body, and the errors that name the field.
    func treeBatch(_ body: [UInt8]) throws(APIError) -> [IngestItem] {
        guard case .object(let object) = try Self.parse(body) else {
            throw .invalid(nil, "the body must be a JSON object with an events list")
        }
        for member in object.members where member.key != "events" {
            throw .invalid(member.key, "unknown field, expected only events")
        }
        guard let value = object["events"] else { throw .invalid("events", "missing, expected a list of events") }
        guard case .array(let events) = value else { throw .invalid("events", "expected a list of events") }
        guard !events.isEmpty else {
            throw .invalid("events", "is empty, expected 1 to \(limits.maxBatchEvents) events")
        }
        guard events.count <= limits.maxBatchEvents else {
            throw .invalid("events", "has \(events.count) events, expected at most \(limits.maxBatchEvents)")
        }
        var items: [IngestItem] = []
        items.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            items.append(try item(event, path: "events[\(index)]."))
        }
        return items
    }

    /// One event, the body of `POST /v1/meter`.
    func single(_ body: [UInt8]) throws(APIError) -> IngestItem {
        try item(try Self.parse(body), path: "")
    }

    func item(_ value: JSONValue, path: String) throws(APIError) -> IngestItem {
        guard case .object(let object) = value else {
            throw .invalid(path.isEmpty ? nil : String(path.dropLast()), "expected an event object")
        }
        for member in object.members {
            guard Self.eventFields.contains(member.key) else {
                throw .invalid(
                    path + member.key, "unknown field, expected \(Self.eventFields.sorted().joined(separator: ", "))")
            }
            if case .string(let text) = member.value, text.count > limits.maxTextLength {
                throw .invalid(
                    path + member.key, "has \(text.count) characters, expected at most \(limits.maxTextLength)")
            }
        }
        if case .object(let properties)? = object["properties"] {
            guard properties.members.count <= limits.maxProperties else {
                throw .invalid(
                    path + "properties",
                    "has \(properties.members.count) entries, expected at most \(limits.maxProperties)")
            }
            for member in properties.members {
                if member.key.count > limits.maxTextLength {
                    throw .invalid(
                        path + "properties",
                        "a key has \(member.key.count) characters, expected at most \(limits.maxTextLength)")
                }
                if case .string(let text) = member.value, text.count > limits.maxTextLength {
                    throw .invalid(
                        path + "properties." + member.key,
                        "has \(text.count) characters, expected at most \(limits.maxTextLength)")
                }
            }
        }
        let event: Event
        do { event = try Event(json: value) } catch {
            throw .invalid(
                error.field.map { path + $0 } ?? (path.isEmpty ? nil : String(path.dropLast())), error.message)
        }
        guard event.tenant == principal.tenant else {
            throw APIError(
                status: 403, code: "forbidden", field: path + "tenant_id",
                message: "the key belongs to tenant '\(principal.tenant)', not '\(event.tenant.prefix(64))'")
        }
        return IngestItem(event: event, receivedAt: try receivedAt(object["received_at"], field: path + "received_at"))
    }

    /// A test-mode request's simulated instant; the service's clock otherwise.
    func receivedAt(_ value: JSONValue?, field: String) throws(APIError) -> Instant {
        guard let value else { return now }
        guard principal.mode == .test else {
            throw APIError(
                status: 400, code: "invalid_request", field: field,
                message: "only test-mode keys may set received_at; a live service stamps its own clock")
        }
        switch value {
        case .string(let text):
            do { return try Instant(iso8601: text) } catch { throw .invalid(field, error.message) }
        case .number(let text):
            guard let milliseconds = Int64(text) else {
                throw .invalid(field, "expected whole milliseconds since the epoch")
            }
            return Instant(millisecondsSinceEpoch: milliseconds)
        default:
            throw .invalid(field, "expected an ISO-8601 UTC time like 2026-01-03T10:00:00Z")
        }
    }

    /// `{"customer_id": ..., "metric": ..., "at": optional, test keys only}`.
    func access(_ body: [UInt8]) throws(APIError) -> (customer: String, metric: String, at: Instant) {
        guard case .object(let object) = try Self.parse(body) else {
            throw .invalid(nil, "the body must be a JSON object with customer_id and metric")
        }
        let allowed: Set<String> = ["customer_id", "metric", "at"]
        for member in object.members where !allowed.contains(member.key) {
            throw .invalid(member.key, "unknown field, expected customer_id, metric and (test keys only) at")
        }
        func text(_ name: String) throws(APIError) -> String {
            guard case .string(let text)? = object[name], !text.isEmpty else {
                throw .invalid(name, "expected a non-empty string")
            }
            guard text.count <= limits.maxTextLength else {
                throw .invalid(name, "has \(text.count) characters, expected at most \(limits.maxTextLength)")
            }
            return text
        }
        return (try text("customer_id"), try text("metric"), try receivedAt(object["at"], field: "at"))
    }

    static func parse(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do { return try JSONValue.parse(body) } catch {
            throw .invalid(nil, "malformed JSON at \(error.line):\(error.column): \(error.message)")
        }
    }
}
