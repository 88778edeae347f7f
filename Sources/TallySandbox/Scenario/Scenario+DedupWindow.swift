import Foundation
import TallyPipeline

extension Scenario {
    /// The most events whose idempotency keys the meter's dedup window can hold at once: what its
    /// table is sized for up front, and what must fit in memory before a run starts.
    ///
    /// A key is kept while its event's timestamp is at most `max_age` (and an eighth more, between
    /// sweeps) behind the clock, and an accepted timestamp is at most `max_future` ahead of it. A
    /// generated event's timestamp lies in its period, moved at most by the ingest delay and its
    /// fault's offset; so the keys held at once are at most the events of the periods one such
    /// reach can touch, plus every explicit event. With the default 90-day window and monthly
    /// periods that is every event of a short run; with `max_age: 1s`, about one period's.
    public var dedupKeysAtOnce: Int {
        let limits = ingest.limits
        // Each span is at most TimeSpan.longest (10,000 years), so this sum cannot overflow.
        let shift =
            faults.filter { $0.kind == .late || $0.kind == .clockSkew }
            .map { ($0.offset ?? ($0.kind == .late ? .hours(36) : .minutes(6))).milliseconds }.max() ?? 0
        let reach =
            limits.maxAge.milliseconds + limits.maxAge.milliseconds / 8 + limits.maxFuture.milliseconds
            + ingest.delay.milliseconds + shift + 1_000
        let periods = schedule.periods
        var perPeriod = Array(repeating: 0, count: periods.count)
        for unit in StreamPlan(scenario: self).units { perPeriod[unit.period] += unit.events }
        var most = 0
        for first in periods.indices {
            var held = 0
            for period in first..<periods.count
            where periods[period].start.millisecondsSinceEpoch
                < periods[first].end.millisecondsSinceEpoch + reach
            {
                held += perPeriod[period]
            }
            most = Swift.max(most, held)
        }
        return Swift.min(totalEvents, most + events.count)
    }

    /// Why a run of this scenario cannot fit in `availableBytes` of memory, or nil when it can.
    ///
    /// The dedup table is the one allocation that grows with the events sent; a run may give it
    /// three quarters of the memory, leaving the rest to usage, invoices and the generators.
    public func memoryProblem(availableBytes: Int) -> String? {
        let keys = dedupKeysAtOnce
        let bytes = Meter.dedupTableBytes(forKeys: keys)
        let budget = availableBytes / 4 * 3
        guard bytes > budget else { return nil }
        func gibibytes(_ bytes: Int) -> String {
            let tenths = (bytes * 10 + (1 << 29)) >> 30
            return "\(tenths / 10).\(tenths % 10) GiB"
        }
        return "up to \(keys) events can be inside the dedup window (ingest.max_age \(ingest.limits.maxAge)) at once; "
            + "remembering their keys takes \(gibibytes(bytes)), more than the \(gibibytes(budget)) a run may use of "
            + "this machine's \(gibibytes(availableBytes)), expected fewer events per window: send fewer events, "
            + "spread them over more periods or shorten ingest.max_age"
    }
}

/// The memory this process may use: the machine's, or its control group's limit when lower.
enum MachineMemory {
    static let bytes: Int = {
        var bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        // cgroup v2 (a container's limit): a number of bytes, or "max".
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
            let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0
        {
            bytes = Swift.min(bytes, limit)
        }
        return bytes
    }()
}
