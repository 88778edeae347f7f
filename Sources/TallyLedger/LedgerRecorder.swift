import Dispatch
import GRDB
import TallyJSON
import TallyPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Records a scenario run into a ledger, event by event as the run meters them.
///
/// The sandbox's run observer hands each event to ``record(eventID:payload:receivedAt:outcome:)``
/// and the run's end to ``finish(counts:invoices:meter:)``; the ledger itself knows nothing
/// of scenarios but the ``RunDescription`` it stores.
///
/// Every event goes to exactly one table, by its outcome: `events` (accepted),
/// `rejections` or `dead_letters`, at its position in the stream; a request the gateway
/// refused (``recordRefusal(_:at:reason:)``) goes to `refusals`. Rows are encoded
/// on the run's thread into a batch (`LedgerBatch`) and handed `batchSize` at a time to a
/// writer thread, which writes each batch in one transaction through prepared
/// statements reused for the whole run.
///
/// Exactly once: every insert is `INSERT OR IGNORE`, on the `(event_id, tenant)` key
/// of `events` and on the stream position of the others, and each row is claimed and
/// written by the same statement in the same transaction. Re-recording the scenario
/// (or resuming it after the process was killed mid-batch, which rolls the open batch
/// back) therefore stores each event once, whatever was committed before.
public final class LedgerRecorder {
    /// The ledger the run is recorded into.
    public let ledger: Ledger
    /// The id of the run's row in `runs`.
    public let runID: Int64
    /// Rows written per transaction.
    public let batchSize: Int

    /// Rows written so far (after ``finish(counts:invoices:meter:)``: all of them).
    public var rowsWritten: Int { writer.drain().rows }
    /// Time the writer spent binding, stepping and committing batches (wall clock).
    public var writeNanoseconds: UInt64 { writer.drain().nanoseconds }
    /// CPU time of the writer thread in those batches: the rate on a machine shared with other work.
    public var writeCPUNanoseconds: UInt64 { writer.drain().cpuNanoseconds }

    private var nextSeq: Int64 = 0
    private var names: LedgerNames
    private var batch: LedgerBatch
    /// Stream positions of the dead letters, to fill in their detail from the meter at the end.
    private var deadLetterSeqs: [Int64] = []
    /// `record` cannot throw: a failure is kept and thrown by `finish`.
    private var failure: Error?
    private let writer: BatchWriter

    /// Registers the run in `ledger` (or finds it, to resume or re-record it).
    ///
    /// - Parameters:
    ///   - ledger: the ledger to record into.
    ///   - scenario: the run to record; its text is stored with the run and hashed to identify it.
    ///   - toolVersion: the version of the `tally` that records it.
    ///   - batchSize: rows per transaction.
    /// - Throws: ``LedgerError`` when the ledger already records another scenario.
    public init(ledger: Ledger, scenario: RunDescription, toolVersion: String, batchSize: Int = 50_000) throws {
        self.ledger = ledger
        self.batchSize = max(1, batchSize)
        let scenarioText = scenario.text
        let hash = SHA256.hex(scenarioText)
        do {
            (runID, names) = try Self.begin(
                ledger, scenario: scenario, scenarioText: scenarioText, hash: hash,
                toolVersion: toolVersion)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(error, path: ledger.path, doing: "record into")
        }
        writer = BatchWriter(ledger: ledger)
        batch = LedgerBatch(origin: 0, capacity: self.batchSize)
    }

    /// Finds or inserts the run's row, and proves the file writable before the run starts, not after it.
    private static func begin(
        _ ledger: Ledger, scenario: RunDescription, scenarioText: String, hash: String, toolVersion: String
    ) throws -> (Int64, LedgerNames) {
        try ledger.queue.inDatabase { db in
            var runID: Int64 = 0
            try db.inTransaction(.immediate) {
                if let existing = try RecordedRun.fetch(db) {
                    guard existing.scenario == scenario.name, existing.seed == scenario.seed,
                        existing.scenarioSHA256 == hash
                    else {
                        throw LedgerError(
                            "\(ledger.path) already records scenario '\(existing.scenario)' (seed \(existing.seed), sha256 \(existing.scenarioSHA256.prefix(12))); a ledger records one scenario, so use another file for '\(scenario.name)' (sha256 \(hash.prefix(12)))"
                        )
                    }
                    runID = existing.id
                    // A resumed run writes only at its end: a file that cannot be written must fail here.
                    try db.execute(sql: "UPDATE runs SET tool_version = tool_version WHERE id = ?", arguments: [runID])
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO runs (scenario, seed, scenario_sha256, scenario_yaml, scenario_file, tool_version,
                                clock_start, clock_end, planned_events)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            scenario.name, String(scenario.seed), hash, scenarioText, scenario.file, toolVersion,
                            scenario.clockStart.millisecondsSinceEpoch, scenario.clockEnd.millisecondsSinceEpoch,
                            scenario.plannedEvents,
                        ])
                    runID = db.lastInsertedRowID
                }
                return .commit
            }
            // The names a killed or earlier recording stored keep their numbers.
            return (runID, try LedgerNames(db))
        }
    }

    /// Records the next event of the stream: `payload` as it was sent, with the meter's outcome.
    public func record(
        eventID: String, payload: DeadLetter.Payload, receivedAt instant: Instant, outcome: MeteringOutcome
    ) {
        let seq = nextSeq
        nextSeq += 1
        let receivedAt = instant.millisecondsSinceEpoch
        switch outcome {
        case .accepted(let acceptance):
            let event: Event
            switch payload {
            case .event(let typed): event = typed
            case .raw(let text):
                // The meter decoded and accepted it, so it decodes here too; if not, say so at the end.
                guard let decoded = try? Event(json: JSONValue.parse(text)) else {
                    if failure == nil {
                        failure = LedgerError("event #\(seq) was accepted but its JSON does not decode")
                    }
                    return
                }
                event = decoded
            }
            batch.appendAccepted(seq: seq, event: event, receivedAt: receivedAt, acceptance: acceptance, names: &names)
        case .rejected(let reason):
            batch.appendRejected(
                seq: seq, eventID: eventID, payload: payload, reason: reason, receivedAt: receivedAt, names: &names)
        case .deadLettered(let reason):
            deadLetterSeqs.append(seq)
            batch.appendDeadLettered(
                seq: seq, eventID: eventID, payload: payload, reason: reason, receivedAt: receivedAt)
        }
        if batch.count >= batchSize { handOff() }
    }

    /// Records the next item of the stream as a request the gateway refused: it never became an event.
    ///
    /// - Parameters:
    ///   - request: the usage event the request would have made (its id, tenant, customer and metric are kept).
    ///   - instant: when the request reached the gateway.
    ///   - reason: why it was refused.
    public func recordRefusal(_ request: Event, at instant: Instant, reason: AccessRefusal) {
        let seq = nextSeq
        nextSeq += 1
        batch.appendRefused(
            seq: seq, requestID: request.id, tenant: request.tenant, customer: request.customer,
            metric: request.metric, requestedAt: instant.millisecondsSinceEpoch, reason: reason, names: &names)
        if batch.count >= batchSize { handOff() }
    }

    /// Writes what is buffered, the dead letters' details, the invoices and the totals, and
    /// checks that the stored rows are exactly the run's outcomes (and its refusals: the meter's
    /// `Meter.accessCounts`).
    public func finish(counts: OutcomeCounts, invoices: [Invoice], meter: Meter) throws {
        handOff()
        writer.finish()
        if let failure { throw failure }
        if let failure = writer.drain().failure { throw failure }
        let records = invoices.map(InvoiceRecord.init)
        let runID = runID
        let path = ledger.path
        guard meter.deadLetters.count == deadLetterSeqs.count else {
            throw LedgerError(
                "the meter holds \(meter.deadLetters.count) dead letters, but \(deadLetterSeqs.count) events were dead-lettered"
            )
        }
        let seqs = deadLetterSeqs
        let refused = meter.accessCounts.refused
        try ledger.queue.inDatabase { db in
            try db.inTransaction(.immediate) {
                // The meter keeps dead letters in arrival order, as the run had them.
                let update = try db.cachedStatement(sql: "UPDATE dead_letters SET detail = ? WHERE seq = ?")
                for (seq, letter) in zip(seqs, meter.deadLetters) {
                    try update.execute(arguments: [letter.detail, seq])
                }
                // Every event accounted for: the stored rows are exactly the run's outcomes.
                let stored = (
                    accepted: try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE origin = 0") ?? 0,
                    rejected: try Int.fetchOne(db, sql: "SELECT count(*) FROM rejections") ?? 0,
                    deadLettered: try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letters") ?? 0,
                    refused: try Int.fetchOne(db, sql: "SELECT count(*) FROM refusals") ?? 0
                )
                guard stored.accepted == counts.accepted, stored.rejected == counts.rejected,
                    stored.deadLettered == counts.deadLettered
                else {
                    throw LedgerError(
                        "\(path) holds \(stored.accepted) accepted + \(stored.rejected) rejected + \(stored.deadLettered) dead-lettered events, but the run had \(counts.accepted) + \(counts.rejected) + \(counts.deadLettered)"
                    )
                }
                guard stored.refused == refused else {
                    throw LedgerError(
                        "\(path) holds \(stored.refused) refused requests, but the gateway refused \(refused)")
                }
                let billedByReplay =
                    try String.fetchOne(db, sql: "SELECT billing_yaml FROM runs WHERE id = ?", arguments: [runID])
                    != nil
                let storedInvoices = try InvoiceRecord.fetchAll(db)
                if storedInvoices.isEmpty {
                    try InvoiceRecord.replaceAll(records, runID: runID, db)
                } else if storedInvoices != records && !billedByReplay {
                    // Same scenario text and seed must bill the same: a difference is a determinism bug.
                    throw LedgerError("\(path) already holds invoices of this run that differ from this recording's")
                }
                try db.execute(
                    sql: """
                        UPDATE runs SET last_received_at = ?, received = ?, accepted = ?, rejected = ?, dead_lettered = ?,
                            refused = ?, completed = 1
                        WHERE id = ?
                        """,
                    arguments: [
                        meter.clock.millisecondsSinceEpoch, counts.received, counts.accepted, counts.rejected,
                        counts.deadLettered, refused, runID,
                    ])
                return .commit
            }
        }
    }

    /// Waits until the writer thread has committed (or failed) every batch handed to it,
    /// without writing the rows still buffered for the next batch.
    public func waitForWrites() { _ = writer.drain() }

    /// Rows per second of the ledger writes so far.
    public var rowsPerSecond: Double {
        let (rows, nanoseconds, _, _) = writer.drain()
        return nanoseconds == 0 ? 0 : Double(rows) / (Double(nanoseconds) / 1e9)
    }

    /// Gives the buffered rows to the writer thread and starts a new batch.
    private func handOff() {
        guard batch.count > 0 else { return }
        writer.write(batch)
        batch = LedgerBatch(origin: 0, capacity: batchSize)
    }
}

/// Which scenario run a ledger records: what the `runs` row stores of it.
public struct RunDescription: Sendable {
    /// The scenario's name, as its file gives it.
    public var name: String
    /// The seed of the scenario's PRNG: with the text, it fixes every generated event.
    public var seed: UInt64
    /// The scenario file's path and text.
    public var file: String
    /// The scenario file's YAML, stored whole so that the run can be re-billed without the file.
    public var text: String
    /// The first period's start and the last period's end.
    public var clockStart: Instant
    /// The last period's end, exclusive.
    public var clockEnd: Instant
    /// The number of events the scenario sends, against which a finished run's counts are checked.
    public var plannedEvents: Int

    /// Creates the description of a run of the scenario `name` from `file`, as the `runs` row stores it.
    public init(
        name: String, seed: UInt64, file: String, text: String, clockStart: Instant, clockEnd: Instant,
        plannedEvents: Int
    ) {
        self.name = name
        self.seed = seed
        self.file = file
        self.text = text
        self.clockStart = clockStart
        self.clockEnd = clockEnd
        self.plannedEvents = plannedEvents
    }
}

/// Writes batches on its own thread, so the run generates and meters the next batch
/// while SQLite stores this one (the two use both cores).
///
/// At most two batches wait, which bounds memory; a kill loses only uncommitted
/// batches, which the next recording writes again.
final class BatchWriter: @unchecked Sendable {
    // @unchecked: the counters, `failure` and `batchesSinceRestart` are touched only on `queue`,
    // and read after `drain`.
    private let ledger: Ledger
    private let queue = DispatchQueue(label: "tally.ledger.writer")
    private let slots = DispatchSemaphore(value: 2)
    private var rows = 0
    private var nanoseconds: UInt64 = 0
    private var cpuNanoseconds: UInt64 = 0
    private var failure: Error?
    private let checkpointer: Checkpointer?
    private var batchesSinceRestart = 0
    /// Batches after which the writer waits for the checkpoints to catch up, so that the
    /// WAL starts over (about 64 MiB of WAL at 50,000 rows a batch).
    private static let batchesPerRestart = 8

    init(ledger: Ledger) {
        self.ledger = ledger
        checkpointer = Checkpointer(path: ledger.path)
        if checkpointer != nil {
            // The checkpointer connection copies the WAL back instead; without one, SQLite's
            // own checkpoints after commits stay on.
            try? ledger.queue.inDatabase { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        }
    }

    func write(_ batch: LedgerBatch) {
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            // After a failure the run goes on (the observer cannot stop it); `finish` reports it.
            guard failure == nil else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            let startedCPU = Self.threadCPUNanoseconds()
            do {
                try ledger.queue.inDatabase { db in
                    try db.inTransaction(.immediate) {
                        try LedgerWriter.write(batch, db)
                        return .commit
                    }
                }
                rows += batch.count
                if let checkpointer {
                    batchesSinceRestart += 1
                    if batchesSinceRestart >= Self.batchesPerRestart {
                        // SQLite starts the WAL over only when a write begins after every frame is
                        // in the database file: wait for a pass that began after this commit.
                        checkpointer.checkpointAndWait()
                        batchesSinceRestart = 0
                    } else {
                        checkpointer.checkpoint()
                    }
                }
            } catch {
                failure = error
            }
            nanoseconds += DispatchTime.now().uptimeNanoseconds - started
            cpuNanoseconds += Self.threadCPUNanoseconds() - startedCPU
        }
    }

    /// CPU time of the calling thread (only for the write-rate statistics).
    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Waits for every batch handed over so far; returns the totals and the first failure.
    func drain() -> (rows: Int, nanoseconds: UInt64, cpuNanoseconds: UInt64, failure: Error?) {
        queue.sync { (rows, nanoseconds, cpuNanoseconds, failure) }
    }

    /// After the last batch: gives checkpointing back to the ledger's own connection.
    func finish() {
        queue.sync {
            guard checkpointer != nil else { return }
            checkpointer?.checkpointAndWait()
            try? ledger.queue.inDatabase {
                try $0.execute(sql: "PRAGMA wal_autocheckpoint = \(Ledger.autocheckpointPages)")
            }
        }
    }
}

/// Copies the WAL back into the database file from a second connection, on its own thread.
///
/// A checkpoint ends with an fsync of the database file; run by the writer after a commit
/// (SQLite's default), it makes the writer wait for the disk. A PASSIVE checkpoint from
/// another connection runs while the writer goes on appending.
final class Checkpointer: @unchecked Sendable {
    // @unchecked: `connection` is used only on `queue`.
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "tally.ledger.checkpointer")

    /// Nil when the second connection cannot be opened: the writer then checkpoints itself.
    init?(path: String) {
        guard let connection = try? DatabaseQueue(path: path, configuration: Ledger.configuration) else { return nil }
        self.connection = connection
    }

    /// Starts a pass after the passes already asked for.
    func checkpoint() {
        queue.async { [self] in pass() }
    }

    /// Runs a pass after the passes already asked for, and waits for it.
    func checkpointAndWait() {
        queue.sync { pass() }
    }

    private func pass() {
        // Best effort: a checkpoint that fails or finds SQLite busy leaves the frames in the
        // WAL, where readers find them and the next pass copies them; nothing is lost.
        try? connection.inDatabase { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
    }
}
