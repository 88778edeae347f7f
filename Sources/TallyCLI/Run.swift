import ArgumentParser
import Foundation
import TallyGateways
import TallyJSON
import TallyReport
import TallySandbox

extension RecordFormat: ExpressibleByArgument {}

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

    @Flag(
        help:
            "Rewrite the golden files with this run's results, and say which changed. Check the new numbers by hand. A scenario whose expect: checks fail gets no golden file."
    )
    var update = false

    @Option(help: "Also write a JUnit XML report to this file, for CI systems.")
    var junit: String?

    @Option(
        help:
            "The JUnit dialect: jenkins (valid against Jenkins' JUnit schema) or gitlab (adds each test case's scenario file, which GitLab links to; that schema has no place for it)."
    )
    var junitDialect: JUnitReport.Dialect = .jenkins

    @Flag(help: "Print a machine-readable JSON summary on standard output (human output goes to standard error).")
    var json = false

    @Option(
        help:
            "Threads: 2 generates events on one while the other meters; more generate ahead; billing uses them all from 4,096 customers per thread (results are identical for any count)."
    )
    var threads: Int = 1

    @Option(help: "The golden files' folder (default: Fixtures/ beside the scenarios' folder).")
    var fixtures: String?

    @Option(help: "Record the run in this SQLite ledger file (one scenario per ledger; re-running resumes it).")
    var ledger: String?

    @Option(
        help:
            "Also write an HTML report to this folder: a page per scenario (invoices, usage charts, outcomes) and index.html."
    )
    var report: String?

    @Option(
        help:
            "Bill this event file against the scenario's catalog instead of its own traffic (no golden files compared)."
    )
    var events: String?

    @Option(
        help:
            "The --events file's format: jsonl, csv, kong, aws, azure, apigee or mulesoft (default: csv for .csv, else jsonl)."
    )
    var format: RecordFormat?

    @Option(help: "With --events: write invoices.json and rejections.json into this folder.")
    var out: String?

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be from 1 to 256") }
        if events == nil && (format != nil || out != nil) {
            throw ValidationError("--format and --out go with --events")
        }
        if events != nil && (paths.count != 1 || update) {
            throw ValidationError(
                "--events bills one file against one scenario: pass one scenario file, without --update")
        }
    }

    func run() throws {
        if let events { return try billFile(events) }
        let files = try ScenarioFiles.resolve(paths)
        if ledger != nil && files.count > 1 {
            throw ValidationError("--ledger records one scenario: pass one scenario file")
        }
        let console = Console(toStandardError: json)
        var results: [ScenarioResult] = []
        for file in files {
            results.append(runOne(file, console: console))
        }
        let passed = results.filter { $0.status == .passed || $0.status == .updated }.count
        let failed = results.count - passed
        if let junit {
            try Data(JUnitReport.xml(results, dialect: junitDialect).utf8).write(
                to: URL(fileURLWithPath: junit), options: .atomic)
        }
        if let report {
            try RunReport.write(results.map(\.report), to: URL(fileURLWithPath: report, isDirectory: true))
            console.line("report: \((report as NSString).appendingPathComponent("index.html"))")
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
            return ScenarioResult(
                file: file, name: file, status: .invalid, messages: errors.diagnostics.map(\.description), events: 0,
                seconds: 0)
        }
        let recorder: LedgerRunRecorder?
        do { recorder = try ledger.map { try LedgerRunRecorder(path: $0, scenario: scenario, file: file) } } catch {
            console.line("FAIL \(scenario.name): \(error)")
            return ScenarioResult(
                file: file, name: scenario.name, status: .failed, messages: ["\(error)"], events: 0, seconds: 0,
                ledgerFailed: true)
        }
        let started = Date()
        let progress = ProgressBar(label: scenario.name, total: scenario.totalEvents)
        // The report's daily usage watches the run too, handing each event on to the ledger.
        let usage = report == nil ? nil : DailyUsage(scenario: scenario, next: recorder)
        let run: ScenarioRun
        do {
            run = try ScenarioRunner.run(scenario, threads: threads, observer: usage ?? recorder) {
                progress.update($0)
            }
        } catch {
            progress.finish()
            console.line("FAIL \(scenario.name): \(error)")
            return ScenarioResult(
                file: file, name: scenario.name, status: .failed, messages: [error.description], events: 0, seconds: 0,
                ledgerFailed: recorder?.failed ?? false)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let golden = GoldenFiles(fixtures: ScenarioFiles.fixtures(for: file, override: fixtures))
        let timing =
            "\(run.counts.received) events, \(String(format: "%.2f", seconds)) s"
            + (run.requests.map { "; \($0.summary)" } ?? "")
            + (run.reconciliation.map { "; \($0.summary)" } ?? "")
        var messages = run.expectationFailures.map { "expect: \($0)" }
        var result = ScenarioResult(
            file: file, name: scenario.name, status: .passed, messages: [], events: run.counts.received,
            seconds: seconds)
        result.run = report == nil ? nil : run
        result.usage = usage
        result.goldenInvoices =
            golden.fixtures.appendingPathComponent(scenario.name).appendingPathComponent("invoices.json").path
        result.expectationFailures = run.expectationFailures
        result.outsidePeriods = run.counts.outsidePeriods
        result.requests = run.requests
        var passLine = "PASS \(scenario.name) (\(timing))"
        if update && !messages.isEmpty {
            // Goldens record what was checked by hand; a run whose expect: checks fail is not that.
            messages.append("goldens: not written, because the expect: checks above fail")
        } else if update {
            do {
                let changed = try golden.update(run)
                let what =
                    changed.isEmpty
                    ? "goldens unchanged" : "updated \(changed.joined(separator: ", ")), check the new numbers by hand"
                passLine = "PASS \(scenario.name) (\(timing); \(what))"
                result.status = changed.isEmpty ? .passed : .updated
                result.messages = changed
            } catch {
                messages.append("cannot write golden files: \(error.localizedDescription)")
            }
        } else {
            messages += golden.compare(run)
        }
        // Accepted but billed nowhere: worth a line even when the run passes.
        let outside = run.counts.outsidePeriods
        let note =
            outside == 0
            ? nil
            : "  \(scenario.name): \(ProgressBar.grouped(outside)) accepted events fall outside a subscription "
                + "or every billing period and are on no invoice"
        if messages.isEmpty {
            console.line(passLine)
            if let note { console.line(note) }
            return result
        }
        console.line("FAIL \(scenario.name) (\(timing))")
        if let note { console.line(note) }
        for message in messages { console.line("  \(scenario.name): \(message)") }
        result.status = .failed
        result.messages = messages
        if (report != nil || json) && !update {
            result.moneyDifferences = golden.moneyDifferences(run)
            result.goldenDifferences = golden.fileDifferences(run)
        }
        return result
    }
}

extension Run {
    /// `--events FILE`: bills the file against the scenario's catalog and prints what it came to.
    func billFile(_ file: String) throws {
        let scenario = try ScenarioSource.loadOrExit(paths[0]).billing(file: file, format: format)
        let run: ScenarioRun
        do { run = try ScenarioRunner.run(scenario, threads: threads) } catch {
            StandardError.write("tally run: \(error)\n")
            throw ExitCode(1)
        }
        let console = Console(toStandardError: json)
        let counts = run.counts
        for input in run.inputs {
            let notBilled = input.notBilled.keys.sorted().map { "\(input.notBilled[$0] ?? 0) x \($0)" }
            let others = input.otherTenants.keys.sorted().map { "\(input.otherTenants[$0] ?? 0) of '\($0)'" }
            console.line(
                "\(input.file): \(input.records) records, \(input.events) events (\(input.undecodable) undecodable)"
                    + (notBilled.isEmpty ? "" : ", not billed: \(notBilled.joined(separator: ", "))")
                    + (others.isEmpty ? "" : ", other tenants (not billed here): \(others.joined(separator: ", "))"))
        }
        console.line(
            "\(counts.received) events: \(counts.accepted) accepted (\(counts.late) late), \(counts.rejected) rejected, "
                + "\(counts.deadLettered) dead-lettered; \(run.invoiceCount) invoices")
        for sample in run.deadLetterSamples { console.line("  dead letter \(sample)") }
        let currency = scenario.catalog.currency
        for invoice in run.invoices {
            console.line(
                "  \(invoice.period.start.iso8601.prefix(10)) \(invoice.customer): \(currency.format(invoice.total))")
        }
        if let out {
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                for (name, text) in [("invoices.json", run.invoicesJSON), ("rejections.json", run.rejectionsJSON)] {
                    try Data(text.utf8).write(
                        to: URL(fileURLWithPath: out).appendingPathComponent(name), options: .atomic)
                }
            } catch {
                StandardError.write("tally run: cannot write \(out): \(error.localizedDescription)\n")
                throw ExitCode(1)
            }
        }
        if json { print(run.rejectionsJSON, terminator: "") }
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
    /// For `--report`: the run, its daily usage and the money that moved against the goldens.
    var run: ScenarioRun?
    var usage: DailyUsage?
    var moneyDifferences: [MoneyDifference] = []
    /// For `--json` and `--report`: every difference from the golden files, as data.
    var goldenDifferences: [GoldenDifference] = []
    var expectationFailures: [String] = []
    /// Accepted events on no invoice (outside a subscription or every period).
    var outsidePeriods = 0
    /// The gateway's decisions, for a scenario with a request path.
    var requests: RequestLog?
    var goldenInvoices = ""
    /// The ledger could not be opened or written: exit 2, whatever the goldens say.
    var ledgerFailed = false

    init(
        file: String, name: String, status: Status, messages: [String], events: Int, seconds: Double,
        ledgerFailed: Bool = false
    ) {
        self.file = file
        self.ledgerFailed = ledgerFailed
        self.name = name
        self.status = status
        self.messages = messages
        self.events = events
        self.seconds = seconds
    }

    /// What the HTML report shows of this scenario.
    var report: ScenarioReport {
        ScenarioReport(
            status: status.rawValue, file: file, name: name, messages: messages, seconds: seconds, run: run,
            usage: usage, moneyDifferences: moneyDifferences, goldenInvoices: goldenInvoices)
    }
}

/// Human output: standard output normally, standard error when standard output carries JSON.
struct Console {
    var toStandardError: Bool
    func line(_ text: String) {
        if toStandardError { StandardError.write(text + "\n") } else { print(text) }
    }
}
