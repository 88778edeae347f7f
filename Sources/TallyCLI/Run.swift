import ArgumentParser
import Foundation
import TallyJSON
import TallySandbox

/// `tally run`: runs scenarios and compares their results with the golden files.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenarios and compare their invoices and rejections with the golden files.",
        discussion: """
            Ends with a line `N passed, M failed`. Exits 0 when all pass, 1 when any result \
            differs from its golden files or expect: checks, 2 when any scenario is invalid.
            """
    )

    @Argument(help: "Scenario files or folders (default: every scenario in Scenarios/).")
    var paths: [String] = []

    @Flag(help: "Rewrite the golden files with this run's results, and say which changed. Check the new numbers by hand.")
    var update = false

    @Option(help: "Also write a JUnit XML report to this file, for CI systems.")
    var junit: String?

    @Flag(help: "Print a machine-readable JSON summary on standard output (human output goes to standard error).")
    var json = false

    @Option(help: "Threads: 2 generates events on one while the other meters; more generate ahead; billing uses them all from 4,096 customers per thread (results are identical for any count).")
    var threads: Int = 1

    @Option(help: "The golden files' folder (default: Fixtures/ beside the scenarios' folder).")
    var fixtures: String?

    @Option(help: "Record the run in this SQLite ledger file (one scenario per ledger; re-running resumes it).")
    var ledger: String?

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be from 1 to 256") }
    }

    func run() throws {
        let files = try ScenarioFiles.resolve(paths)
        if ledger != nil && files.count > 1 { throw ValidationError("--ledger records one scenario: pass one scenario file") }
        let console = Console(toStandardError: json)
        var results: [ScenarioResult] = []
        for file in files {
            results.append(runOne(file, console: console))
        }
        let passed = results.filter { $0.status == .passed || $0.status == .updated }.count
        let failed = results.count - passed
        if let junit {
            try Data(JUnitReport.xml(results).utf8).write(to: URL(fileURLWithPath: junit), options: .atomic)
        }
        if json {
            print(CanonicalJSON.write(JSONSummary.json(results, passed: passed, failed: failed)), terminator: "")
        }
        console.line("\(passed) passed, \(failed) failed")
        // 2, not 1 ("differs from the goldens"), for a scenario or a ledger that cannot be used.
        if results.contains(where: { $0.status == .invalid || $0.ledgerFailed }) { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }

    func runOne(_ file: String, console: Console) -> ScenarioResult {
        let scenario: Scenario
        switch ScenarioSource.load(file) {
        case .success(let loaded): scenario = loaded
        case .failure(let errors):
            StandardError.write(errors.description + "\n")
            console.line("INVALID \(file)")
            return ScenarioResult(file: file, name: file, status: .invalid, messages: errors.diagnostics.map(\.description), events: 0, seconds: 0)
        }
        let recorder: LedgerRunRecorder?
        do { recorder = try ledger.map { try LedgerRunRecorder(path: $0, scenario: scenario, file: file) } } catch {
            console.line("FAIL \(scenario.name): \(error)")
            return ScenarioResult(file: file, name: scenario.name, status: .failed, messages: ["\(error)"], events: 0, seconds: 0,
                                  ledgerFailed: true)
        }
        let started = Date()
        let progress = ProgressBar(label: scenario.name, total: scenario.totalEvents)
        let run: ScenarioRun
        do {
            run = try ScenarioRunner.run(scenario, threads: threads, observer: recorder) { progress.update($0) }
        } catch {
            progress.finish()
            console.line("FAIL \(scenario.name): \(error)")
            return ScenarioResult(file: file, name: scenario.name, status: .failed, messages: [error.description], events: 0, seconds: 0,
                                  ledgerFailed: recorder?.failed ?? false)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let golden = GoldenFiles(fixtures: ScenarioFiles.fixtures(for: file, override: fixtures))
        let timing = "\(run.counts.received) events, \(String(format: "%.2f", seconds)) s"
        var messages = run.expectationFailures.map { "expect: \($0)" }
        if update {
            do {
                let changed = try golden.update(run)
                let what = changed.isEmpty ? "goldens unchanged" : "updated \(changed.joined(separator: ", ")), check the new numbers by hand"
                if messages.isEmpty {
                    console.line("PASS \(scenario.name) (\(timing); \(what))")
                    return ScenarioResult(file: file, name: scenario.name, status: changed.isEmpty ? .passed : .updated, messages: changed, events: run.counts.received, seconds: seconds)
                }
                messages.append("goldens: \(what)")
            } catch {
                messages.append("cannot write golden files: \(error.localizedDescription)")
            }
        } else {
            messages += golden.compare(run)
        }
        if messages.isEmpty {
            console.line("PASS \(scenario.name) (\(timing))")
            return ScenarioResult(file: file, name: scenario.name, status: .passed, messages: [], events: run.counts.received, seconds: seconds)
        }
        console.line("FAIL \(scenario.name) (\(timing))")
        for message in messages { console.line("  \(scenario.name): \(message)") }
        return ScenarioResult(file: file, name: scenario.name, status: .failed, messages: messages, events: run.counts.received, seconds: seconds)
    }
}

/// The outcome of one scenario, for the summary, JSON and JUnit reports.
struct ScenarioResult {
    enum Status: String { case passed, updated, failed, invalid }
    var file: String
    var name: String
    var status: Status
    var messages: [String]
    var events: Int
    var seconds: Double
    /// The ledger could not be opened or written: exit 2, whatever the goldens say.
    var ledgerFailed = false
}

/// Human output: standard output normally, standard error when standard output carries JSON.
struct Console {
    var toStandardError: Bool
    func line(_ text: String) {
        if toStandardError { StandardError.write(text + "\n") } else { print(text) }
    }
}
