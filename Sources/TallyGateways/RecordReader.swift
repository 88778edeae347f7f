import TallyJSON
import TallyPipeline

/// Reads an event file record by record, in the file's order, through a ``LineReader``.
///
/// Each line is decoded by the file's format into one record or, for a gateway's
/// batch or envelope, several. A record that cannot be decoded becomes
/// ``DecodedRecord/undecodable(raw:problem:)`` whose problem starts `file:line:`.
/// Nothing is skipped but blank lines.
public final class RecordReader {
    public let format: RecordFormat
    /// The name used in problems: the path as the scenario wrote it.
    public let displayName: String
    private let lines: LineReader
    private var decoder: any LineDecoder
    private var pending: [DecodedRecord] = []
    private var pendingIndex = 0
    private var pendingLine = 0

    /// Opens `path`; gateway formats map their records with `mapping` (default: the gateway's own).
    ///
    /// - Parameter tenant: the tenant of records whose mapping finds none.
    public init(
        path: String, displayName: String? = nil, format: RecordFormat, mapping: GatewayMapping? = nil,
        tenant: String, maxLineBytes: Int = LineReader.defaultMaxLineBytes
    ) throws(RecordFileError) {
        self.format = format
        self.displayName = displayName ?? path
        lines = try LineReader(path: path, maxLineBytes: maxLineBytes)
        switch format {
        case .jsonl: decoder = TallyJSONLinesDecoder()
        case .csv: decoder = TallyCSVDecoder()
        case .kong, .aws, .azure, .apigee, .mulesoft:
            let gateway = format.gateway ?? .kong
            decoder = GatewayDecoder(gateway: gateway, mapping: mapping ?? gateway.defaultMapping, tenant: tenant)
        }
    }

    /// The next record and the 1-based line it came from, or nil at the end of the file.
    public func next() throws(RecordFileError) -> (record: DecodedRecord, line: Int)? {
        while pendingIndex >= pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            guard let line = try lines.next() else { return nil }
            pendingLine = lines.lineNumber
            switch line {
            case .text(let range):
                lines.withBytes(range) { bytes in
                    guard !isBlank(bytes) else { return }
                    decoder.decode(bytes, into: &pending)
                }
            case .tooLong(let prefix, let bytes):
                pending.append(.undecodable(
                    raw: DecodedRecord.raw(prefix),
                    problem: "the line has \(bytes) bytes, more than the \(lines.maxLineBytes) a record may have"))
            }
        }
        let record = pending[pendingIndex]
        pendingIndex += 1
        if case .undecodable(let raw, let problem) = record {
            return (.undecodable(raw: raw, problem: "\(displayName):\(pendingLine): \(problem)"), pendingLine)
        }
        return (record, pendingLine)
    }

    private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}

/// Turns one line of a file into records.
protocol LineDecoder {
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord])
}

extension JSONError {
    /// The error within one line, whose line number the reader adds: `column 12: unexpected ...`.
    var inLine: String { "malformed JSON at column \(column): \(message)" }
}

/// Tally's JSON Lines: ``Event/init(json:)`` plus the optional `received_at` that `tally generate` adds.
struct TallyJSONLinesDecoder: LineDecoder {
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch {
            records.append(.undecodable(raw: DecodedRecord.raw(line), problem: error.inLine))
            return
        }
        records.append(Self.record(json, raw: line))
    }

    /// The event of one of Tally's JSON objects, with its `received_at` if it has one.
    static func record(_ json: JSONValue, raw: some Collection<UInt8>) -> DecodedRecord {
        do {
            let event = try Event(json: json)
            var receivedAt: Instant?
            if case .object(let object) = json, let value = object["received_at"] {
                guard case .string(let text) = value else {
                    return .undecodable(raw: DecodedRecord.raw(raw), problem: "received_at: is \(value), expected an ISO-8601 UTC time")
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
