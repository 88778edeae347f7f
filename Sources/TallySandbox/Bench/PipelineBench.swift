import Foundation
import TallyPipeline

/// Measures a scenario run stage by stage, for `tally bench`.
///
/// Two passes over the same stream:
/// 1. generation alone: the stream iterated without metering;
/// 2. the whole run: ``ScenarioRunner/run(_:threads:observer:progress:)`` as `tally run`
///    does it (generate, validate, dedup, enrich, aggregate, rate, invoice), except that
///    each invoice is let go once it is counted and its `expect:` figures are taken, as a
///    service sending invoices on would do, where `tally run` keeps them all for its golden
///    file. With a million customers, holding them would cost seconds of page faults.
///
/// Billing is timed inside the whole run, from the moment every event is metered to the
/// moment every invoice is made (and let go). Metering is the run up to that first moment
/// (building the meter included) less generation alone; the rest of the run is checking its
/// expectations and freeing it. With more than one thread, generation overlaps metering in
/// the whole run, so that difference is what metering adds on the thread that meters.
public enum PipelineBench {
    /// Runs both passes over `scenario` on `threads` threads.
    public static func run(
        _ scenario: Scenario, threads: Int, progress: ((String, Int) -> Void)? = nil
    ) throws(RunError) -> BenchResult {
        let clock = ContinuousClock()

        var items = 0
        var checksum: Int64 = 0
        let generationStart = clock.now
        try scenario.forEachGeneratedItem(threads: threads) { item in
            // Touch every item so the pass cannot be skipped.
            checksum &+= item.receivedAt.millisecondsSinceEpoch
            items += 1
            if items & 0xFFFF == 0 { progress?("generation", items) }
        }
        let generation = clock.now - generationStart
        if checksum == .min { StandardStreams.note("") }

        let runStart = clock.now
        var metered = runStart
        var billed = runStart
        let counts: OutcomeCounts
        let expectationFailures: [String]
        let meter: Meter
        let invoices: Int
        do {
            let (run, final) = try ScenarioRunner.runKeepingMeter(
                scenario, threads: threads, observer: nil, progress: { progress?("whole run", $0) },
                keepingInvoices: false,
                reached: { milestone in
                    switch milestone {
                    case .metered: metered = clock.now
                    case .billed: billed = clock.now
                    }
                })
            (counts, expectationFailures, meter, invoices) = (
                run.counts, run.expectationFailures, final, run.invoiceCount
            )
        }
        // The run is freed by now, inside the timing: `tally run` frees it too.
        let whole = clock.now - runStart

        return BenchResult(
            scenario: scenario.name, threads: threads, generatedEvents: scenario.generatedEvents,
            events: counts.received,
            counts: counts, invoices: invoices, streamItems: items,
            generationSeconds: generation.seconds, meteringPhaseSeconds: (metered - runStart).seconds,
            billingSeconds: (billed - metered).seconds, wholeRunSeconds: whole.seconds,
            rememberedKeys: meter.rememberedKeys, dedupTableBytes: meter.dedupTableBytes,
            expectationFailures: expectationFailures)
    }
}

/// The figures of one ``PipelineBench`` run.
public struct BenchResult: Sendable {
    public var scenario: String
    public var threads: Int
    /// Events the traffic generates (before re-sends).
    public var generatedEvents: Int
    /// Events the pipeline received, re-sends, malformed and explicit ones included.
    public var events: Int
    public var counts: OutcomeCounts
    public var invoices: Int
    /// Items the generation pass saw: equal to `events` (checked by the caller).
    public var streamItems: Int
    public var generationSeconds: Double
    /// The whole run up to the end of metering: building the meter, generating and metering every event.
    public var meteringPhaseSeconds: Double
    /// Billing inside the whole run.
    public var billingSeconds: Double
    public var wholeRunSeconds: Double
    /// Idempotency keys the meter remembers at the end (``Meter/rememberedKeys``).
    public var rememberedKeys: Int
    /// The dedup table's bytes (``Meter/dedupTableBytes``).
    public var dedupTableBytes: Int
    public var expectationFailures: [String]

    /// The run's metering phase less generation alone, never below zero.
    public var meteringSeconds: Double { Swift.max(0, meteringPhaseSeconds - generationSeconds) }

    /// The whole run after billing: checking its expectations and freeing the run.
    public var restSeconds: Double { Swift.max(0, wholeRunSeconds - meteringPhaseSeconds - billingSeconds) }

    public var eventsPerSecond: Double { wholeRunSeconds > 0 ? Double(events) / wholeRunSeconds : 0 }

    /// Nanoseconds per event received.
    public func nanosecondsPerEvent(_ seconds: Double) -> Double { events > 0 ? seconds * 1e9 / Double(events) : 0 }

    /// The dedup state at the end of the run.
    public var dedup: DedupState { DedupState(keys: rememberedKeys, bytes: dedupTableBytes) }
}

/// Several ``BenchResult``s of one scenario, for a machine whose speed varies from one run to the next.
public struct BenchSeries: Sendable {
    /// In the order they ran; never empty.
    public private(set) var runs: [BenchResult]

    public init(_ first: BenchResult) { runs = [first] }

    public mutating func append(_ run: BenchResult) { runs.append(run) }

    /// The run whose whole-run time is the median (the lower middle one of an even count).
    ///
    /// Its stage figures are reported together, so they always come from one run and add up.
    public var median: BenchResult { byWholeRun[(runs.count - 1) / 2] }
    public var fastest: BenchResult { byWholeRun[0] }
    public var slowest: BenchResult { byWholeRun[runs.count - 1] }

    private var byWholeRun: [BenchResult] { runs.sorted { $0.wholeRunSeconds < $1.wholeRunSeconds } }
}

/// The dedup table at the end of a run: keys remembered and the bytes holding them.
public struct DedupState: Sendable, Hashable {
    public var keys: Int
    public var bytes: Int
    public var bytesPerKey: Double { keys > 0 ? Double(bytes) / Double(keys) : 0 }
}

/// The machine a benchmark ran on, from /proc.
public struct MachineInfo: Sendable {
    /// The CPU's model name, from /proc/cpuinfo ("unknown" elsewhere).
    public var model: String
    /// Logical processors listed in /proc/cpuinfo (the active processor count elsewhere).
    public var cores: Int

    public static func current() -> MachineInfo {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model: String?
        var processors = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard let key = parts.first?.trimmingCharacters(in: .whitespaces) else { continue }
            if key == "processor" { processors += 1 }
            if key == "model name", model == nil, parts.count == 2 {
                model = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return MachineInfo(
            model: model ?? "unknown", cores: processors > 0 ? processors : ProcessInfo.processInfo.activeProcessorCount
        )
    }

    /// Peak resident memory of this process so far, in bytes: VmHWM in /proc/self/status (nil where there is none).
    public static func peakResidentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // "VmHWM:   123456 kB"
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}

/// A nearly free side effect, so the optimizer keeps the generation pass's checksum.
enum StandardStreams {
    static func note(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

extension Duration {
    /// The duration in seconds, as a Double (for reports only).
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
