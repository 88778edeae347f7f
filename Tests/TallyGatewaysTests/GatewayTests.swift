import Foundation
import TallyJSON
import TallyPipeline
import Testing

@testable import TallyGateways

extension JSONValue {
    /// The value with the member at a dotted path (each step one key) replaced, or removed when `value` is nil.
    func setting(_ path: [String], to value: JSONValue?) -> JSONValue {
        guard case .object(let object) = self, let key = path.first else { return self }
        var members = object.members
        guard let index = members.firstIndex(where: { $0.key == key }) else { return self }
        if path.count == 1 {
            if let value { members[index].value = value } else { members.remove(at: index) }
        } else {
            members[index].value = members[index].value.setting(Array(path.dropFirst()), to: value)
        }
        return .object(JSONObject(members))
    }

    /// The compact canonical text without its newline.
    var line: String { String(CanonicalJSON.write(self, pretty: false).dropLast()) }
}

@Suite("Gateway records: each gateway's log records read and written")
struct GatewayTests {
    static let event = Event(
        id: "req-7f3a", tenant: "weatherco", customer: "acme", metric: "forecasts",
        quantity: ExactDecimal("2.5") ?? .one,
        timestamp: Instant(millisecondsSinceEpoch: 1_772_445_600_123), source: "kong")

    /// Where each gateway's default mapping finds the id and the time, one key per step.
    static let idPath: [Gateway: [String]] = [
        .kong: ["request", "id"], .aws: ["requestId"], .azure: ["CorrelationId"], .apigee: ["messageid"],
        .mulesoft: ["Message ID"],
    ]
    static let timePath: [Gateway: [String]] = [
        .kong: ["started_at"], .aws: ["requestTimeEpoch"], .azure: ["TimeGenerated"],
        .apigee: ["client_received_start_timestamp"], .mulesoft: ["Timestamp"],
    ]
    static let statusPath: [Gateway: [String]] = [
        .kong: ["response", "status"], .aws: ["status"], .azure: ["ResponseCode"], .apigee: ["response_status_code"],
        .mulesoft: ["Status Code"],
    ]

    static func quantityMapping(_ gateway: Gateway) -> GatewayMapping {
        var mapping = gateway.defaultMapping
        mapping.quantity = gateway.quantityField
        return mapping
    }

    @Test(
        "a written record reads back as the same event, its quantity from the response-size field",
        arguments: Gateway.allCases)
    func roundTrip(_ gateway: Gateway) throws {
        let file = try TemporaryFile(gateway.line(for: Self.event))
        defer { file.remove() }
        let records = try file.records(
            RecordFormat(rawValue: gateway.rawValue) ?? .kong, mapping: Self.quantityMapping(gateway))
        var expected = Self.event
        expected.source = gateway.rawValue
        // MuleSoft's analytics carry no tenant: its records are the reader's tenant's ("t0").
        if gateway == .mulesoft { expected.tenant = "t0" }
        #expect(records.map(\.record.event) == [expected])
    }

    /// A CloudWatch Logs envelope whose data is base64 but not gzip.
    static let corruptEnvelope = JSONValue.object([
        "awslogs": .object(["data": .string(Data("not gzip".utf8).base64EncodedString())])
    ])

    @Test(
        "truncated JSON, a missing id, a bad timestamp, a 10 MB line and a corrupt gzip envelope are one dead letter each",
        arguments: Gateway.allCases)
    func badRecords(_ gateway: Gateway) throws {
        let good = gateway.record(for: Self.event)
        let idPath = Self.idPath[gateway] ?? []
        let timePath = Self.timePath[gateway] ?? []
        let lines = [
            String(good.line.prefix(40)),
            good.setting(idPath, to: nil).line,
            good.setting(timePath, to: .string("yesterday")).line,
            #"{"pad":""# + String(repeating: "y", count: 10 << 20) + "\"}",
            Self.corruptEnvelope.line,
            good.line,
        ]
        let file = try TemporaryFile(lines.joined(separator: "\n"))
        defer { file.remove() }
        let records = try file.records(RecordFormat(rawValue: gateway.rawValue) ?? .kong)
        #expect(records.map(\.line) == [1, 2, 3, 4, 5, 6])
        guard records.count == 6 else { return }
        // Only AWS reads envelopes; to the others it is a record without their status field.
        let statusPath = (Self.statusPath[gateway] ?? []).joined(separator: ".")
        #expect(
            records[4].record.problem
                == (gateway == .aws
                    ? "f.log:5: awslogs.data: the gzip payload is corrupt (incorrect header check)"
                    : "f.log:5: \(statusPath): missing or not an HTTP status, expected a number like 200"))
        #expect(
            records[0].record.problem
                == "f.log:1: malformed JSON at column 41: unexpected end of input, expected ',' or '}'"
                || records[0].record.problem?.hasPrefix("f.log:1: malformed JSON at column") == true)
        #expect(
            records[1].record.problem == "f.log:2: \(idPath.joined(separator: ".")): missing, expected the request id")
        #expect(
            records[2].record.problem
                == "f.log:3: \(timePath.joined(separator: ".")): 'yesterday' is neither milliseconds since the epoch nor an ISO-8601 UTC time like 2026-01-03T10:00:00Z"
        )
        #expect(
            records[3].record.problem == "f.log:4: the line has 10485770 bytes, more than the 4194304 a record may have"
        )
        #expect(records[5].record.event?.id == "req-7f3a")
    }

    @Test(
        "a 429 or a 5xx is not billed but counted by its status; billable: widens what is billed",
        arguments: Gateway.allCases)
    func notBilled(_ gateway: Gateway) throws {
        let text = [429, 503, 304].map { gateway.line(for: Self.event, status: $0) }.joined()
        let file = try TemporaryFile(text)
        defer { file.remove() }
        let format = RecordFormat(rawValue: gateway.rawValue) ?? .kong
        #expect(try file.records(format).map(\.record.notBilledStatus) == [429, 503, 304])
        var mapping = gateway.defaultMapping
        mapping.billable = [200...299, 304...304]
        #expect(try file.records(format, mapping: mapping).map(\.record.notBilledStatus) == [429, 503, nil])
    }

    @Test("metric rules: exact, then prefix, in order; no match bills the value without its leading slash")
    func metricRules() {
        let metric = MetricMapping(
            field: "path",
            rules: [
                MetricRule(.exact("/v1/ping"), metric: "pings"),
                MetricRule(.prefix("/v1/forecast"), metric: "forecasts"),
            ])
        #expect(metric.metric(for: "/v1/ping") == "pings")
        #expect(metric.metric(for: "/v1/forecasts/paris") == "forecasts")
        #expect(metric.metric(for: "/v1/ping/x") == "v1/ping/x")
    }

    @Test("field paths: nested keys, keys holding dots, header names in any case")
    func fieldPaths() throws {
        let record = try JSONValue.parse(
            #"{"request":{"headers":{"X-Tenant-Id":"w"}},"identity.apiKey":"k","a":{"b.c":{"d":1}}}"#)
        #expect(FieldPath("request.headers.x-tenant-id").value(in: record) == .string("w"))
        #expect(FieldPath("identity.apiKey").value(in: record) == .string("k"))
        #expect(FieldPath("a.b.c.d").value(in: record) == .number("1"))
        #expect(FieldPath("a.x").value(in: record) == nil)
    }

    @Test("Kong: an http-log batch array is one record per element, a bad one named by its place")
    func kongBatch() throws {
        let good = KongLayout.record(for: Self.event, status: 200)
        let bad = good.setting(["consumer"], to: nil)
        let file = try TemporaryFile(JSONValue.array([good, bad]).line)
        defer { file.remove() }
        let records = try file.records(.kong)
        #expect(records.map(\.line) == [1, 1])
        #expect(records[0].record.event?.customer == "acme")
        #expect(
            records[1].record.problem == "f.log:1: record 2 of 2: consumer.username: missing, expected the customer")
    }

    @Test(
        "AWS: a CloudWatch Logs envelope inflates to its records; a corrupt one, bad base64 or a control message do not"
    )
    func awsEnvelopes() throws {
        var second = Self.event
        second.id = "req-2"
        let envelope = AWSLayout.envelope(
            [AWSLayout.record(for: Self.event, status: 200), AWSLayout.record(for: second, status: 200)],
            timestamps: [Self.event.timestamp, second.timestamp])
        let notGzip = JSONValue.object([
            "awslogs": .object(["data": .string(Data("not gzip".utf8).base64EncodedString())])
        ])
        let notBase64 = JSONValue.object(["awslogs": .object(["data": .string("%%%")])])
        // A valid gzip stream cut short: the first 20 bytes of one.
        let truncated = Data(Gzip.deflate(Array(String(repeating: "tally ", count: 100).utf8)).prefix(20))
            .base64EncodedString()
        let cut = JSONValue.object(["awslogs": .object(["data": .string(truncated)])])
        let control = Data(Gzip.deflate(Array(#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#.utf8)))
            .base64EncodedString()
        let controlLine = JSONValue.object(["awslogs": .object(["data": .string(control)])])
        let file = try TemporaryFile(
            [envelope, notGzip, notBase64, cut, controlLine].map(\.line).joined(separator: "\n"))
        defer { file.remove() }
        let records = try file.records(.aws)
        #expect(records.map(\.line) == [1, 1, 2, 3, 4])
        #expect(records[0].record.event?.id == "req-7f3a")
        #expect(records[1].record.event?.id == "req-2")
        #expect(
            records[2].record.problem == "f.log:2: awslogs.data: the gzip payload is corrupt (incorrect header check)")
        #expect(records[3].record.problem == "f.log:3: awslogs.data: is not base64")
        #expect(records[4].record.problem == "f.log:4: awslogs.data: the gzip payload is corrupt (truncated)")
    }

    @Test("AWS: a payload that inflates past the limit is refused, not held")
    func gzipBomb() throws {
        let bomb = Gzip.deflate([UInt8](repeating: 0x20, count: 11 << 20))
        #expect(bomb.count < 64 << 10)
        #expect(throws: RecordProblem.self) { _ = try Gzip.inflate(bomb) }
    }

    @Test("Azure: a diagnostic export's records array is one record per element; seven fraction digits keep three")
    func azureExport() throws {
        let record = AzureLayout.record(for: Self.event, status: 200).setting(
            ["TimeGenerated"], to: .string("2026-03-02T10:00:00.1239999Z"))
        let file = try TemporaryFile(JSONValue.object(["records": .array([record, record])]).line)
        defer { file.remove() }
        let records = try file.records(.azure)
        #expect(records.count == 2)
        #expect(records[0].record.event?.timestamp == Instant(millisecondsSinceEpoch: 1_772_445_600_123))
    }
}
