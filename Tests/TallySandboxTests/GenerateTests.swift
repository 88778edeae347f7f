import Foundation
import TallyJSON
import TallyPipeline
import Testing

@testable import TallySandbox

/// `tally generate`'s writer: the stream the pipeline receives, as JSON Lines and CSV.
@Suite("Event stream export (tally generate)")
struct GenerateTests {
    /// fault-mixed has every fault kind, malformed events among them; bench-10m at 20,000
    /// events has properties, four metrics, zipf spread and re-sends.
    static func scenarios() throws -> [Scenario] {
        [
            try Repository.load("fault-mixed.yaml"),
            try Repository.load("bench-10m.yaml").scaled(toGeneratedEvents: 20_000),
        ]
    }

    /// Writes the stream to a temporary file and returns its bytes.
    static func generate(_ scenario: Scenario, _ format: EventExportFormat, threads: Int) throws -> [UInt8] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tally-generate-\(UUID().uuidString).\(format.rawValue)")
        defer { try? FileManager.default.removeItem(at: url) }
        let summary = try EventExport.write(scenario, format: format, threads: threads, to: url.path)
        #expect(summary.events == scenario.totalEvents)
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(summary.bytes == bytes.count)
        return bytes
    }

    static func lines(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// 1 thread does everything on the caller's; 2 adds the producer thread that generates and
    /// merges; 3 adds a worker generating chunks ahead of the merge.
    @Test("the same bytes on every run and for 1, 2 and 3 threads", arguments: EventExportFormat.allCases)
    func deterministic(format: EventExportFormat) throws {
        for scenario in try GenerateTests.scenarios() {
            let first = try GenerateTests.generate(scenario, format, threads: 1)
            let again = try GenerateTests.generate(scenario, format, threads: 1)
            #expect(!first.isEmpty)
            #expect(first == again, "\(scenario.name): two runs differ")
            for threads in [2, 3] {
                let other = try GenerateTests.generate(scenario, format, threads: threads)
                #expect(first == other, "\(scenario.name): 1 and \(threads) threads differ")
            }
        }
    }

    @Test("generated ids are the unit's prefix and the sequence number in decimal")
    func eventIDs() {
        let ids = EventIDs(prefix: "e1.2.")
        #expect(ids.id(0) == "e1.2.0")
        #expect(ids.id(9) == "e1.2.9")
        #expect(ids.id(10) == "e1.2.10")
        #expect(ids.id(1_234_567) == "e1.2.1234567")
        // 21 bytes: past the 15 a String holds inline, still exact.
        #expect(EventIDs(prefix: "e12.345.").id(9_876_543_210_123) == "e12.345.9876543210123")
    }

    @Test("every JSON line decodes to the event the pipeline receives, but the malformed ones")
    func jsonLinesRoundTrip() throws {
        for scenario in try GenerateTests.scenarios() {
            let lines = GenerateTests.lines(try GenerateTests.generate(scenario, .jsonl, threads: 1))
            #expect(lines.count == scenario.totalEvents)
            var items: [GeneratedItem] = []
            try scenario.forEachGeneratedItem { items.append($0) }
            #expect(items.count == lines.count)
            var malformed = 0
            for (line, item) in zip(lines, items) {
                guard case .object(let object) = try JSONValue.parse(line) else {
                    Issue.record("\(scenario.name): not a JSON object: \(line)")
                    continue
                }
                #expect(object["received_at"] == .string(item.receivedAt.iso8601))
                switch item.payload {
                case .event(let event):
                    #expect(try Event(json: .object(object)) == event)
                    // Each line is the canonical compact JSON of the wire object plus received_at.
                    guard case .object(let wire) = event.json else { continue }
                    let expected = CanonicalJSON.write(
                        .object(
                            JSONObject(wire.members + [(key: "received_at", value: .string(item.receivedAt.iso8601))])),
                        pretty: false)
                    #expect(line + "\n" == expected)
                case .malformed, .undecodable:
                    malformed += 1
                    #expect(throws: EventDecodingError.self) { try Event(json: .object(object)) }
                }
            }
            #expect(malformed == scenario.malformedEvents)
        }
        #expect(try Repository.load("fault-mixed.yaml").malformedEvents == 400)
    }

    @Test("CSV: the documented header, one row per event, malformed rows holding only received_at and raw")
    func csvRows() throws {
        for scenario in try GenerateTests.scenarios() {
            let rows = GenerateTests.csvRows(try GenerateTests.generate(scenario, .csv, threads: 1))
            #expect(rows.first == EventLineEncoder.csvHeader.split(separator: ",").map(String.init))
            #expect(rows.count == scenario.totalEvents + 1)
            var items: [GeneratedItem] = []
            try scenario.forEachGeneratedItem { items.append($0) }
            var malformed = 0
            for (row, item) in zip(rows.dropFirst(), items) {
                #expect(row.count == 10)
                guard row.count == 10 else { continue }
                #expect(row[0] == item.receivedAt.iso8601)
                switch item.payload {
                case .event(let event):
                    #expect(
                        row[1...8]
                            == [
                                event.id, event.tenant, event.customer, event.metric, event.quantity.description,
                                event.timestamp.iso8601, event.source,
                                event.properties.isEmpty
                                    ? ""
                                    : String(
                                        CanonicalJSON.write(event.json.objectMember("properties"), pretty: false)
                                            .dropLast()),
                            ][...])
                    #expect(row[9] == "")
                case .malformed(let raw), .undecodable(let raw, _):
                    malformed += 1
                    #expect(row[1...8].allSatisfy { $0.isEmpty })
                    #expect(row[9] == raw)
                }
            }
            #expect(malformed == scenario.malformedEvents)
        }
    }

    @Test("a write that cannot start leaves no file behind")
    func failureLeavesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-missing-\(UUID().uuidString)")
        let target = folder.appendingPathComponent("events.jsonl").path
        #expect(throws: ExportError.self) {
            try EventExport.write(try Repository.load("fault-mixed.yaml"), format: .jsonl, to: target)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test("scaling a scenario keeps each traffic's share and the fault fractions")
    func scaling() throws {
        let scaled = try Repository.load("bench-10m.yaml").scaled(toGeneratedEvents: 100_000)
        #expect(scaled.traffic.map(\.events) == [60_000, 20_000, 15_000, 5_000])
        #expect(scaled.totalEvents == 105_000)
        #expect(scaled.expectations.isEmpty)
        let mixed = try Repository.load("fault-mixed.yaml").scaled(toGeneratedEvents: 2_000)
        // Counts scale by the same factor: 1,000 duplicates of 20,000 become 100 of 2,000.
        #expect(mixed.totalEvents == 2_100)
        #expect(mixed.malformedEvents == 40)
    }

    /// A small RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks.
    static func csvRows(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field = []
            } else if byte == UInt8(ascii: "\n") {
                row.append(String(decoding: field, as: UTF8.self))
                rows.append(row)
                row = []
                field = []
            } else {
                field.append(byte)
            }
            index += 1
        }
        return rows
    }
}

extension JSONValue {
    /// The member `key` of an object, or null.
    func objectMember(_ key: String) -> JSONValue {
        if case .object(let object) = self { return object[key] ?? .null }
        return .null
    }
}
