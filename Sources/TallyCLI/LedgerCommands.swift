import ArgumentParser
import Foundation
import TallyJSON
import TallyLedger
import TallyPipeline
import TallySandbox

/// `tally run --ledger FILE`: the recorder, and one line on standard error with its write rate.
final class LedgerRunRecorder: RunObserver {
    let recorder: LedgerRecorder
    /// Whether recording the run into the ledger failed.
    private(set) var failed = false

    init(path: String, scenario: Scenario, file: String) throws {
        let text = try LedgerFiles.text(of: file)
        recorder = try LedgerRecorder(
            ledger: try Ledger(path: path, create: true, exclusive: true),
            scenario: RunDescription(scenario, text: text),
            toolVersion: Tally.configuration.version)
    }

    func sent(_ item: GeneratedItem, outcome: MeteringOutcome) {
        recorder.record(
            eventID: item.eventID, payload: DeadLetter.Payload(item.payload), receivedAt: item.receivedAt,
            outcome: outcome)
    }

    func refused(_ item: GeneratedItem, decision: AccessDecision, at instant: Instant) {
        guard case .event(let event) = item.payload, let reason = decision.refusal else { return }
        recorder.recordRefusal(event, at: instant, reason: reason)
    }

    func finished(_ run: ScenarioRun, meter: Meter) throws {
        do { try recorder.finish(counts: run.counts, invoices: run.invoices, meter: meter) } catch {
            failed = true
            throw error
        }
        let seconds = Double(recorder.writeNanoseconds) / 1e9
        let cpu = Double(recorder.writeCPUNanoseconds) / 1e9
        let rows = recorder.rowsWritten
        StandardError.write(
            "ledger \(recorder.ledger.path): \(rows) rows in \(String(format: "%.3f", seconds)) s of ledger writes, \(ProgressBar.compact(recorder.rowsPerSecond)) rows/s (writer CPU \(String(format: "%.3f", cpu)) s: \(ProgressBar.compact(cpu > 0 ? Double(rows) / cpu : 0)) rows per CPU-second)\n"
        )
    }
}

extension RunDescription {
    /// The `runs` row of a run of `scenario`, whose file holds `text`.
    init(_ scenario: Scenario, text: String) {
        self.init(
            name: scenario.name, seed: scenario.seed, file: scenario.file, text: text,
            clockStart: scenario.schedule.start ?? Instant(millisecondsSinceEpoch: 0),
            clockEnd: scenario.schedule.end ?? Instant(millisecondsSinceEpoch: 0), plannedEvents: scenario.totalEvents)
    }
}

extension BillingTerms {
    /// The sandbox's reading of scenario text: what the ledger's replays and checks bill with.
    static let scenario: Loader = { yaml, file in
        let scenario = try ScenarioLoader.load(yaml: yaml, file: file)
        return BillingTerms(scenario)
    }

    /// The sandbox's reading of a what-if's plans: a whole scenario, or plans alone completed from the recorded one.
    static let plans: PlansLoader = { yaml, file, recorded in
        BillingTerms(try ScenarioLoader.load(plans: yaml, file: file, completingFrom: recorded))
    }

    init(_ scenario: Scenario) {
        self.init(catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits)
    }
}

extension DeadLetter.Payload {
    /// A generated item's payload as the ledger stores it (a malformed one is raw text).
    init(_ payload: GeneratedItem.Payload) {
        switch payload {
        case .event(let event): self = .event(event)
        case .malformed(let text), .undecodable(let text, _): self = .raw(text)
        }
    }
}

enum LedgerFiles {
    static func text(of file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("\(file): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(file): the file is not UTF-8 text")
        }
        return text
    }

    /// Runs `body`, turning ledger and file errors into a message on standard error and exit code 2.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ExitCode { throw error } catch {
            StandardError.write("error: \(error)\n")
            throw ExitCode(2)
        }
    }
}

/// `tally dead-letters FILE [--replay] [--scenario FIXED.yaml]`.
struct DeadLetters: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List a ledger's dead letters by reason, or replay them after the catalog was fixed.",
        discussion: """
            With --replay, the run's meter is rebuilt from the ledger, the fixed scenario's catalog is \
            swapped in, and every pending dead letter is metered again: accepted ones are recorded once \
            and the invoices billed again; a second replay changes nothing. Exits 2 on a bad file.
            """
    )

    @Argument(help: "The ledger file (from tally run --ledger).")
    var file: String

    @Flag(help: "Meter the pending dead letters again and record the accepted ones.")
    var replay = false

    @Option(help: "The fixed scenario whose catalog the replay uses (default: the recorded one).")
    var scenario: String?

    @Option(help: "Dead letters listed per reason.")
    var limit: Int = 10

    func validate() throws {
        if scenario != nil && !replay { throw ValidationError("--scenario is only used with --replay") }
        if limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        try LedgerFiles.reporting {
            let ledger = try Ledger(path: file, exclusive: replay)
            if replay {
                let fixedYAML = try scenario.map(LedgerFiles.text(of:))
                let report = try DeadLetterReplay.replay(
                    ledger, fixedYAML: fixedYAML, file: scenario ?? file, load: BillingTerms.scenario)
                print(
                    "replayed \(report.tried) dead letters at \(report.replayedAt.iso8601): \(report.accepted) accepted"
                )
                for (reason, count) in report.rejected.sorted(by: { $0.key < $1.key }) {
                    print("  rejected \(reason.rawValue): \(count)")
                }
                for (reason, count) in report.stillDead.sorted(by: { $0.key < $1.key }) {
                    print("  still dead-lettered \(reason.rawValue): \(count)")
                }
                print(
                    report.rebilled
                        ? "invoices billed again under \(scenario ?? "the recorded catalog")" : "invoices unchanged")
                return
            }
            let letters = try ledger.deadLetters()
            let byReason = Dictionary(grouping: letters, by: \.reason)
            if letters.isEmpty { print("no dead letters") }
            for reason in byReason.keys.sorted() {
                let group = byReason[reason] ?? []
                let pending = group.filter { $0.replayedAt == nil }.count
                print("\(reason): \(group.count) (\(pending) pending, \(group.count - pending) replayed)")
                for letter in group.prefix(limit) {
                    let state = letter.replayOutcome.map { "replayed: \($0)" } ?? "pending"
                    print(
                        "  #\(letter.seq) \(letter.eventID ?? "-") at \(letter.receivedAt.iso8601) [\(state)]: \(letter.detail)"
                    )
                }
                if group.count > limit { print("  ... and \(group.count - limit) more") }
            }
        }
    }
}

/// `tally rerate FILE --plans OTHER.yaml [--json]`.
struct Rerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-rate a ledger's recorded usage under another scenario's catalog (what-if pricing).",
        discussion:
            "Prints per customer and in total the old amount (recorded invoice totals), the new amount and the difference. Exits 2 on a bad file."
    )

    @Argument(help: "The ledger file (from tally run --ledger).")
    var file: String

    @Option(
        help:
            "The scenario whose catalog prices the recorded usage, or a file of plans alone (the rest comes from the recorded scenario)."
    )
    var plans: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        try LedgerFiles.reporting {
            let report = try Rerating.run(
                try Ledger(path: file), plansYAML: try LedgerFiles.text(of: plans), file: plans,
                load: BillingTerms.scenario, loadPlans: BillingTerms.plans)
            let money = report.currency.format
            if json {
                func line(_ line: Rerating.Line) -> JSONValue {
                    .object(
                        JSONObject([
                            (key: "customer", value: .string(line.customer)),
                            (key: "old", value: .string(money(line.old))),
                            (key: "new", value: .string(money(line.new))),
                            (key: "difference", value: .string(money(line.difference))),
                        ]))
                }
                let notAccepted = report.notAccepted.sorted { $0.key < $1.key }.map {
                    (key: $0.key.rawValue, value: JSONValue.number(String($0.value)))
                }
                print(
                    CanonicalJSON.write(
                        .object(
                            JSONObject([
                                (key: "currency", value: .string(report.currency.code)),
                                (key: "customers", value: .array(report.lines.map(line))),
                                (key: "total", value: line(report.total)),
                                (key: "not_accepted", value: .object(JSONObject(notAccepted))),
                            ]))), terminator: "")
                return
            }
            let rows = report.lines + [report.total]
            let width = max(8, rows.map(\.customer.count).max() ?? 0)
            func pad(_ text: String, _ n: Int, left: Bool = false) -> String {
                let fill = String(repeating: " ", count: max(0, n - text.count))
                return left ? text + fill : fill + text
            }
            print(
                "\(pad("customer", width, left: true))  \(pad("old", 14))  \(pad("new", 14))  \(pad("difference", 14))  (\(report.currency.code))"
            )
            for row in rows {
                print(
                    "\(pad(row.customer, width, left: true))  \(pad(money(row.old), 14))  \(pad(money(row.new), 14))  \(pad(money(row.difference), 14))"
                )
            }
            for (reason, count) in report.notAccepted.sorted(by: { $0.key < $1.key }) {
                print("note: \(count) recorded events are \(reason.rawValue) under \(plans) and are not billed")
            }
        }
    }
}

/// `tally reconcile FILE`.
struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute usage from a ledger's events and compare it with its invoices' quantities.",
        discussion:
            "Prints every difference per customer, metric and period. Exits 0 when they agree, 1 on any difference, 2 on a bad file."
    )

    @Argument(help: "The ledger file (from tally run --ledger).")
    var file: String

    func run() throws {
        let report = try LedgerFiles.reporting {
            try Reconciliation.run(try Ledger(path: file), load: BillingTerms.scenario)
        }
        for problem in report.problems { print("problem: \(problem)") }
        for difference in report.differences {
            print(
                "\(difference.customer) \(difference.metric) period \(difference.period): invoiced \(difference.invoiced), events give \(difference.recomputed), difference \(difference.difference)"
            )
        }
        if !report.refusals.isEmpty {
            let reasons = report.refusals.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            print(
                "refused at the gateway (never metered): \(report.refusals.values.reduce(0, +)) requests, "
                    + reasons.joined(separator: ", "))
        }
        if report.isClean {
            print("reconciled: \(report.eventsChecked) events agree with the invoices")
        } else {
            print("\(report.differences.count) differences, \(report.problems.count) problems")
            throw ExitCode(1)
        }
    }
}
