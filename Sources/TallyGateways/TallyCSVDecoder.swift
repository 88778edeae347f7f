import TallyJSON
import TallyPipeline

/// Tally's CSV: a header row naming the columns, then one event per row (RFC 4180 quoting).
///
/// Columns are found by name, so their order is free: `event_id`, `tenant_id`, `customer_id`,
/// `metric`, `quantity`, `timestamp` and `source` are required; `received_at`, `properties`
/// (a JSON object of strings) and `raw` are optional. A row whose `raw` is not empty is the
/// raw JSON of an event (how `tally generate` writes a malformed one) and is decoded as such.
/// A quoted field may not span lines: each line is one record.
struct TallyCSVDecoder: LineDecoder {
    private var columns: [String: Int]?

    static let required = ["event_id", "tenant_id", "customer_id", "metric", "quantity", "timestamp", "source"]

    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout [DecodedRecord]) {
        let fields: [String]
        do { fields = try Self.fields(line) } catch {
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

    /// The fields of one CSV line: commas separate, a quoted field may hold commas and doubled quotes.
    static func fields(_ line: UnsafeBufferPointer<UInt8>) throws(RecordProblem) -> [String] {
        var fields: [String] = []
        var index = 0
        let count = line.count
        while true {
            if index < count && line[index] == 0x22 {
                var bytes: [UInt8] = []
                index += 1
                while true {
                    guard index < count else {
                        throw RecordProblem("a quoted field is not closed on its line, expected a closing \"")
                    }
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
