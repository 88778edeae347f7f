import Foundation
import TallyGateways
import TallyJSON
import TallyPipeline
import Testing

@testable import TallySandbox

@Suite("Event files as input (events_from:, tally run --events)")
struct EventFileTests {
    static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tally-events-\(UUID().uuidString)\(suffix)").path
    }

    @Test(
        "a generated stream written as JSON Lines or CSV bills to the same invoices and outcome counts",
        arguments: ["fault-mixed.yaml", "gateways-one-tenant.yaml"], [EventExportFormat.jsonl, .csv])
    func roundTrip(_ name: String, _ format: EventExportFormat) throws {
        let scenario = try Repository.load(name)
        let path = Self.temporaryPath(".\(format.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try EventExport.write(scenario, format: format, to: path)
        let direct = try ScenarioRunner.run(scenario)
        let fromFile = try ScenarioRunner.run(scenario.billing(file: path, format: format == .csv ? .csv : .jsonl))
        #expect(fromFile.invoicesJSON == direct.invoicesJSON)
        #expect(fromFile.counts == direct.counts)
        #expect(fromFile.inputs.first?.records == scenario.totalEvents)
    }

    @Test(
        "events_from beside traffic: the file's records join the stream, a bad one is one dead letter, the counts add up"
    )
    func besideTraffic() throws {
        let path = Self.temporaryPath(".jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = [
            #"{"event_id":"f1","tenant_id":"default","customer_id":"acme","metric":"calls","quantity":5,"timestamp":"2026-01-10T00:00:00Z","source":"sdk"}"#,
            #"{"event_id":"f2","tenant_id":"default","customer_id":"acme","metric":"calls","quantity":5,"#,
            #"{"event_id":"f3","tenant_id":"default","customer_id":"acme","metric":"calls","quantity":7,"timestamp":"2026-01-11T00:00:00Z","source":"sdk"}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let yaml = """
            name: file-beside-traffic
            seed: 1
            start: 2026-01-01T00:00:00Z
            currency: USD
            metrics: [{ key: calls, aggregation: sum }]
            plans: [{ id: p, charges: [{ name: Calls, metric: calls, model: per_unit, unit_price: 0.01 }] }]
            customers: [{ id: acme, plan: p }]
            traffic: [{ metric: calls, events: 100 }]
            events_from: [{ file: \(path) }]
            """
        let scenario = try ScenarioLoader.load(yaml: yaml, file: "inline.yaml")
        let run = try ScenarioRunner.run(scenario)
        // 100 generated events of quantity 1 + f1 (5) + f3 (7) = 112 units at 0.01 = 1.12; f2 is truncated JSON
        // (90 bytes: its end, column 91, is where a key was expected).
        #expect(run.counts.received == 103)
        #expect(run.counts.accepted == 102)
        #expect(run.counts.count(.schemaInvalid) == 1)
        #expect(run.invoices.map(\.total) == [ExactDecimal("1.12")])
        #expect(run.inputs == [EventFileTally(file: path, format: .jsonl, records: 3, events: 3, undecodable: 1)])
        #expect(
            run.deadLetterSamples == [
                "schema_invalid: \(path):2: malformed JSON at column 91: unexpected end of input, expected a string key"
            ])
        #expect(run.samples[.schemaInvalid] == ["\(path):2"])
    }

    @Test("records of another tenant are counted by tenant and not billed; tenant: null bills them as the scenario's")
    func otherTenants() throws {
        let split = try ScenarioRunner.run(try Repository.load("gateways-tenant-mismatch.yaml"))
        // kong: 4 weatherco events; aws: a1-a3 of WeatherCo, a4 a 429; azure: z1 z2 of weatherco-prod, z3 without
        // the header (the scenario's tenant).
        let names = ["kong", "aws", "azure"].map { "../Fixtures/gateway-logs/tenant-mismatch/\($0).log" }
        #expect(
            split.inputs == [
                EventFileTally(file: names[0], format: .kong, records: 4, events: 4),
                EventFileTally(
                    file: names[1], format: .aws, records: 4, notBilled: [429: 1], otherTenants: ["WeatherCo": 3]),
                EventFileTally(
                    file: names[2], format: .azure, records: 3, events: 1, otherTenants: ["weatherco-prod": 2]),
            ])
        #expect(split.counts.received == 5)
        #expect(split.counts.accepted == 5)
        // acme: k1 k2 forecasts 0.20 + k4 history 0.25 = 0.45; globex: k3 history 0.25 + z3 forecasts 0.10 = 0.35.
        #expect(split.invoices.map(\.customer) == ["acme", "globex"])
        #expect(split.invoices.map(\.total) == [ExactDecimal("0.45"), ExactDecimal("0.35")])
        #expect(split.rejectionsJSON.contains("\"other_tenants\": {\n        \"WeatherCo\": 3\n      }"))

        let fixed = try ScenarioRunner.run(
            try Repository.load("gateways-tenant-mismatch.yaml") {
                $0.replacingOccurrences(of: "format: aws }", with: "format: aws, mapping: { tenant: null } }")
                    .replacingOccurrences(of: "format: azure }", with: "format: azure, mapping: { tenant: null } }")
            })
        // + a1 a2 a3: acme 0.45 + 3 x 0.10 = 0.75; + z1 0.10 + z2 0.25: globex 0.35 + 0.35 = 0.70.
        #expect(fixed.counts.accepted == 10)
        #expect(fixed.invoices.map(\.total) == [ExactDecimal("0.75"), ExactDecimal("0.70")])
        #expect(fixed.inputs.allSatisfy { $0.otherTenants.isEmpty })
    }

    @Test("a missing event file fails the run with its path")
    func missingFile() throws {
        let scenario = try Repository.load("model-flat.yaml").billing(file: "/nonexistent/usage.jsonl")
        #expect(throws: RunError.self) { _ = try ScenarioRunner.run(scenario) }
    }
}

@Suite("Gateway records round trip: a generated stream billed from each gateway's records")
struct GatewayRoundTripTests {
    /// gateway-traffic passes its events through all five adapters; gateways-one-tenant has a
    /// re-sent id; bench-10m (20,000 events) has properties, four metrics and re-sends.
    static let scenarios = ["gateway-traffic.yaml", "gateways-one-tenant.yaml"]

    @Test(
        "the stream as JSON Lines and as each gateway's records bills to the scenario's own invoices",
        arguments: scenarios, [EventExportFormat.jsonl, .kong, .aws, .azure, .apigee, .mulesoft])
    func sameInvoices(_ name: String, _ format: EventExportFormat) throws {
        let scenario = try Repository.load(name)
        let path = EventFileTests.temporaryPath(".\(format.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try EventExport.write(scenario, format: format, to: path)
        #expect(summary.events == scenario.totalEvents)
        let recordFormat = RecordFormat(rawValue: format.rawValue) ?? .jsonl
        let fromFile = try ScenarioRunner.run(
            scenario.billing(file: path, format: recordFormat, mapping: recordFormat.gateway?.writtenMapping))
        let direct = try ScenarioRunner.run(scenario)
        #expect(fromFile.invoicesJSON == direct.invoicesJSON)
        #expect(fromFile.counts.accepted == direct.counts.accepted)
        #expect(fromFile.counts.received == direct.counts.received)
    }

    @Test("Kong records keep event properties (the query string): bench-10m's 20,000 events and re-sends bill the same")
    func kongKeepsProperties() throws {
        var scenario = try Repository.load("bench-10m.yaml").scaled(toGeneratedEvents: 20_000)
        // Gateway records hold no ingest time: a clock-skewed or late event, received by the file's
        // rule instead of the fault's, is judged differently. Re-sends keep their outcome.
        scenario.faults = scenario.faults.filter { $0.kind == .duplicate }
        let path = EventFileTests.temporaryPath(".kong")
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try EventExport.write(scenario, format: .kong, to: path)
        let fromFile = try ScenarioRunner.run(
            scenario.billing(file: path, format: .kong, mapping: Gateway.kong.writtenMapping))
        #expect(fromFile.invoicesJSON == (try ScenarioRunner.run(scenario)).invoicesJSON)
    }

    @Test("AWS records written as CloudWatch Logs envelopes, 100 a line, bill back to the scenario's invoices")
    func awsEnvelopes() throws {
        let scenario = try Repository.load("gateway-traffic.yaml")
        let path = EventFileTests.temporaryPath(".aws")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try EventExport.write(scenario, format: .aws, envelopeBatch: 100, to: path)
        #expect(summary.events == 7_000)
        // 7,000 records, 100 an envelope: 70 lines, each one envelope.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 70)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"awslogs":{"data":""#) })
        let fromFile = try ScenarioRunner.run(
            scenario.billing(file: path, format: .aws, mapping: Gateway.aws.writtenMapping))
        #expect(fromFile.inputs.first?.records == 7_000)
        #expect(fromFile.counts.accepted == 7_000)
        // The header's figures: acme 540.00, globex 6.00, as the scenario bills its own traffic.
        #expect(fromFile.invoices.map(\.total) == [ExactDecimal("540.00"), ExactDecimal("6.00")])
        #expect(fromFile.invoicesJSON == (try ScenarioRunner.run(scenario)).invoicesJSON)
    }

    @Test("every gateway reads back the event its writer wrote, field for field", arguments: Gateway.allCases)
    func readBack(_ gateway: Gateway) {
        let event = Event(
            id: "e0.1.42", tenant: "weatherco", customer: "acme", metric: "api_calls",
            quantity: ExactDecimal("12.75") ?? .one, timestamp: Instant(millisecondsSinceEpoch: 1_772_323_209_603),
            source: gateway.rawValue, properties: gateway.carriesProperties ? ["region": "eu"] : [:])
        #expect(gateway.readBack(event, tenant: "weatherco") == event)
    }
}

@Suite("tally run --events: a file billed against a scenario's catalog")
struct RunEventsCommandTests {
    @Test("Kong's sample log: counts, dead letters naming file:line, each invoice's total, and the two documents")
    func kongLog() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tally-events-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        guard
            let result = try CLITests().tally(
                [
                    "run", "Scenarios/gateway-kong.yaml", "--events", "Fixtures/gateway-logs/kong.log", "--format",
                    "kong", "--out", out.path,
                ],
                in: Repository.root)
        else { return }
        #expect(result.status == 0)
        // The figures of gateway-kong's header: 10 records, 8 sent, 5 accepted; acme 0.45, globex 0.35.
        #expect(
            result.stdout == """
                Fixtures/gateway-logs/kong.log: 10 records, 8 events (2 undecodable), not billed: 1 x 429, 1 x 503
                8 events: 5 accepted (0 late), 1 rejected, 2 dead-lettered; 2 invoices
                  dead letter schema_invalid: Fixtures/gateway-logs/kong.log:8: malformed JSON at column 121: unexpected end of input, expected ',' or '}'
                  dead letter schema_invalid: Fixtures/gateway-logs/kong.log:9: consumer.username: missing, expected the customer
                  2026-03-01 acme: 0.45
                  2026-03-01 globex: 0.35

                """)
        let invoices = try String(contentsOf: out.appendingPathComponent("invoices.json"), encoding: .utf8)
        let golden = try String(
            contentsOf: Repository.fixtures.appendingPathComponent("gateway-kong/invoices.json"), encoding: .utf8)
        #expect(invoices == golden)
    }

    @Test("--format without --events is a usage error")
    func formatNeedsEvents() throws {
        guard
            let result = try CLITests().tally(
                ["run", "Scenarios/gateway-kong.yaml", "--format", "kong"], in: Repository.root)
        else { return }
        #expect(result.status == 64)
        #expect(result.stderr.contains("--format and --out go with --events"))
    }
}
