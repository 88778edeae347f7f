import Foundation
import TallyJSON
import TallyPipeline
import TallySandbox
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What a new user tripped on, each mended: fixed-fee scenarios, readable diffs, safe --update.
@Suite("What a new user tripped on")
struct NewUserFrictionTests {
    @Test("a scenario without events (fixed fees only) is valid and bills its fees")
    func fixedFeesOnly() throws {
        let yaml = """
            name: fixed-fees
            seed: 1
            start: 2026-01-01T00:00:00Z
            periods: 2
            currency: USD
            metrics:
              - { key: api_calls, aggregation: count }
            plans:
              - { id: seats, base_fee: 49 }
            customers:
              - { id: acme, plan: seats }
            expect:
              invoice_total: { acme: [49.00, 49.00] }
            """
        let scenario = try ScenarioLoader.load(yaml: yaml, file: "fixed-fees.yaml")
        #expect(scenario.totalEvents == 0)
        let run = try ScenarioRunner.run(scenario)
        // Two periods of the $49 base fee and nothing else: 49.00 each.
        #expect(run.counts.received == 0)
        #expect(run.invoices.map { scenario.catalog.currency.format($0.total) } == ["49.00", "49.00"])
        #expect(run.expectationFailures.isEmpty)
    }

    @Test("--update writes no golden file for a scenario whose expect: fails, and says so")
    func updateRefusedWhenExpectFails() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Scenarios/clock-skew.yaml")
        let golden = folder.appendingPathComponent("Fixtures/clock-skew/invoices.json")
        let before = try String(contentsOf: golden, encoding: .utf8)
        // Base fee 10 -> 12 while expect: still says 10.00: acme's invoice is 12.00 and the check fails.
        try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(
                of: "{ name: Base fee, model: flat, amount: 10 }", with: "{ name: Base fee, model: flat, amount: 12 }"
            )
            .write(to: file, atomically: true, encoding: .utf8)
        guard let result = try cli.tally(["run", "--update"], in: folder) else { return }
        #expect(result.status == 1)
        #expect(result.stdout.contains("expect: expected acme's invoice total 10.00, got 12.00"))
        #expect(result.stdout.contains("goldens: not written, because the expect: checks above fail"))
        #expect(try String(contentsOf: golden, encoding: .utf8) == before)
    }

    @Test(
        "a golden diff opens with the money per customer and period, numbers tiers from 1, and past its limit says where all of it is"
    )
    func readableDiff() throws {
        // 0.002 -> 0.003 in tier 2: acme's 15,000 calls there cost 45.00, not 30.00 (total 159.00, was 144.00);
        // globex's 5,000 cost 15.00, not 10.00 (total 64.00, was 59.00); initech never reaches tier 2.
        let scenario = try Repository.load("graduated-5-tiers.yaml") {
            $0.replacingOccurrences(
                of: "{ up_to: 25000, unit_price: 0.002 }", with: "{ up_to: 25000, unit_price: 0.003 }")
        }
        let run = try ScenarioRunner.run(scenario)
        let golden = GoldenFiles(fixtures: Repository.fixtures)
        let all = golden.differences(run)
        #expect(
            Array(all.prefix(2)) == [
                "money: acme period 2026-01-01: total expected 144.00, actual 159.00; amount due expected 144.00, actual 159.00",
                "money: globex period 2026-01-01: total expected 59.00, actual 64.00; amount due expected 59.00, actual 64.00",
            ])
        #expect(
            all.contains(
                "invoices.json: invoices globex period 2026-01-01 lines 'API calls' how tiers tier 2 unit_price: expected 0.002, actual 0.003"
            ))
        // 2 money lines + 7 per customer (amount, tier amount, tier price, unrounded, subtotal, total, amount due) = 16.
        #expect(all.count == 16)
        let cut = golden.compare(run, limit: 5)
        #expect(cut.count == 6)
        let last = try #require(cut.last)
        #expect(last.hasPrefix("... and 11 more differences; all 16 are in "))
        let path = String(last.dropFirst("... and 11 more differences; all 16 are in ".count))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == all.map { $0 + "\n" }.joined())
    }

    @Test("a golden diff tells a period's in-advance invoices apart: -A, then -A2 and on by their ordinal")
    func inAdvanceInvoicesApartInTheDiff() throws {
        // Seats 60 -> 66 in advance (Scenarios/subscriptions-in-advance.yaml): acme's Apr -A2 is 66 x 14/30 = 30.80,
        // tax 3.08: 33.88 (was 30.80); globex's Apr -A is 66.00 (was 60.00); its Apr -A2 (Platform fee) is unchanged.
        let scenario = try Repository.load("subscriptions-in-advance.yaml") {
            $0.replacingOccurrences(
                of: "{ name: Seats, model: flat, amount: 60, billed: in_advance }",
                with: "{ name: Seats, model: flat, amount: 66, billed: in_advance }")
        }
        let money = GoldenFiles(fixtures: Repository.fixtures).moneyDifferences(try ScenarioRunner.run(scenario))
            .map(\.summary)
        #expect(
            money.prefix(2) == [
                "acme period 2026-04-01 (in advance 2): total expected 30.80, actual 33.88; "
                    + "amount due expected 30.80, actual 33.88",
                "globex period 2026-04-01 (in advance): total expected 60.00, actual 66.00; "
                    + "amount due expected 60.00, actual 66.00",
            ])
        #expect(!money.contains { $0.hasPrefix("globex period 2026-04-01 (in advance 2)") })
    }

    @Test("a missing file exits 2 for every command that reads one, and a usage error exits 64")
    func missingFileExitCodes() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let commands = [
            ["run", "nope.yaml"], ["check", "nope.yaml"], ["report", "nope.yaml", "--out", "r"],
            ["generate", "nope.yaml"], ["bench", "nope.yaml"], ["rerate", "nope.db", "--plans", "nope.yaml"],
            ["reconcile", "nope.db"], ["dead-letters", "nope.db"],
        ]
        for command in commands {
            guard let result = try cli.tally(command, in: folder) else { return }
            #expect(
                result.status == 2, "tally \(command.joined(separator: " ")) exited \(result.status): \(result.stderr)")
            #expect(result.stderr.contains("nope."), "tally \(command.joined(separator: " ")) does not name the file")
        }
        guard let usage = try cli.tally(["run", "--no-such-option"], in: folder) else { return }
        #expect(usage.status == 64)
    }

    static let unitMistakes = """
        name: units
        seed: 1
        start: 2026-01-01T00:00:00Z
        currency: usd
        period_length: month
        metrics:
          - { key: api_calls, aggregation: count }
        plans:
          - { id: flow, base_fee: 1,049 }
          - id: block
            base_fee: 2,500.50
        customers:
          - { id: acme, plan: flow, tax: US-CA }
        taxes:
          - { name: CA, jurisdiction: US-CA, rate: 0.0725 }
        """

    @Test(
        "likely unit mistakes get a hint: usd, month and thousands separators as errors, a tax rate below 1 as a warning"
    )
    func unitMistakes() throws {
        var messages: [String] = []
        do { _ = try ScenarioLoader.load(yaml: Self.unitMistakes, file: "units.yaml") } catch {
            messages = error.diagnostics.map(\.description)
        }
        #expect(
            messages == [
                "units.yaml:4:11: unknown currency 'usd', did you mean 'USD'? codes are written in capitals",
                "units.yaml:5:16: period_length: 'month' is not a period length, did you mean 'monthly'? expected monthly or a duration like 7d",
                "units.yaml:9:29: '1,049' is read as 1 and a key '049': numbers take no thousands separators, write 1049",
                "units.yaml:11:15: base_fee must be a plain decimal number without thousands separators, got '2,500.50', write 2500.50",
            ])
        let fixed = Self.unitMistakes.replacingOccurrences(of: "usd", with: "USD").replacingOccurrences(
            of: "month\n", with: "monthly\n"
        )
        .replacingOccurrences(of: "1,049", with: "1049").replacingOccurrences(of: "2,500.50", with: "2500.50")
        _ = try ScenarioLoader.load(yaml: fixed, file: "units.yaml")
        // 0.0725 x 100 = 7.25: the rate most likely meant.
        #expect(
            ScenarioWarnings.warnings(yaml: fixed, file: "units.yaml").map(\.description) == [
                "units.yaml:15:44: warning: tax rate 0.0725 is 0.0725%; did you mean 7.25? (rates are percent: 7.25 means 7.25%)"
            ])
        #expect(
            ScenarioWarnings.warnings(yaml: fixed.replacingOccurrences(of: "0.0725", with: "7.25"), file: "units.yaml")
                .isEmpty)

        // tally check prints the warning and still passes the file.
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        try fixed.write(to: folder.appendingPathComponent("units.yaml"), atomically: true, encoding: .utf8)
        guard let checked = try cli.tally(["check", "units.yaml"], in: folder) else { return }
        #expect(checked.status == 0)
        #expect(checked.stderr.contains("units.yaml:15:44: warning: tax rate 0.0725 is 0.0725%; did you mean 7.25?"))
    }

    @Test("rerate --plans takes a file holding only plans, completed from the recorded scenario")
    func rerateWithPlansOnly() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plans = """
            # Only the plans: customers, currency and schedule come from the recorded run.
            plans:
              - id: basic
                charges:
                  - { name: Base fee, model: flat, amount: 25 }

            """
        try plans.write(to: folder.appendingPathComponent("plans.yaml"), atomically: true, encoding: .utf8)
        guard let recorded = try cli.tally(["run", "Scenarios/clock-skew.yaml", "--ledger", "run.db"], in: folder),
            let rerated = try cli.tally(["rerate", "run.db", "--plans", "plans.yaml", "--json"], in: folder)
        else { return }
        #expect(recorded.status == 0)
        #expect(rerated.status == 0, "\(rerated.stderr)")
        // acme paid the 10.00 base fee (every call was skewed and rejected); at 25 it pays 25.00, 15.00 more.
        guard case .object(let report) = try JSONValue.parse(rerated.stdout), case .object(let total)? = report["total"]
        else {
            Issue.record("no total in \(rerated.stdout)")
            return
        }
        #expect(total["old"] == .string("10.00"))
        #expect(total["new"] == .string("25.00"))
        #expect(total["difference"] == .string("15.00"))

        // A mistake in the plans file is reported at its own line and column.
        try plans.replacingOccurrences(of: "model: flat", with: "model: flatt")
            .write(to: folder.appendingPathComponent("plans.yaml"), atomically: true, encoding: .utf8)
        guard let wrong = try cli.tally(["rerate", "run.db", "--plans", "plans.yaml"], in: folder) else { return }
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("plans.yaml:5:34: model 'flatt' is not known"), "\(wrong.stderr)")
    }

    @Test("an 'expected one of:' list is never empty: an empty section is named instead")
    func expectedOneOfNeverEmpty() throws {
        let yaml = """
            name: empty-metrics
            seed: 1
            start: 2026-01-01T00:00:00Z
            currency: USD
            metrics: []
            plans:
              - { id: p, base_fee: 5, included_units: 10, overage_price: 0.01, metric: api_calls }
            customers:
              - { id: acme, plan: q }
            traffic:
              - { metric: api_calls, events: 10 }
            """
        var messages: [String] = []
        do { _ = try ScenarioLoader.load(yaml: yaml, file: "x.yaml") } catch {
            messages = error.diagnostics.map(\.message)
        }
        #expect(
            messages.contains("unknown metric 'api_calls', and the scenario's metrics list is empty or missing"),
            "\(messages)")
        #expect(!messages.contains { $0.hasSuffix("expected one of: ") })
        let noPlans = yaml.replacingOccurrences(
            of: "  - { id: p, base_fee: 5, included_units: 10, overage_price: 0.01, metric: api_calls }\n", with: ""
        )
        .replacingOccurrences(of: "plans:\n", with: "plans: []\n")
        do { _ = try ScenarioLoader.load(yaml: noPlans, file: "x.yaml") } catch {
            messages = error.diagnostics.map(\.message)
        }
        #expect(messages.contains("unknown plan 'q', and the scenario's plans list is empty or missing"), "\(messages)")
    }

    /// Runs `tally` with extra environment variables; standard error and standard output together.
    func tally(
        _ arguments: [String], in folder: URL, environment extra: [String: String], executable path: String? = nil
    ) throws -> (status: Int32, output: String)? {
        guard let executable = path.map(URL.init(fileURLWithPath:)) ?? BrokenScenarioCorpus.tallyExecutable() else {
            Issue.record("the tally executable is not built next to the tests; run `swift build` first")
            return nil
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A scratch project holding graduated-5-tiers (100,000 events, enough to show progress) and its goldens.
    func graduatedProject() throws -> URL {
        let cli = CLITests()
        let folder = try cli.project()
        try cli.copyScenario("graduated-5-tiers", into: folder)
        return folder
    }

    @Test("without a terminal, progress is a plain line now and then (events so far, rate), with no escape codes")
    func progressLinesWithoutTerminal() throws {
        let folder = try graduatedProject()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A line at every progress report (every 65,536 events) instead of every 10 s.
        guard
            let result = try tally(
                ["run", "Scenarios/graduated-5-tiers.yaml"], in: folder,
                environment: ["TALLY_PROGRESS_SECONDS": "0"])
        else { return }
        #expect(result.status == 0)
        #expect(result.output.contains("graduated-5-tiers: 65,536 of 100,000 events (65%), "))
        #expect(result.output.contains(" events/s\n"))
        #expect(!result.output.contains("\u{1B}"))
    }

    @Test("NO_COLOR on a terminal keeps the progress bar (it has no colour)")
    func noColorKeepsTheBar() throws {
        let folder = try graduatedProject()
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let executable = BrokenScenarioCorpus.tallyExecutable() else { return }
        // `script` gives tally a terminal; its output is what that terminal showed.
        guard
            let result = try tally(
                ["-qec", "'\(executable.path)' run Scenarios/graduated-5-tiers.yaml", "/dev/null"],
                in: folder, environment: ["NO_COLOR": "1", "TERM": "xterm"], executable: "/usr/bin/script")
        else { return }
        #expect(result.status == 0)
        #expect(result.output.contains("graduated-5-tiers ["))
        #expect(result.output.contains("events/s, "))
        #expect(result.output.contains("PASS graduated-5-tiers"))
    }

    @Test("accepted usage outside a subscription or every period is reported in the run summary and the report")
    func outsideUsageReported() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(
            at: Repository.scenarios.appendingPathComponent("time-period-boundary.yaml"),
            to: folder.appendingPathComponent("Scenarios/time-period-boundary.yaml"))
        try FileManager.default.copyItem(
            at: Repository.fixtures.appendingPathComponent("time-period-boundary"),
            to: folder.appendingPathComponent("Fixtures/time-period-boundary"))
        guard let result = try cli.tally(["run", "--report", "report"], in: folder) else { return }
        // before-start (2025-12-31T23:59:59.999Z) and end-instant (2026-04-01T00:00:00Z): 2 events, on no invoice.
        #expect(result.status == 0)
        #expect(
            result.stdout.contains(
                "PASS time-period-boundary (7 events, ")
        )
        #expect(
            result.stdout.contains(
                "  time-period-boundary: 2 accepted events fall outside a subscription or every billing period and are on no invoice\n"
            ))
        // clock-skew accepts nothing, so it gets no such line.
        #expect(!result.stdout.contains("clock-skew: 0 accepted"))
        let page = try String(
            contentsOf: folder.appendingPathComponent("report/time-period-boundary.html"), encoding: .utf8)
        #expect(
            page.contains(
                "2 accepted events fall outside a subscription or every billing period and are on no invoice."))
    }

    @Test("--json carries each scenario's duration and its differences as data")
    func jsonCarriesDifferences() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Scenarios/clock-skew.yaml")
        // Base fee 10 -> 12, expect: updated too: acme's one invoice moves from 10.00 to 12.00.
        try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(
                of: "{ name: Base fee, model: flat, amount: 10 }", with: "{ name: Base fee, model: flat, amount: 12 }"
            )
            .replacingOccurrences(of: "invoice_total: { acme: 10.00 }", with: "invoice_total: { acme: 12.00 }")
            .write(to: file, atomically: true, encoding: .utf8)
        guard let result = try cli.tally(["run", "--json"], in: folder) else { return }
        #expect(result.status == 1)
        guard case .object(let summary) = try JSONValue.parse(result.stdout),
            case .array(let scenarios)? = summary["scenarios"],
            case .object(let scenario)? = scenarios.first
        else {
            Issue.record("no scenarios in \(result.stdout)")
            return
        }
        #expect(scenario["status"] == .string("failed"))
        guard case .number(let seconds)? = scenario["seconds"] else {
            Issue.record("no seconds")
            return
        }
        #expect(ExactDecimal(seconds) != nil && seconds.split(separator: ".").last?.count == 3)
        #expect(scenario["expect_failures"] == .array([]))
        let money = JSONValue.object(
            JSONObject([
                (key: "customer", value: .string("acme")), (key: "period", value: .string("2026-03-01")),
                (key: "expected_total", value: .string("10.00")), (key: "actual_total", value: .string("12.00")),
                (key: "expected_amount_due", value: .string("10.00")),
                (key: "actual_amount_due", value: .string("12.00")),
                (
                    key: "lines",
                    value: .array([
                        .object(
                            JSONObject([
                                (key: "name", value: .string("Base fee")), (key: "expected", value: .string("10.00")),
                                (key: "actual", value: .string("12.00")),
                            ]))
                    ])
                ),
            ]))
        #expect(scenario["money"] == .array([money]))
        guard case .array(let differences)? = scenario["differences"] else {
            Issue.record("no differences")
            return
        }
        let amount = differences.first { item in
            guard case .object(let o) = item else { return false }
            return o["path"] == .string("invoices acme period 2026-03-01 lines 'Base fee' amount")
        }
        guard case .object(let found)? = amount else {
            Issue.record("no difference for the Base fee amount")
            return
        }
        #expect(found["file"] == .string("invoices.json"))
        #expect(found["expected"] == .string("10.00"))
        #expect(found["actual"] == .string("12.00"))
    }

    @Test("a scenario in a subfolder keeps its goldens under Fixtures/<subfolder>/<name>/")
    func subfolderGoldens() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let eu = folder.appendingPathComponent("Scenarios/eu/vat")
        try FileManager.default.createDirectory(at: eu, withIntermediateDirectories: true)
        try FileManager.default.moveItem(
            at: folder.appendingPathComponent("Scenarios/clock-skew.yaml"),
            to: eu.appendingPathComponent("clock-skew.yaml"))
        guard let updated = try cli.tally(["run", "Scenarios/eu/vat", "--update"], in: folder) else { return }
        #expect(updated.status == 0, "\(updated.stdout)")
        let written = folder.appendingPathComponent("Fixtures/eu/vat/clock-skew/invoices.json")
        #expect(FileManager.default.fileExists(atPath: written.path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Scenarios/Fixtures").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Scenarios/eu/Fixtures").path))
        // The same goldens as the scenario had at the top level.
        #expect(
            try Data(contentsOf: written)
                == Data(contentsOf: folder.appendingPathComponent("Fixtures/clock-skew/invoices.json")))
        guard let again = try cli.tally(["run", "Scenarios/eu/vat/clock-skew.yaml"], in: folder) else { return }
        #expect(again.status == 0)
    }

    @Test(
        "--junit keeps to the common Jenkins JUnit schema (junit-4.xsd); --junit-dialect gitlab adds each case's file")
    func junitDialects() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        // One passing (clock-skew), one failing (its copy with a price changed) and one invalid file.
        let scenarios = folder.appendingPathComponent("Scenarios")
        try String(contentsOf: scenarios.appendingPathComponent("clock-skew.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "name: clock-skew", with: "name: clock-skew-changed")
            .replacingOccurrences(
                of: "{ name: Base fee, model: flat, amount: 10 }", with: "{ name: Base fee, model: flat, amount: 12 }"
            )
            .write(to: scenarios.appendingPathComponent("clock-skew-changed.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: folder.appendingPathComponent("Fixtures/clock-skew"),
            to: folder.appendingPathComponent("Fixtures/clock-skew-changed"))
        try "name: [\n".write(to: scenarios.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        guard let jenkins = try cli.tally(["run", "--junit", "jenkins.xml"], in: folder),
            let gitlab = try cli.tally(["run", "--junit", "gitlab.xml", "--junit-dialect", "gitlab"], in: folder)
        else { return }
        #expect(jenkins.status == 2 && gitlab.status == 2)

        // junit-4.xsd: the attributes each element may carry, and the order of a test case's children.
        let allowed: [String: Set<String>] = [
            "testsuites": ["name", "time", "tests", "failures", "disabled", "errors"],
            "testsuite": [
                "name", "tests", "failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id",
                "package",
            ],
            "testcase": ["name", "assertions", "time", "classname", "status"],
            "failure": ["type", "message"], "error": ["type", "message"], "system-out": [], "system-err": [],
            "skipped": [],
        ]
        let elements = try JUnitElements.read(folder.appendingPathComponent("jenkins.xml"))
        #expect(elements.map(\.name).filter { $0 == "testcase" }.count == 3)
        for element in elements {
            let permitted = try #require(allowed[element.name], "\(element.name) is not in junit-4.xsd")
            #expect(
                Set(element.attributes.keys).isSubset(of: permitted),
                "\(element.name) has \(element.attributes.keys.sorted())")
        }
        let order = ["skipped", "error", "failure", "system-out", "system-err"]
        for element in elements where element.name == "testcase" {
            let ranks = element.children.compactMap { order.firstIndex(of: $0) }
            #expect(
                ranks.count == element.children.count && ranks == ranks.sorted(),
                "testcase children \(element.children)")
            #expect(element.attributes["name"] != nil)
        }
        let gitlabCases = try JUnitElements.read(folder.appendingPathComponent("gitlab.xml")).filter {
            $0.name == "testcase"
        }
        #expect(
            gitlabCases.compactMap { $0.attributes["file"] }.sorted()
                == ["Scenarios/broken.yaml", "Scenarios/clock-skew-changed.yaml", "Scenarios/clock-skew.yaml"])
    }
}

/// The elements of an XML file in document order: name, attributes and the names of their child elements.
final class JUnitElements: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var children: [String] = []
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    static func read(_ url: URL) throws -> [Element] {
        let reader = JUnitElements()
        let parser = try #require(XMLParser(contentsOf: url))
        parser.delegate = reader
        #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
        return reader.elements
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if let parent = open.last { elements[parent].children.append(name) }
        open.append(elements.count)
        elements.append(Element(name: name, attributes: attributes))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }
}
