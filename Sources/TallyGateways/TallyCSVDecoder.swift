import TallyJSON
import TallyPipeline

/// Tally's CSV: a header row naming the columns, then one event per row (RFC 4180 quoting).
///
/// Columns are found by name, so their order is free: `event_id`, `tenant_id`, `customer_id`,
/// `metric`, `quantity`, `timestamp` and `source` are required; `received_at`, `properties`
/// (a JSON object of strings) and `raw` are optional. A row whose `raw` is not empty is the
/// raw JSON of an event (how `tally generate` writes a malformed one) and is decoded as such.
/// A quoted field may span lines (RFC 4180): its record is then the lines up to the one that closes it,
/// named by its first line, and each line break in it is read as `\n`.
struct TallyCSVDecoder: LineDecoder {
    private var columns: [String: Int]?
    /// The lines so far of a record whose quoted field is still open, joined by `\n`; nil between records.
    private var open: [UInt8]?
    /// The longest a record spanning lines may grow, in bytes: the reader's longest line.
    let maxRecordBytes: Int

    static let required = ["event_id", "tenant_id", "customer_id", "metric", "quantity", "timestamp", "source"]

    init(maxRecordBytes: Int = LineReader.defaultMaxLineBytes) {
        self.maxRecordBytes = maxRecordBytes
    }

    var isContinuing: Bool { open != nil }

    mutating func finish(reason: String, into records: inout [DecodedRecord]) {
        guard let bytes = open else { return }
        open = nil
        records.append(
            .undecodable(
                raw: DecodedRecord.raw(bytes),
                problem: "a quoted field opened in this record is not closed: \(reason), expected a closing \""))
    }

    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        guard var record = open else {
            decodeRecord(line, into: &records)
            return
        }
        // Cleared first, so the record's bytes are appended to in place, not copied each line.
        open = nil
        record.append(0x0A)
        record.append(contentsOf: line)
        open = record
        guard record.count <= maxRecordBytes else {
            finish(reason: "it runs past \(maxRecordBytes) bytes", into: &records)
            return
        }
        // An odd number of quotes was open; the field closes on a line with an odd number of them. The record
        // is parsed once, when whole, so a field over many lines costs a pass over each line, not over the record.
        guard Self.quotes(in: line) % 2 == 1 else { return }
        open = nil
        record.withUnsafeBufferPointer { decodeRecord($0, into: &records) }
    }

    private static func quotes(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.reduce(0) { $1 == 0x22 ? $0 + 1 : $0 }
    }

    private mutating func decodeRecord(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        let fields: [String]
        do throws(RecordProblem) {
            guard let complete = try Self.fields(line) else {
                guard Self.quotes(in: line) % 2 == 1 else {
                    throw RecordProblem("a quote inside an unquoted field, expected the whole field quoted")
                }
                open = Array(line)
                return
            }
            fields = complete
        } catch {
            records.append(.undecodable(raw: DecodedRecord.raw(line), problem: error.message))
            return
        }
        guard let columns else {
            var named: [String: Int] = [:]
            for (index, name) in fields.enumerated() where named[name] == nil { named[name] = index }
            // A header that lacks a column is one problem; every row then lacks that field too.
            self.columns = named
            let missing = Self.required.filter { named[$0] == nil }
            if !missing.isEmpty {
                records.append(
                    .undecodable(
                        raw: DecodedRecord.raw(line),
                        problem:
                            "the header row lacks \(missing.joined(separator: ", ")), expected the columns \(Self.required.joined(separator: ","))"
                    ))
            }
            return
        }
        func field(_ name: String) -> String? {
            columns[name].flatMap { $0 < fields.count ? fields[$0] : nil }
        }
        if let raw = field("raw"), !raw.isEmpty {
            var receivedAt: Instant?
            if let text = field("received_at"), !text.isEmpty { receivedAt = try? Instant(iso8601: text) }
            do {
                let event = try Event(json: try JSONValue.parse(raw))
                records.append(.event(event, receivedAt: receivedAt))
            } catch let error as JSONError {
                records.append(.undecodable(raw: DecodedRecord.raw(raw.utf8), problem: "raw: \(error.inLine)"))
            } catch {
                records.append(.undecodable(raw: DecodedRecord.raw(raw.utf8), problem: "raw: \(error)"))
            }
            return
        }
        // The row as Tally's JSON object, so one decoder checks every field the same way in both formats.
        var members: [(key: String, value: JSONValue)] = []
        for name in Self.required {
            guard let text = field(name) else { continue }
            if name == "quantity" {
                members.append((name, .number(text)))
            } else {
                members.append((name, .string(text)))
            }
        }
        if let text = field("properties"), !text.isEmpty {
            do { members.append(("properties", try JSONValue.parse(text))) } catch {
                records.append(.undecodable(raw: DecodedRecord.raw(line), problem: "properties: \(error.inLine)"))
                return
            }
        }
        if let text = field("received_at"), !text.isEmpty { members.append(("received_at", .string(text))) }
        records.append(TallyJSONLinesDecoder.record(.object(JSONObject(members)), raw: line))
    }

    /// The fields of one CSV record: commas separate, a quoted field may hold commas, doubled quotes and
    /// line breaks; nil when a quoted field is still open at the end (the record goes on on the next line).
    static func fields(_ line: UnsafeBufferPointer<UInt8>) throws(RecordProblem) -> [String]? {
        var fields: [String] = []
        var index = 0
        let count = line.count
        while true {
            if index < count && line[index] == 0x22 {
                var bytes: [UInt8] = []
                index += 1
                while true {
                    guard index < count else { return nil }
                    if line[index] == 0x22 {
                        if index + 1 < count && line[index + 1] == 0x22 {
                            bytes.append(0x22)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    bytes.append(line[index])
                    index += 1
                }
                fields.append(String(decoding: bytes, as: UTF8.self))
                guard index == count || line[index] == 0x2C else {
                    throw RecordProblem("column \(index + 1): text after a quoted field, expected a comma")
                }
            } else {
                let start = index
                while index < count && line[index] != 0x2C { index += 1 }
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[start..<index]), as: UTF8.self))
            }
            if index >= count { return fields }
            index += 1
        }
    }
}
