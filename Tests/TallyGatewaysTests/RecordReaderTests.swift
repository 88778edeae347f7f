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
        // A CloudWatch Logs envelope (base64, not gzip) is no event of Tally's: one dead letter, at line 8.
        let envelope = #"{"awslogs":{"data":"bm90IGd6aXA="}}"#
        let text = [Self.good, #"{"event_id":"a2","tenant_id":"#, missingID, "", badTime, huge, Self.good, envelope]
            .joined(separator: "\n")
        let file = try TemporaryFile(text)
        defer { file.remove() }
        let records = try file.records(.jsonl)
        // 8 lines, line 4 blank: 7 records.
        #expect(records.map(\.line) == [1, 2, 3, 5, 6, 7, 8])
        #expect(records.last?.record.problem == "f.log:8: event_id: missing, expected a non-empty string")
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

    @Test(
        "CSV: columns by the header's names; a short row, a bad quantity and a quote open at the end are one problem each"
    )
    func csvBadRecords() throws {
        let text = """
            event_id,tenant_id,customer_id,metric,quantity,timestamp,source,properties
            c1,t,acme,calls,1.5,2026-01-03T10:00:00Z,aws,"{""region"":""eu""}"
            c2,t,acme
            c4,t,acme,calls,abc,2026-01-03T10:00:00Z,aws,
            "c3,t,acme,calls,1,2026-01-03T10:00:00Z,aws,
            """
        let file = try TemporaryFile(text, suffix: ".csv")
        defer { file.remove() }
        let records = try file.records(.csv)
        #expect(records.map(\.line) == [2, 3, 4, 5])
        #expect(
            records[0].record.event
                == Event(
                    id: "c1", tenant: "t", customer: "acme", metric: "calls", quantity: ExactDecimal("1.5") ?? .one,
                    timestamp: Instant(millisecondsSinceEpoch: 1_767_434_400_000), source: "aws",
                    properties: ["region": "eu"]))
        #expect(records[1].record.problem == "f.log:3: metric: missing, expected a non-empty string")
        #expect(
            records[2].record.problem?.hasPrefix("f.log:4: quantity: \"abc\" is not a finite plain decimal") == true)
        #expect(
            records[3].record.problem
                == "f.log:5: a quoted field opened in this record is not closed: the file ends, expected a closing \"")
    }

    @Test("CSV: a quoted field may span lines (RFC 4180); the record is named by its first line")
    func csvMultilineFields() throws {
        // Row m1's properties hold a line break and a blank line (lines 2-4, 63 bytes); m2 is line 5; m3 leaves
        // its quote open past the 100-byte limit given below: one problem at line 6; m4 is line 8.
        let text = [
            "event_id,tenant_id,customer_id,metric,quantity,timestamp,source,properties",
            #"m1,t,acme,calls,2,2026-01-03T10:00:00Z,csv,"{""note"":"#,
            "",
            #"""a""}""#,
            "m2,t,acme,calls,1,2026-01-03T10:00:00Z,csv,",
            #"m3,t,acme,calls,1,2026-01-03T10:00:00Z,csv,"{"#,
            "text that takes the record past the 100 bytes this reader allows",
            "m4,t,acme,calls,1,2026-01-03T10:00:00Z,csv,",
        ].joined(separator: "\n")
        let file = try TemporaryFile(text, suffix: ".csv")
        defer { file.remove() }
        let records = try file.records(.csv, maxLineBytes: 100)
        #expect(records.map(\.line) == [2, 5, 6, 8])
        #expect(records[0].record.event?.properties == ["note": "a"])
        #expect(records[0].record.event?.quantity == 2)
        #expect(records[1].record.event?.id == "m2")
        #expect(
            records[2].record.problem
                == "f.log:6: a quoted field opened in this record is not closed: it runs past 100 bytes, expected a closing \""
        )
        #expect(records[3].record.event?.id == "m4")
    }

    @Test(
        "CSV: a truncated row, a missing id, a bad timestamp and a 10 MB line are one dead letter each, at their lines")
    func csvDoneWhenRecords() throws {
        let text = [
            "event_id,tenant_id,customer_id,metric,quantity,timestamp,source",
            "d1,t,acme,calls,1,2026-01-03T10:0",
            ",t,acme,calls,1,2026-01-03T10:00:00Z,csv",
            "d3,t,acme,calls,1,yesterday,csv",
            "d4,t,acme,calls,1,2026-01-03T10:00:00Z," + String(repeating: "z", count: 10 << 20),
            "d5,t,acme,calls,1,2026-01-03T10:00:00Z,csv",
        ].joined(separator: "\n")
        let file = try TemporaryFile(text, suffix: ".csv")
        defer { file.remove() }
        let records = try file.records(.csv)
        #expect(records.map(\.line) == [2, 3, 4, 5, 6])
        #expect(records[0].record.problem?.hasPrefix("f.log:2: timestamp: '2026-01-03T10:0' is not") == true)
        #expect(records[1].record.problem == "f.log:3: event_id: is empty, expected a non-empty string")
        #expect(records[2].record.problem?.hasPrefix("f.log:4: timestamp: 'yesterday' is not") == true)
        // 10,485,760 z's plus the 39 bytes before them.
        #expect(
            records[3].record.problem == "f.log:5: the line has 10485799 bytes, more than the 4194304 a record may have"
        )
        #expect(records[4].record.event?.id == "d5")
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
