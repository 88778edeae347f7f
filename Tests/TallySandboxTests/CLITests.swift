import Foundation
import TallyJSON
import TallyPipeline
import Testing

/// The `tally` command as CI uses it: exit codes, --json, --junit and --update.
@Suite("tally run: exit codes and reports")
struct CLITests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func tally(_ arguments: [String], in directory: URL) throws -> Result? {
        guard let executable = BrokenScenarioCorpus.tallyExecutable() else {
            Issue.record("the tally executable is not built next to the tests; run `swift build` first")
            return nil
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A scratch project with one bundled scenario and its goldens.
    func project() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-cli-\(UUID().uuidString)")
        let scenarios = folder.appendingPathComponent("Scenarios")
        let fixtures = folder.appendingPathComponent("Fixtures")
        try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: fixtures, withIntermediateDirectories: true)
        try copyScenario("clock-skew", into: folder)
        return folder
    }

    /// Copies the bundled scenario `name` and its goldens into the scratch project at `folder`.
    func copyScenario(_ name: String, into folder: URL) throws {
        try FileManager.default.copyItem(
            at: Repository.scenarios.appendingPathComponent("\(name).yaml"),
            to: folder.appendingPathComponent("Scenarios/\(name).yaml"))
        try FileManager.default.copyItem(
            at: Repository.fixtures.appendingPathComponent(name),
            to: folder.appendingPathComponent("Fixtures/\(name)"))
    }

    @Test("a passing run exits 0, ends with the summary line, and writes JSON and JUnit reports")
    func passing() throws {
        let folder = try project()
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let result = try tally(["run", "--json", "--junit", "report.xml"], in: folder) else { return }
        #expect(result.status == 0)
        // With --json, standard output is only the JSON document; the human lines go to standard error.
        let summary = try JSONValue.parse(result.stdout)
        guard case .object(let object) = summary else {
            Issue.record("not a JSON object")
            return
        }
        #expect(object["passed"] == .number("1"))
        #expect(object["failed"] == .number("0"))
        #expect(result.stderr.hasSuffix("1 passed, 0 failed\n"))
        #expect(!result.stderr.contains("\u{1B}["))
        let junit = try String(contentsOf: folder.appendingPathComponent("report.xml"), encoding: .utf8)
        #expect(junit.contains(#"<testsuite name="tally" tests="1" failures="0" errors="0""#))
        #expect(junit.contains(#"name="clock-skew""#))
    }

    @Test(
        "bench --repeat runs several times and reports the median run with the fastest and slowest; --repeat 0 is refused"
    )
    func benchRepeats() throws {
        let folder = try project()
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let result = try tally(["bench", "Scenarios/clock-skew.yaml", "--repeat", "3", "--json"], in: folder)
        else { return }
        #expect(result.status == 0)
        guard case .object(let report) = try JSONValue.parse(result.stdout), case .object(let runs)? = report["runs"],
            case .object(let fastest)? = runs["fastest_whole_run"],
            case .object(let slowest)? = runs["slowest_whole_run"],
            case .object(let stages)? = report["stages"], case .object(let median)? = stages["whole_run"],
            case .number(let low)? = fastest["seconds"], case .number(let middle)? = median["seconds"],
            case .number(let high)? = slowest["seconds"],
            let lowSeconds = ExactDecimal(low), let middleSeconds = ExactDecimal(middle),
            let highSeconds = ExactDecimal(high)
        else {
            Issue.record("no runs, stages or seconds in \(result.stdout)")
            return
        }
        #expect(runs["count"] == .number("3"))
        #expect(lowSeconds <= middleSeconds && middleSeconds <= highSeconds)
        guard let refused = try tally(["bench", "Scenarios/clock-skew.yaml", "--repeat", "0"], in: folder) else {
            return
        }
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--repeat must be from 1 to 100"))
    }

    @Test("a changed price exits 1 with a diff naming the customer and line; --update rewrites and names the files")
    func failingThenUpdated() throws {
        let folder = try project()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Scenarios/clock-skew.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        // Base fee 10 -> 12: acme's invoice becomes 12.00 (no usage is billed: every event is skewed).
        try text.replacingOccurrences(
            of: "{ name: Base fee, model: flat, amount: 10 }", with: "{ name: Base fee, model: flat, amount: 12 }"
        )
        .replacingOccurrences(of: "invoice_total: { acme: 10.00 }", with: "invoice_total: { acme: 12.00 }")
        .write(to: file, atomically: true, encoding: .utf8)
        guard let failed = try tally(["run", "--junit", "report.xml"], in: folder) else { return }
        #expect(failed.status == 1)
        #expect(
            failed.stdout.contains(
                "clock-skew: invoices.json: invoices acme period 2026-03-01 lines 'Base fee' amount: expected 10.00, actual 12.00"
            ))
        #expect(failed.stdout.hasSuffix("0 passed, 1 failed\n"))
        let junit = try String(contentsOf: folder.appendingPathComponent("report.xml"), encoding: .utf8)
        #expect(junit.contains("<failure message=\"differs from its golden files or expect: checks\">"))

        guard let updated = try tally(["run", "--update"], in: folder) else { return }
        #expect(updated.status == 0)
        #expect(updated.stdout.contains("updated invoices.json, check the new numbers by hand"))
        guard let again = try tally(["run"], in: folder) else { return }
        #expect(again.status == 0)
    }

    @Test("an invalid scenario exits 2 and nothing is run")
    func invalid() throws {
        let folder = try project()
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: broken\nseed: -1\n".write(
            to: folder.appendingPathComponent("Scenarios/broken.yaml"), atomically: true, encoding: .utf8)
        guard let result = try tally(["run"], in: folder) else { return }
        #expect(result.status == 2)
        #expect(
            result.stderr.contains(
                "Scenarios/broken.yaml:2:7: seed must be a whole number from 0 to 18446744073709551615"))
        #expect(result.stdout.contains("INVALID Scenarios/broken.yaml"))
        #expect(result.stdout.hasSuffix("1 passed, 1 failed\n"))
    }
}
