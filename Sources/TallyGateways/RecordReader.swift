import TallyJSON
import TallyPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an event file record by record, in the file's order, through a ``LineReader``.
///
/// Each line is decoded by the file's format into one record or, for a gateway's
/// batch or envelope, several. A record that cannot be decoded becomes
/// ``DecodedRecord/undecodable(raw:problem:)`` whose problem starts `file:line:`.
/// Nothing is skipped but blank lines.
public final class RecordReader {
    /// The file's format, which picks the decoder of its lines.
    public let format: RecordFormat
    /// The name used in problems: the path as the scenario wrote it.
    public let displayName: String
    private let lines: LineReader
    private var decoder: any LineDecoder
    // The decoders of Tally's JSON lines and of gateways' lines are called directly rather than
    // through `decoder`: neither keeps state from line to line, and called as they are, they cost
    // neither an existential's call nor the exclusivity checks of mutating `decoder` in place.
    private let isJSONLines: Bool
    private let gatewayDecoder: GatewayDecoder?
    private var pending: [DecodedRecord] = []
    private var pendingLine = 0

    /// Opens `path`; gateway formats map their records with `mapping` (default: the gateway's own).
    ///
    /// - Parameters:
    ///   - path: the file to read, one record (or one batch of records) a line.
    ///   - displayName: how dead letters name the file (`file:line`); the path when nil.
    ///   - format: Tally's JSON Lines or CSV, or a gateway's own records.
    ///   - mapping: for gateway formats, which fields give the event's tenant, customer, id, metric and quantity.
    ///   - tenant: the tenant of records whose mapping finds none.
    ///   - maxLineBytes: the longest line read whole; a longer one is a dead letter, which bounds the memory
    ///     a file can take.
    /// - Throws: ``RecordFileError`` when the file cannot be opened.
    public init(
        path: String, displayName: String? = nil, format: RecordFormat, mapping: GatewayMapping? = nil,
        tenant: String, maxLineBytes: Int = LineReader.defaultMaxLineBytes
    ) throws(RecordFileError) {
        self.format = format
        self.displayName = displayName ?? path
        lines = try LineReader(path: path, maxLineBytes: maxLineBytes)
        isJSONLines = format == .jsonl
        switch format {
        case .jsonl:
            decoder = TallyJSONLinesDecoder()
            gatewayDecoder = nil
        case .csv:
            decoder = TallyCSVDecoder(maxRecordBytes: lines.maxLineBytes)
            gatewayDecoder = nil
        case .kong, .aws, .azure, .apigee, .mulesoft:
            let gateway = format.gateway ?? .kong
            let gatewayDecoder = GatewayDecoder(
                gateway: gateway, mapping: mapping ?? gateway.defaultMapping, tenant: tenant)
            decoder = gatewayDecoder
            self.gatewayDecoder = gatewayDecoder
        }
    }

    /// The next record and the 1-based line it came from, or nil at the end of the file.
    public func next() throws(RecordFileError) -> (record: DecodedRecord, line: Int)? {
        guard let record = try nextRecord() else { return nil }
        return (record, line)
    }

    /// The 1-based line of the record ``nextRecord()`` returned last (a record spanning lines: its first).
    public var line: Int { pendingLine }

    /// The next record, or nil at the end of the file; its line is ``line``.
    ///
    /// ``next()`` without the tuple: a record is 129 bytes, and returned alone it is built in
    /// the caller's place rather than copied into a tuple and out of it.
    public func nextRecord() throws(RecordFileError) -> DecodedRecord? {
        // `pending` holds a line's records last first, so each is moved out, never copied.
        while pending.isEmpty {
            // A record spanning lines (a CSV quoted field) is named by its first line.
            let continuing = !isJSONLines && gatewayDecoder == nil && decoder.isContinuing
            guard let line = try lines.next() else {
                decoder.finish(reason: "the file ends", into: &pending)
                if pending.isEmpty { return nil }
                continue
            }
            if !continuing { pendingLine = lines.lineNumber }
            switch line {
            case .text(let range):
                let bytes = lines.bytes(range)
                guard continuing || !isBlank(bytes) else { continue }
                if isJSONLines {
                    return located(TallyJSONLinesDecoder.record(bytes))
                } else if let gatewayDecoder {
                    if let single = gatewayDecoder.scannedRecord(bytes) { return located(single) }
                    gatewayDecoder.decodeTree(bytes, into: &pending)
                } else if let single = decoder.decodeSingle(bytes, orInto: &pending) {
                    return located(single)
                }
                if pending.count > 1 { pending.reverse() }
            case .tooLong(_, let bytes) where continuing:
                decoder.finish(
                    reason: "its line \(lines.lineNumber) has \(bytes) bytes, more than the \(lines.maxLineBytes) "
                        + "a record may have",
                    into: &pending)
            case .tooLong(let prefix, let bytes):
                pending.append(
                    .undecodable(
                        raw: DecodedRecord.raw(prefix),
                        problem: "the line has \(bytes) bytes, more than the \(lines.maxLineBytes) a record may have"))
            }
        }
        return located(pending.removeLast())
    }

    /// The record, an undecodable one's problem led by `file:line:`.
    private func located(_ record: consuming DecodedRecord) -> DecodedRecord {
        if case .undecodable(let raw, let problem) = record {
            return .undecodable(raw: raw, problem: "\(displayName):\(pendingLine): \(problem)")
        }
        return record
    }

    private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Any record starts with a byte that is not blank: the common case is decided by the first.
        guard let first = bytes.first, first == 0x20 || first == 0x09 || first == 0x0D else { return bytes.isEmpty }
        return bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}

/// Turns one line of a file into records.
protocol LineDecoder {
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord])
    /// Whether the last line left a record open (a CSV quoted field), which the next line goes on.
    var isContinuing: Bool { get }
    /// Ends an open record as undecodable, saying why (`reason`): the file ended, or a line was too long.
    mutating func finish(reason: String, into records: inout [DecodedRecord])
    /// The line's record when it is one, returned rather than appended (one move less per record);
    /// otherwise nil, its records (none or several) appended to `records`.
    mutating func decodeSingle(
        _ line: UnsafeBufferPointer<UInt8>, orInto records: inout [DecodedRecord]
    ) -> DecodedRecord?
}

extension LineDecoder {
    /// Every line is a whole record unless a decoder says otherwise.
    var isContinuing: Bool { false }
    mutating func finish(reason: String, into records: inout [DecodedRecord]) {}
    mutating func decodeSingle(
        _ line: UnsafeBufferPointer<UInt8>, orInto records: inout [DecodedRecord]
    ) -> DecodedRecord? {
        decode(line, into: &records)
        return records.count == 1 ? records.removeLast() : nil
    }
}

extension JSONError {
    /// The error within one line, whose line number the reader adds: `column 12: unexpected ...`.
    var inLine: String { "malformed JSON at column \(column): \(message)" }
}

/// Tally's JSON Lines: ``Event/init(json:)`` plus the optional `received_at` that `tally generate` adds.
struct TallyJSONLinesDecoder: LineDecoder {
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        records.append(Self.record(line))
    }

    mutating func decodeSingle(
        _ line: UnsafeBufferPointer<UInt8>, orInto records: inout [DecodedRecord]
    ) -> DecodedRecord? {
        Self.record(line)
    }

    /// The event of one line, through ``FlatEventLine`` when it can, else through the JSON tree.
    static func record(_ line: UnsafeBufferPointer<UInt8>) -> DecodedRecord {
        if let record = FlatEventLine.record(line) { return record }
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch {
            return .undecodable(raw: DecodedRecord.raw(line), problem: error.inLine)
        }
        return record(json, raw: line)
    }

    /// The event of one of Tally's JSON objects, with its `received_at` if it has one.
    static func record(_ json: JSONValue, raw: some Collection<UInt8>) -> DecodedRecord {
        do {
            let event = try Event(json: json)
            var receivedAt: Instant?
            if case .object(let object) = json, let value = object["received_at"] {
                guard case .string(let text) = value else {
                    return .undecodable(
                        raw: DecodedRecord.raw(raw), problem: "received_at: is \(value), expected an ISO-8601 UTC time")
                }
                do { receivedAt = try Instant(iso8601: text) } catch {
                    return .undecodable(raw: DecodedRecord.raw(raw), problem: "received_at: \(error.message)")
                }
            }
            return .event(event, receivedAt: receivedAt)
        } catch {
            return .undecodable(raw: DecodedRecord.raw(raw), problem: error.description)
        }
    }
}

/// The common shape of Tally's JSON Lines, decoded straight from the line's bytes.
///
/// `tally generate` writes flat objects of strings and numbers; for those this builds the
/// event without the JSON tree the general JSON Lines decoder goes through (about half of a
/// record's time). Anything else (escapes, properties, unknown or repeated keys, a value
/// `Event(json:)` would refuse) returns nil, and the general decoder decides,
/// so both give the same event and the same problem for every line.
public enum FlatEventLine {
    private enum Key: Int {
        case eventID, tenant, customer, metric, quantity, timestamp, source, receivedAt
    }

    /// The key the bytes spell, if it is one of the eight.
    private static func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Key? {
        guard let base = bytes.baseAddress else { return nil }
        func equals(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == bytes.count && memcmp(literal.utf8Start, base, bytes.count) == 0
        }
        switch bytes.count {
        case 6: return equals("metric") ? .metric : equals("source") ? .source : nil
        case 8: return equals("event_id") ? .eventID : equals("quantity") ? .quantity : nil
        case 9: return equals("tenant_id") ? .tenant : equals("timestamp") ? .timestamp : nil
        case 11: return equals("customer_id") ? .customer : equals("received_at") ? .receivedAt : nil
        default: return nil
        }
    }

    /// A value's place in the line, and whether it was a string (else a number).
    private struct Value {
        var start = 0, end = 0
        var isString = false
        var seen = false
    }

    /// The event of one flat JSON object (and its `received_at`), or nil when the general decoder must decide.
    public static func record(_ line: UnsafeBufferPointer<UInt8>) -> DecodedRecord? {
        // On the stack, and not a tuple: a tuple's type metadata is looked up at run time, per call.
        withUnsafeTemporaryAllocation(of: Value.self, capacity: 8) { slots in
            slots.initialize(repeating: Value())
            return record(line, slots: slots)
        }
    }

    private static func record(
        _ line: UnsafeBufferPointer<UInt8>, slots: UnsafeMutableBufferPointer<Value>
    ) -> DecodedRecord? {
        let count = line.count
        var index = 0
        func skipSpace() {
            while index < count, line[index] == 0x20 || line[index] == 0x09 || line[index] == 0x0D { index += 1 }
        }
        /// The end of a string's contents starting at `index` (just past its opening quote), or nil when it
        /// holds an escape or a control character: those take the general path.
        func stringEnd() -> Int? {
            var at = index
            while at < count {
                let byte = line[at]
                if byte == 0x22 { return at }
                if byte == 0x5C || byte < 0x20 { return nil }
                at += 1
            }
            return nil
        }
        skipSpace()
        guard index < count, line[index] == 0x7B else { return nil }
        index += 1
        while true {
            skipSpace()
            guard index < count, line[index] == 0x22 else { return nil }
            index += 1
            guard let keyEnd = stringEnd() else { return nil }
            let keyStart = index
            guard let key = Self.key(UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd]))?.rawValue else {
                return nil
            }
            index = keyEnd + 1
            skipSpace()
            guard index < count, line[index] == 0x3A else { return nil }
            index += 1
            skipSpace()
            var value = Value(seen: true)
            if index < count, line[index] == 0x22 {
                index += 1
                guard let end = stringEnd() else { return nil }
                value.start = index
                value.end = end
                value.isString = true
                index = end + 1
            } else {
                value.start = index
                guard let end = numberEnd(line, from: index) else { return nil }
                value.end = end
                index = end
            }
            guard !slots[key].seen else { return nil }
            slots[key] = value
            skipSpace()
            guard index < count else { return nil }
            if line[index] == 0x2C {
                index += 1
                continue
            }
            guard line[index] == 0x7D else { return nil }
            index += 1
            skipSpace()
            guard index == count else { return nil }
            break
        }
        do {
            func bytes(_ key: Key) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: line[slots[key.rawValue].start..<slots[key.rawValue].end])
            }
            func text(_ key: Key) -> String? {
                let slot = slots[key.rawValue]
                guard slot.seen, slot.isString, slot.end > slot.start else { return nil }
                // ASCII is valid UTF-8 as it stands; other text takes the general path, which validates it
                // (String(validating:) would too, but looks up its generic metadata on every call).
                let text = bytes(key)
                guard !text.contains(where: { $0 >= 0x80 }) else { return nil }
                return String(decoding: text, as: UTF8.self)
            }
            guard let id = text(.eventID), id.utf8.count <= Event.maxIDLength, let tenant = text(.tenant),
                let customer = text(.customer), let metric = text(.metric), let source = text(.source),
                slots[Key.quantity.rawValue].seen, slots[Key.timestamp.rawValue].seen,
                let quantity = try? ExactDecimal(utf8: bytes(.quantity))
            else { return nil }
            let timestamp: Instant
            if slots[Key.timestamp.rawValue].isString {
                guard let instant = try? Instant(iso8601: bytes(.timestamp)) else { return nil }
                timestamp = instant
            } else {
                guard let milliseconds = Int64(String(decoding: bytes(.timestamp), as: UTF8.self)) else { return nil }
                timestamp = Instant(millisecondsSinceEpoch: milliseconds)
            }
            var receivedAt: Instant?
            if slots[Key.receivedAt.rawValue].seen {
                guard slots[Key.receivedAt.rawValue].isString, let instant = try? Instant(iso8601: bytes(.receivedAt))
                else {
                    return nil
                }
                receivedAt = instant
            }
            let event = Event(
                id: id, tenant: tenant, customer: customer, metric: metric, quantity: quantity,
                timestamp: timestamp, source: source)
            return .event(event, receivedAt: receivedAt)
        }
    }

    /// The end of a JSON number starting at `start` (RFC 8259 grammar, no exponent: those take the general path).
    private static func numberEnd(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        let count = line.count
        func digit(_ at: Int) -> Bool { at < count && line[at] >= 0x30 && line[at] <= 0x39 }
        if index < count, line[index] == 0x2D { index += 1 }
        guard digit(index) else { return nil }
        if line[index] == 0x30 { index += 1 } else { while digit(index) { index += 1 } }
        if index < count, line[index] == 0x2E {
            index += 1
            guard digit(index) else { return nil }
            while digit(index) { index += 1 }
        }
        if index < count, line[index] == 0x65 || line[index] == 0x45 { return nil }
        return index
    }
}
