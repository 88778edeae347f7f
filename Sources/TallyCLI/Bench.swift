import ArgumentParser
import Foundation
import TallyGateways
import TallyJSON
import TallySandbox

/// `tally bench`: runs a scenario at a chosen size and reports throughput, time per stage and memory.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario at a given size and print events/s, time per event per stage, and memory.",
        discussion: """
            Two passes: the event stream alone (generation), then the whole run as `tally run` does it, \
            except that each invoice is counted and let go as it is made instead of kept for a golden \
            file. Billing is timed inside the run; metering is the run up to billing (building the \
            meter included) less generation; the rest is checking expectations and freeing the run. Peak \
            resident memory is VmHWM from /proc/self/status. Dedup bytes are the table's own size \
            (16-byte slots, grown at 80% load). With one thread everything runs on it; \
            with two, a second thread generates and merges the stream while the first meters; more \
            threads generate chunks ahead of the merge. On a shared machine, --repeat runs it several \
            times and reports the run with the median whole-run time, and the fastest and slowest. \
            Build in release (`swift build -c release`) for meaningful figures. With --file, the \
            scenario bills that event file instead of its traffic (as `tally run --events` does): \
            generation is then reading and decoding the file alone.
            """
    )

    @Argument(help: "The scenario file.")
    var scenario: String

    @Option(
        help:
            "Generated events in all: every traffic's events are scaled to add up to this, keeping their proportions (default: the scenario's own)."
    )
    var events: Int?

    @Option(help: "Bill this event file against the scenario's catalog instead of generating its traffic.")
    var file: String?

    @Option(
        help:
            "The --file's format: jsonl, csv, kong, aws, azure, apigee or mulesoft (default: csv for .csv, else jsonl)."
    )
    var format: RecordFormat?

    @Option(
        help:
            "Threads: 1 does everything on one; 2 generates on a second while the first meters; more generate ahead. Billing uses them all from 4,096 customers per thread."
    )
    var threads: Int = 1

    @Option(
        name: .customLong("repeat"),
        help: "Runs: the figures are the run with the median whole-run time, with the fastest and slowest beside it.")
    var repeats: Int = 1

    @Flag(help: "Print the figures as JSON on standard output.")
    var json = false

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be from 1 to 256") }
        if let events, events < 1 || events > 10_000_000_000 {
            throw ValidationError("--events must be from 1 to 10000000000")
        }
        if file != nil && events != nil {
            throw ValidationError("--events scales generated traffic; a --file has the events it has")
        }
        if file == nil && format != nil { throw ValidationError("--format goes with --file") }
        guard repeats >= 1 && repeats <= 100 else { throw ValidationError("--repeat must be from 1 to 100") }
    }

    func run() throws {
        let loaded = try ScenarioSource.loadOrExit(scenario)
        var sized = events.map { loaded.scaled(toGeneratedEvents: $0) } ?? loaded
        if let file { sized = loaded.billing(file: file, format: format) }
        var series: BenchSeries?
        for run in 1...repeats {
            let label = repeats == 1 ? sized.name : "\(sized.name) (run \(run) of \(repeats))"
            let progress = ProgressBar(label: label, total: sized.totalEvents)
            let result: BenchResult
            do {
                result = try PipelineBench.run(sized, threads: threads) { _, done in progress.update(done) }
            } catch {
                progress.finish()
                StandardError.write("tally bench: \(error)\n")
                throw ExitCode(1)
            }
            progress.finish()
            guard result.streamItems == result.events else {
                StandardError.write(
                    "tally bench: the generation pass saw \(result.streamItems) events, the run \(result.events)\n")
                throw ExitCode(1)
            }
            if series == nil { series = BenchSeries(result) } else { series?.append(result) }
        }
        guard let series else { throw ExitCode(1) }  // --repeat is at least 1
        let machine = MachineInfo.current()
        let peak = MachineInfo.peakResidentBytes()
        if json {
            print(CanonicalJSON.write(BenchReport.json(series, machine: machine, peakBytes: peak)), terminator: "")
        } else {
            print(BenchReport.table(series, machine: machine, peakBytes: peak), terminator: "")
        }
        for failure in series.median.expectationFailures { StandardError.write("note: expect: \(failure)\n") }
    }
}

/// The human table and the JSON of `tally bench`.
enum BenchReport {
    static func table(_ series: BenchSeries, machine: MachineInfo, peakBytes: Int?) -> String {
        let r = series.median
        var lines: [String] = []
        lines.append(
            "scenario   \(r.scenario): \(grouped(r.generatedEvents)) generated events, \(grouped(r.events)) received")
        lines.append(
            "machine    \(machine.model), \(machine.cores) cores; \(r.threads) thread\(r.threads == 1 ? "" : "s")")
        lines.append(
            "outcomes   \(grouped(r.counts.accepted)) accepted (\(grouped(r.counts.late)) late), \(grouped(r.counts.rejected)) rejected, \(grouped(r.counts.deadLettered)) dead-lettered; \(grouped(r.invoices)) invoice\(r.invoices == 1 ? "" : "s")"
        )
        lines.append("")
        let header = ["stage", "seconds", "ns/event", "events/s"]
        var rows: [[String]] = []
        func row(_ name: String, _ seconds: Double, rated: Bool = true) {
            // Billing's cost follows customers and charges, not events: no events/s for it.
            let rate = rated && seconds > 0 ? Double(r.events) / seconds : 0
            rows.append([
                name, String(format: "%.3f", seconds), String(format: "%.1f", r.nanosecondsPerEvent(seconds)),
                rate > 0 ? compact(rate) : "-",
            ])
        }
        row("generation (stream alone)", r.generationSeconds)
        row("metering (validate, dedup, aggregate)", r.meteringSeconds)
        row("billing (rate, invoice)", r.billingSeconds, rated: false)
        row("rest (expectations, freeing)", r.restSeconds, rated: false)
        row("whole run", r.wholeRunSeconds)
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0
                    ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        lines.append(format(header))
        for cells in rows { lines.append(format(cells)) }
        lines.append("")
        lines.append(
            "throughput \(compact(r.eventsPerSecond)) events/s for the whole run (\(String(format: "%.0f", r.eventsPerSecond)))"
        )
        if series.runs.count > 1 {
            let (fastest, slowest) = (series.fastest, series.slowest)
            lines.append(
                "runs       \(series.runs.count), the median shown; whole run \(String(format: "%.1f", fastest.nanosecondsPerEvent(fastest.wholeRunSeconds))) to \(String(format: "%.1f", slowest.nanosecondsPerEvent(slowest.wholeRunSeconds))) ns/event (\(compact(fastest.eventsPerSecond)) to \(compact(slowest.eventsPerSecond)) events/s)"
            )
        }
        lines.append(
            "peak RSS   \(peakBytes.map { megabytes($0) } ?? "unknown (no /proc/self/status)") (VmHWM, the whole process: \(series.runs.count == 1 ? "both passes" : "every pass of every run"))"
        )
        let dedup = r.dedup
        lines.append(
            "dedup      \(grouped(dedup.keys)) remembered keys in \(megabytes(dedup.bytes)), \(String(format: "%.1f", dedup.bytesPerKey)) bytes per key (16-byte slots, sized for the run's events, grown at 80% load, on huge pages where Linux offers them)"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ series: BenchSeries, machine: MachineInfo, peakBytes: Int?) -> JSONValue {
        let r = series.median
        func number(_ value: Int) -> JSONValue { .number(String(value)) }
        func number(_ value: Double, _ digits: Int) -> JSONValue { .number(String(format: "%.\(digits)f", value)) }
        func stage(_ seconds: Double, of run: BenchResult? = nil) -> JSONValue {
            .object(
                JSONObject([
                    (key: "seconds", value: number(seconds, 6)),
                    (key: "ns_per_event", value: number((run ?? r).nanosecondsPerEvent(seconds), 2)),
                ]))
        }
        let dedup = r.dedup
        return .object(
            JSONObject([
                (key: "scenario", value: .string(r.scenario)),
                (key: "threads", value: number(r.threads)),
                (
                    key: "machine",
                    value: .object(
                        JSONObject([
                            (key: "cpu", value: .string(machine.model)),
                            (key: "cores", value: number(machine.cores)),
                        ]))
                ),
                (key: "generated_events", value: number(r.generatedEvents)),
                (key: "events", value: number(r.events)),
                (key: "accepted", value: number(r.counts.accepted)),
                (key: "rejected", value: number(r.counts.rejected)),
                (key: "dead_lettered", value: number(r.counts.deadLettered)),
                (key: "invoices", value: number(r.invoices)),
                (key: "events_per_second", value: number(r.eventsPerSecond, 0)),
                (
                    key: "stages",
                    value: .object(
                        JSONObject([
                            (key: "generation", value: stage(r.generationSeconds)),
                            (key: "metering", value: stage(r.meteringSeconds)),
                            (key: "billing", value: stage(r.billingSeconds)),
                            (key: "rest", value: stage(r.restSeconds)),
                            (key: "whole_run", value: stage(r.wholeRunSeconds)),
                        ]))
                ),
                (key: "peak_resident_bytes", value: peakBytes.map(number) ?? .null),
                (
                    key: "runs",
                    value: .object(
                        JSONObject([
                            (key: "count", value: number(series.runs.count)),
                            // The median run's stages are the ones above; these bound its whole run.
                            (
                                key: "fastest_whole_run",
                                value: stage(series.fastest.wholeRunSeconds, of: series.fastest)
                            ),
                            (
                                key: "slowest_whole_run",
                                value: stage(series.slowest.wholeRunSeconds, of: series.slowest)
                            ),
                        ]))
                ),
                (
                    key: "dedup",
                    value: .object(
                        JSONObject([
                            (key: "remembered_keys", value: number(dedup.keys)),
                            (key: "bytes", value: number(dedup.bytes)),
                            (key: "bytes_per_key", value: number(dedup.bytesPerKey, 2)),
                        ]))
                ),
            ]))
    }

    /// 10,500,000.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    static func compact(_ rate: Double) -> String {
        rate >= 1_000_000
            ? String(format: "%.2fM", rate / 1_000_000)
            : rate >= 1_000 ? String(format: "%.1fK", rate / 1_000) : String(format: "%.0f", rate)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
