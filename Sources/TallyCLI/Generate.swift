import ArgumentParser
import Foundation
import TallySandbox

extension EventExportFormat: ExpressibleByArgument {}

/// `tally generate`: writes a scenario's event stream as JSON Lines or CSV.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a scenario's whole event stream, faults included, exactly as the pipeline receives it.",
        discussion: """
            Events come in ingest order, re-sends and malformed events included, so other systems \
            can be load-tested or cross-checked with them. The output is the same bytes on every run \
            and for any --threads.

            jsonl: one canonical compact JSON object per line: the event's wire fields (event_id, \
            tenant_id, customer_id, metric, quantity, timestamp, source, properties) plus received_at, \
            the ingest time, keys sorted. A malformed event is its raw JSON object plus received_at, \
            still missing the field it lacks.

            csv: the header \(EventLineEncoder.csvHeader). properties is a JSON object; a malformed \
            event's row has only received_at and raw, its raw JSON.

            A file is written under a temporary name and renamed when complete. A summary goes to \
            standard error. Exits 2 when the scenario is invalid, 1 when writing fails.
            """
    )

    @Argument(help: "The scenario file.")
    var scenario: String

    @Option(help: "jsonl, csv, or a gateway's own log records: kong, aws, azure, apigee, mulesoft (Docs/Gateways.md).")
    var format: EventExportFormat = .jsonl

    @Flag(
        help: """
            With --format aws: write CloudWatch Logs subscription envelopes ({"awslogs":{"data":...}}, base64 of \
            gzip), \(EventLineEncoder.defaultEnvelopeBatch) records each, as a subscription filter's function \
            receives them.
            """)
    var awsEnvelope = false

    @Option(help: "Write to this file (default: standard output).")
    var out: String?

    @Option(
        help:
            "Threads: 2 or more generate on other threads than the one writing (the output is identical for any count)."
    )
    var threads: Int = 1

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be from 1 to 256") }
        if awsEnvelope && format != .aws {
            throw ValidationError("--aws-envelope applies to --format aws, not \(format.rawValue)")
        }
    }

    func run() throws {
        let loaded = try ScenarioSource.loadOrExit(scenario)
        let started = Date()
        let progress = ProgressBar(label: loaded.name, total: out == nil ? 0 : loaded.totalEvents)
        let summary: EventExportSummary
        do {
            summary = try EventExport.write(
                loaded, format: format, envelopeBatch: awsEnvelope ? EventLineEncoder.defaultEnvelopeBatch : 0,
                threads: threads, to: out
            ) { progress.update($0) }
        } catch {
            progress.finish()
            StandardError.write("tally generate: \(error)\n")
            throw ExitCode(1)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let rate = seconds > 0 ? Double(summary.events) / seconds : 0
        StandardError.write(
            "\(loaded.name): \(summary.events) events (\(summary.malformed) malformed) as \(format.rawValue), "
                + "\(summary.bytes) bytes to \(out ?? "standard output") in \(String(format: "%.2f", seconds)) s "
                + "(\(ProgressBar.compact(rate)) events/s)\n")
    }
}
