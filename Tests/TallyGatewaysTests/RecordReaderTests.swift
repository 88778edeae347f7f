import Foundation
import TallyJSON
import TallyPipeline
import Testing

@testable import TallyGateways

/// A file in the temporary folder, removed when the test is done with it.
struct TemporaryFile {
    let path: String

    init(_ text: String, suffix: String = ".log") throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("tally-records-\(UUID().uuidString)\(suffix)")
            .path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Every record of the file, with its line.
    func records(
        _ format: RecordFormat, mapping: GatewayMapping? = nil, maxLineBytes: Int = LineReader.defaultMaxLineBytes
    )
        throws -> [(record: DecodedRecord, line: Int)]
    {
        let reader = try RecordReader(
            path: path, displayName: "f.log", format: format, mapping: mapping, tenant: "t0",
            maxLineBytes: maxLineBytes)
        var all: [(record: DecodedRecord, line: Int)] = []
        while let next = try reader.next() { all.append(next) }
        return all
    }
}

extension DecodedRecord {
    var event: Event? { if case .event(let event, _) = self { event } else { nil } }
    var problem: String? { if case .undecodable(_, let problem) = self { problem } else { nil } }
    var notBilledStatus: Int? { if case .notBilled(let status) = self { status } else { nil } }
}

@Suite("Event files: one record per line, every bad one a problem naming file:line")
struct RecordReaderTests {
    static let good =
        #"{"event_id":"a1","tenant_id":"t","customer_id":"acme","metric":"calls","quantity":2,"timestamp":"2026-01-03T10:00:00Z","source":"kong","received_at":"2026-01-03T10:00:01Z"}"#

    @Test("JSON Lines: truncated JSON, a missing id, a bad timestamp and a 10 MB line are one problem each")
    func jsonLinesBadRecords() throws {
        let missingID =
            #"{"tenant_id":"t","customer_id":"acme","metric":"calls","quantity":1,"timestamp":"2026-01-03T10:00:00Z","source":"kong"}"#
        let badTime =
            #"{"event_id":"a3","tenant_id":"t","customer_id":"acme","metric":"calls","quantity":1,"timestamp":"2026-13-03T10:00:00Z","source":"kong"}"#
        let huge = #"{"event_id":""# + String(repeating: "x", count: 10 << 20) + "\"}"
        let text = [Self.good, #"{"event_id":"a2","tenant_id":"#, missingID, "", badTime, huge, Self.good].joined(
            separator: "\n")
        let file = try TemporaryFile(text)
        defer { file.remove() }
        let records = try file.records(.jsonl)
        // 7 lines, line 4 blank: 6 records.
        #expect(records.map(\.line) == [1, 2, 3, 5, 6, 7])
        #expect(records[0].record.event?.quantity == 2)
        if case .event(_, let receivedAt) = records[0].record {
            #expect(receivedAt == Instant(millisecondsSinceEpoch: 1_767_434_401_000))
        }
        #expect(records[1].record.problem?.hasPrefix("f.log:2: malformed JSON at column 30") == true)
        #expect(records[2].record.problem == "f.log:3: event_id: missing, expected a non-empty string")
        #expect(
            records[3].record.problem?.hasPrefix(
                "f.log:5: timestamp: '2026-13-03T10:00:00Z' is not a UTC timestamp (month 13") == true)
        // The 10 MB line: 10,485,760 x's plus 15 bytes of JSON around them.
        #expect(
            records[4].record.problem == "f.log:6: the line has 10485775 bytes, more than the 4194304 a record may have"
        )
        if case .undecodable(let raw, _) = records[4].record { #expect(raw.utf8.count == 200) }
        #expect(records[5].record.event?.id == "a1")
    }

    @Test("CSV: columns by the header's names; a short row, an open quote and a bad quantity are one problem each")
    func csvBadRecords() throws {
        let text = """
            event_id,tenant_id,customer_id,metric,quantity,timestamp,source,properties
            c1,t,acme,calls,1.5,2026-01-03T10:00:00Z,aws,"{""region"":""eu""}"
            c2,t,acme
            "c3,t,acme,calls,1,2026-01-03T10:00:00Z,aws,
            c4,t,acme,calls,abc,2026-01-03T10:00:00Z,aws,
            """
        let file = try TemporaryFile(text, suffix: ".csv")
        defer { file.remove() }
        let records = try file.records(.csv)
        #expect(records.count == 4)
        #expect(
            records[0].record.event
                == Event(
                    id: "c1", tenant: "t", customer: "acme", metric: "calls", quantity: ExactDecimal("1.5") ?? .one,
                    timestamp: Instant(millisecondsSinceEpoch: 1_767_434_400_000), source: "aws",
                    properties: ["region": "eu"]))
        #expect(records[1].record.problem == "f.log:3: metric: missing, expected a non-empty string")
        #expect(records[2].record.problem == "f.log:4: a quoted field is not closed on its line, expected a closing \"")
        #expect(
            records[3].record.problem?.hasPrefix("f.log:5: quantity: \"abc\" is not a finite plain decimal") == true)
    }

    @Test("CSV: a header without the required columns makes the header line one problem")
    func csvBadHeader() throws {
        let file = try TemporaryFile("id,customer\n1,acme\n", suffix: ".csv")
        defer { file.remove() }
        let records = try file.records(.csv)
        #expect(records.count == 2)
        #expect(
            records[0].record.problem?.hasPrefix(
                "f.log:1: the header row lacks event_id, tenant_id, customer_id, metric, quantity, timestamp, source")
                == true)
        #expect(records[1].record.problem == "f.log:2: event_id: missing, expected a non-empty string")
    }

    @Test("the flat-line fast path decodes exactly what the general decoder does, and leaves it every other line")
    func fastPathAgrees() throws {
        let base =
            #"{"event_id":"a1","tenant_id":"t","customer_id":"acme","metric":"calls","quantity":2.50,"timestamp":"2026-01-03T10:00:00.250Z","source":"kong"}"#
        let lines: [(String, Bool)] = [
            // (line, whether the fast path takes it)
            (base, true),
            (base.replacingOccurrences(of: "}", with: #","received_at":"2026-01-03T10:00:01Z"}"#), true),
            (base.replacingOccurrences(of: #""2026-01-03T10:00:00.250Z""#, with: "1767434400250"), true),
            (base.replacingOccurrences(of: #""quantity":2.50"#, with: #""quantity":"2.50""#), true),
            (" " + base.replacingOccurrences(of: ",", with: " , ") + " ", true),
            (base.replacingOccurrences(of: "acme", with: #"ac\u006de"#), false),
            (base.replacingOccurrences(of: "acme", with: "acmé"), false),
            (base.replacingOccurrences(of: "}", with: #","properties":{"r":"eu"}}"#), false),
            (base.replacingOccurrences(of: "}", with: #","source":"aws"}"#), false),
            (base.replacingOccurrences(of: "2.50", with: "02.5"), false),
            (base.replacingOccurrences(of: "2.50", with: "2e3"), false),
            (base.replacingOccurrences(of: #""t""#, with: #""""#), false),
            (base.replacingOccurrences(of: "2026-01-03T10", with: "2026-02-30T10"), false),
            (base.replacingOccurrences(of: #","source":"kong""#, with: ""), false),
            (base + "x", false),
        ]
        for (line, fast) in lines {
            var bytes = Array(line.utf8)
            let viaFast = bytes.withUnsafeMutableBufferPointer { FlatEventLine.record(UnsafeBufferPointer($0)) }
            #expect((viaFast != nil) == fast, "\(line)")
            guard let viaFast, case .event(let event, let receivedAt) = viaFast else { continue }
            // The general path, without the fast one: the JSON tree and Event(json:).
            let slow = TallyJSONLinesDecoder.record(try JSONValue.parse(line), raw: line.utf8)
            guard case .event(let slowEvent, let slowReceivedAt) = slow else {
                Issue.record("general path refused \(line)")
                continue
            }
            #expect(event == slowEvent)
            #expect(receivedAt == slowReceivedAt)
        }
    }

    @Test("a file that cannot be opened is an error, not a dead letter")
    func missingFile() {
        #expect(throws: RecordFileError.self) {
            _ = try RecordReader(path: "/nonexistent/x.jsonl", format: .jsonl, tenant: "t")
        }
    }
}
