import TallyJSON
import TallyPipeline

/// The five API gateways whose own log records Tally reads and writes.
///
/// Each has a file in Gateways/ with its record layout: the defaults of its
/// ``GatewayMapping``, the envelopes its records arrive in, and the record it writes
/// for an event (what `tally generate --format` and a `gateway:` traffic produce).
public enum Gateway: String, CaseIterable, Sendable, Hashable {
    case kong, aws, azure, apigee, mulesoft

    private var layout: any GatewayLayout.Type {
        switch self {
        case .kong: KongLayout.self
        case .aws: AWSLayout.self
        case .azure: AzureLayout.self
        case .apigee: ApigeeLayout.self
        case .mulesoft: MuleSoftLayout.self
        }
    }

    /// Where the gateway's records keep each field of an event, by default.
    public var defaultMapping: GatewayMapping { layout.defaultMapping }

    /// The numeric field the writer puts an event's quantity in (response bytes): mapping
    /// `quantity:` to it reads back the quantities of generated records.
    public var quantityField: FieldPath { layout.quantityField }

    /// The records of one line: itself, or those of the batch or envelope it is.
    public func records(in document: JSONValue) throws(RecordProblem) -> [JSONValue] {
        try layout.records(in: document)
    }

    /// The log record the gateway writes for a request that reported `event` and was answered `status`.
    public func record(for event: Event, status: Int = 200) -> JSONValue {
        layout.record(for: event, status: status)
    }

    /// Top-level keys that make a line an envelope of records rather than one record.
    var envelopeKeys: [String] { layout.envelopeKeys }

    /// Whether the gateway's records carry an event's properties (Kong's query string); the others drop them.
    public var carriesProperties: Bool { defaultMapping.properties != nil }

    /// The mapping that reads back what ``record(for:status:)`` wrote: the defaults, the quantity from ``quantityField``.
    public var writtenMapping: GatewayMapping {
        var mapping = defaultMapping
        mapping.quantity = quantityField
        return mapping
    }

    /// The event a record written for `event` reads back as, through the same decoder a log file goes through;
    /// nil if it does not (which a test rules out for every gateway).
    public func readBack(_ event: Event, tenant: String) -> Event? {
        if case .event(let decoded, _) = writtenMapping.decode(record(for: event), gateway: self, tenant: tenant) {
            return decoded
        }
        return nil
    }

    /// A CloudWatch Logs subscription envelope as a line, newline included: `{"awslogs":{"data":...}}`, the
    /// base64 of the gzip of one `DATA_MESSAGE` whose `logEvents` hold `messages` (AWS access-log records' text).
    public static func cloudWatchEnvelopeLine(_ messages: [(text: String, timestamp: Instant)]) -> String {
        CanonicalJSON.write(AWSLayout.envelope(messages: messages), pretty: false)
    }

    /// One record as a line of its log file, newline included.
    public func line(for event: Event, status: Int = 200) -> String {
        // The compact canonical text already ends in its newline.
        CanonicalJSON.write(record(for: event, status: status), pretty: false)
    }
}

/// One gateway's record layout (see ``Gateway``).
protocol GatewayLayout {
    static var defaultMapping: GatewayMapping { get }
    static var quantityField: FieldPath { get }
    static func records(in document: JSONValue) throws(RecordProblem) -> [JSONValue]
    static func record(for event: Event, status: Int) -> JSONValue
    /// Top-level keys that make a line an envelope of records rather than a record.
    static var envelopeKeys: [String] { get }
}

extension GatewayLayout {
    static var envelopeKeys: [String] { [] }

    /// A line holding one record, or an array of them (a batch).
    static func records(in document: JSONValue) throws(RecordProblem) -> [JSONValue] {
        if case .array(let items) = document { return items }
        return [document]
    }
}

/// Decodes a gateway's log lines: JSON, its envelope or batch unwrapped, each record mapped to an event.
///
/// A line that is one plain record is scanned for its mapped fields alone (``GatewayFieldScanner``);
/// any other line, or one whose record has a problem, is parsed into a tree, which decides.
/// A class, so that reading a line passes one reference rather than copying the mapping.
final class GatewayDecoder: LineDecoder {
    let gateway: Gateway
    let mapping: GatewayMapping
    let tenant: String
    private let scanner: GatewayFieldScanner?

    /// A decoder of `gateway`'s lines; `scanning: false` parses every line into a tree (for comparing the two).
    init(gateway: Gateway, mapping: GatewayMapping, tenant: String, scanning: Bool = true) {
        self.gateway = gateway
        self.mapping = mapping
        self.tenant = tenant
        scanner = scanning ? GatewayFieldScanner(mapping: mapping, envelopeKeys: gateway.envelopeKeys) : nil
    }

    func decodeSingle(
        _ line: UnsafeBufferPointer<UInt8>, orInto records: inout [DecodedRecord]
    ) -> DecodedRecord? {
        if let record = scannedRecord(line) { return record }
        decodeTree(line, into: &records)
        return nil
    }

    /// The record of a line the scanner reads and whose record has no problem; nil when the tree must decide.
    func scannedRecord(_ line: UnsafeBufferPointer<UInt8>) -> DecodedRecord? {
        guard let fields = scanner?.fields(line) else { return nil }
        return try? mapping.decode(fields, gateway: gateway, tenant: tenant)
    }

    func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        if let record = decodeSingle(line, orInto: &records) { records.append(record) }
    }

    /// The line parsed into a tree, its envelope or batch unwrapped, each record mapped.
    func decodeTree(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        let document: JSONValue
        do { document = try JSONValue.parse(line) } catch {
            records.append(.undecodable(raw: DecodedRecord.raw(line), problem: error.inLine))
            return
        }
        let items: [JSONValue]
        do { items = try gateway.records(in: document) } catch {
            records.append(.undecodable(raw: DecodedRecord.raw(line), problem: error.message))
            return
        }
        var isBatch = items.count > 1
        if case .array = document { isBatch = true }
        for (index, item) in items.enumerated() {
            var record = mapping.decode(item, gateway: gateway, tenant: tenant)
            if isBatch, case .undecodable(let raw, let problem) = record {
                record = .undecodable(raw: raw, problem: "record \(index + 1) of \(items.count): \(problem)")
            }
            records.append(record)
        }
    }
}

extension JSONValue {
    /// An object from members in the order given (the writer sorts keys).
    static func object(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.key, value: $0.value) }))
    }
}
