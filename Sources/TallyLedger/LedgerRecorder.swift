import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB
import TallyJSON
import TallyPipeline
import TallySandbox

/// Records a scenario run into a ledger, as the run's ``RunObserver``.
///
/// Every event goes to exactly one table, by its outcome: `events` (accepted),
/// `rejections` or `dead_letters`, keyed by its position in the stream. Rows are
/// buffered and written `batchSize` at a time, one transaction per batch, through
/// prepared statements reused for the whole run.
///
/// Exactly once: every insert is `INSERT OR IGNORE`, on `UNIQUE(tenant, event_id)`
/// and on the stream position, and each row is claimed and written by the same
/// statement in the same transaction. Re-recording the scenario (or resuming it
/// after the process was killed mid-batch, which rolls the open batch back)
/// therefore stores each event once, whatever was committed before.
public final class LedgerRecorder: RunObserver {
    public let ledger: Ledger
    public let runID: Int64
    public let batchSize: Int

    /// Rows written so far (after ``finished(_:meter:)``: all of them).
    public var rowsWritten: Int { writer.drain().rows }
    /// Time the writer spent binding, stepping and committing batches (wall clock).
    public var writeNanoseconds: UInt64 { writer.drain().nanoseconds }
    /// CPU time of the writer thread in those batches: the rate on a machine shared with other work.
    public var writeCPUNanoseconds: UInt64 { writer.drain().cpuNanoseconds }

    private var nextSeq: Int64 = 0
    private var accepted: [AcceptedRow] = []
    private var others: [OtherRow] = []
    /// Stream positions of the dead letters, to fill in their detail from the meter at the end.
    private var deadLetterSeqs: [Int64] = []
    /// `sent` cannot throw: a failure is kept and thrown by `finished`.
    private var failure: Error?
    private let writer: BatchWriter

    /// Registers the run in `ledger` (or finds it, to resume or re-record it).
    ///
    /// - Parameters:
    ///   - scenarioText: the scenario file's text, stored with the run and hashed to identify it.
    ///   - toolVersion: the version of the `tally` that records it.
    ///   - batchSize: rows per transaction.
    /// - Throws: ``LedgerError`` when the ledger already records another scenario.
    public init(ledger: Ledger, scenario: Scenario, scenarioText: String, toolVersion: String, batchSize: Int = 10_000) throws {
        self.ledger = ledger
        self.batchSize = max(1, batchSize)
        let hash = SHA256.hex(scenarioText)
        runID = try ledger.queue.inDatabase { db in
            var runID: Int64 = 0
            try db.inTransaction(.immediate) {
                if let existing = try RecordedRun.fetch(db) {
                    guard existing.scenario == scenario.name, existing.seed == scenario.seed, existing.scenarioSHA256 == hash else {
                        throw LedgerError("\(ledger.path) already records scenario '\(existing.scenario)' (seed \(existing.seed), sha256 \(existing.scenarioSHA256.prefix(12))); a ledger records one scenario, so use another file for '\(scenario.name)' (sha256 \(hash.prefix(12)))")
                    }
                    runID = existing.id
                } else {
                    try db.execute(sql: """
                        INSERT INTO runs (scenario, seed, scenario_sha256, scenario_yaml, scenario_file, tool_version,
                            clock_start, clock_end, planned_events)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [scenario.name, String(scenario.seed), hash, scenarioText, scenario.file, toolVersion,
                                         scenario.schedule.start?.millisecondsSinceEpoch ?? 0,
                                         scenario.schedule.end?.millisecondsSinceEpoch ?? 0, scenario.totalEvents])
                    runID = db.lastInsertedRowID
                }
                return .commit
            }
            return runID
        }
        writer = BatchWriter(ledger: ledger, runID: runID)
        accepted.reserveCapacity(self.batchSize)
        others.reserveCapacity(self.batchSize)
    }

    public func sent(_ item: GeneratedItem, outcome: MeteringOutcome) {
        let seq = nextSeq
        nextSeq += 1
        let receivedAt = item.receivedAt.millisecondsSinceEpoch
        switch outcome {
        case .accepted(let acceptance):
            let event: Event
            switch item.payload {
            case .event(let typed): event = typed
            case .malformed(let text):
                // The meter decoded and accepted it, so it decodes here too; if not, say so at the end.
                guard let decoded = try? Event(json: JSONValue.parse(text)) else {
                    if failure == nil { failure = LedgerError("event #\(seq) was accepted but its JSON does not decode") }
                    return
                }
                event = decoded
            }
            accepted.append(AcceptedRow(seq: seq, event: event, receivedAt: receivedAt, acceptance: acceptance))
        case .rejected(let reason):
            others.append(OtherRow(seq: seq, table: .rejections, eventID: item.eventID, reason: reason, receivedAt: receivedAt, payload: item.payload))
        case .deadLettered(let reason):
            deadLetterSeqs.append(seq)
            others.append(OtherRow(seq: seq, table: .deadLetters, eventID: item.eventID, reason: reason, receivedAt: receivedAt, payload: item.payload))
        }
        if accepted.count + others.count >= batchSize { handOff() }
    }

    public func finished(_ run: ScenarioRun, meter: Meter) throws {
        handOff()
        if let failure { throw failure }
        if let failure = writer.drain().failure { throw failure }
        let counts = run.counts
        let records = run.invoices.map(InvoiceRecord.init)
        let runID = runID
        let path = ledger.path
        guard meter.deadLetters.count == deadLetterSeqs.count else {
            throw LedgerError("the meter holds \(meter.deadLetters.count) dead letters, but \(deadLetterSeqs.count) events were dead-lettered")
        }
        let seqs = deadLetterSeqs
        try ledger.queue.inDatabase { db in
            try db.inTransaction(.immediate) {
                // The meter keeps dead letters in arrival order, as the run had them.
                let update = try db.cachedStatement(sql: "UPDATE dead_letters SET detail = ? WHERE seq = ?")
                for (seq, letter) in zip(seqs, meter.deadLetters) {
                    try update.execute(arguments: [letter.detail, seq])
                }
                // Every event accounted for: the stored rows are exactly the run's outcomes.
                let stored = (
                    accepted: try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE origin = 'stream'") ?? 0,
                    rejected: try Int.fetchOne(db, sql: "SELECT count(*) FROM rejections") ?? 0,
                    deadLettered: try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letters") ?? 0)
                guard stored.accepted == counts.accepted, stored.rejected == counts.rejected, stored.deadLettered == counts.deadLettered else {
                    throw LedgerError("\(path) holds \(stored.accepted) accepted + \(stored.rejected) rejected + \(stored.deadLettered) dead-lettered events, but the run had \(counts.accepted) + \(counts.rejected) + \(counts.deadLettered)")
                }
                let billedByReplay = try String.fetchOne(db, sql: "SELECT billing_yaml FROM runs WHERE id = ?", arguments: [runID]) != nil
                let storedInvoices = try InvoiceRecord.fetchAll(db)
                if storedInvoices.isEmpty {
                    try InvoiceRecord.replaceAll(records, runID: runID, db)
                } else if storedInvoices != records && !billedByReplay {
                    // Same scenario text and seed must bill the same: a difference is a determinism bug.
                    throw LedgerError("\(path) already holds invoices of this run that differ from this recording's")
                }
                try db.execute(sql: """
                    UPDATE runs SET last_received_at = ?, received = ?, accepted = ?, rejected = ?, dead_lettered = ?, completed = 1
                    WHERE id = ?
                    """, arguments: [meter.clock.millisecondsSinceEpoch, counts.received, counts.accepted, counts.rejected,
                                     counts.deadLettered, runID])
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
        guard !(accepted.isEmpty && others.isEmpty) else { return }
        writer.write(accepted, others)
        accepted = []
        others = []
        accepted.reserveCapacity(batchSize)
        others.reserveCapacity(batchSize)
    }
}

/// Writes batches on its own thread, so the run generates and meters the next batch
/// while SQLite stores this one (the two use both cores).
///
/// At most two batches wait, which bounds memory; a kill loses only uncommitted
/// batches, which the next recording writes again.
final class BatchWriter: @unchecked Sendable {
    // @unchecked: the counters and `failure` are touched only on `queue`, and read after `drain`.
    private let ledger: Ledger
    private let runID: Int64
    private let queue = DispatchQueue(label: "tally.ledger.writer")
    private let slots = DispatchSemaphore(value: 2)
    private var rows = 0
    private var nanoseconds: UInt64 = 0
    private var cpuNanoseconds: UInt64 = 0
    private var failure: Error?

    init(ledger: Ledger, runID: Int64) {
        self.ledger = ledger
        self.runID = runID
    }

    func write(_ accepted: [AcceptedRow], _ others: [OtherRow]) {
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            // After a failure the run goes on (the observer cannot stop it); `finished` reports it.
            guard failure == nil else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            let startedCPU = Self.threadCPUNanoseconds()
            do {
                try ledger.queue.inDatabase { db in
                    try db.inTransaction(.immediate) {
                        try LedgerWriter.insertEvents(accepted, runID: runID, origin: "stream", db)
                        try LedgerWriter.insertOthers(others, runID: runID, db)
                        return .commit
                    }
                }
                rows += accepted.count + others.count
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
}

/// An accepted event waiting for its batch.
struct AcceptedRow: Sendable {
    var seq: Int64
    var event: Event
    var receivedAt: Int64
    var acceptance: Acceptance
    /// Encoded here, on the run's thread, so the writer thread only binds.
    var quantity: String
    var properties: String?

    init(seq: Int64, event: Event, receivedAt: Int64, acceptance: Acceptance) {
        self.seq = seq
        self.event = event
        self.receivedAt = receivedAt
        self.acceptance = acceptance
        quantity = event.quantity.description
        properties = event.properties.isEmpty ? nil : LedgerWriter.propertiesJSON(event.properties)
    }
}

/// A rejected or dead-lettered event waiting for its batch.
struct OtherRow: Sendable {
    enum Table: Sendable { case rejections, deadLetters }
    var seq: Int64
    var table: Table
    var eventID: String
    var reason: OutcomeReason
    var receivedAt: Int64
    var payload: GeneratedItem.Payload
}

/// The bulk inserts, shared by recording and dead-letter replay.
enum LedgerWriter {
    static let insertEventSQL = """
        INSERT OR IGNORE INTO events (seq, run_id, tenant, event_id, customer, metric, quantity, timestamp, source,
            properties, received_at, period, late, over_soft_limit, origin)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
        """

    /// Inserts accepted events (inside the caller's transaction); returns how many were new.
    @discardableResult
    static func insertEvents(_ rows: [AcceptedRow], runID: Int64, origin: String, _ db: Database) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let before = db.totalChangesCount
        let statement = SQLiteBinding(try db.cachedStatement(sql: insertEventSQL), db)
        // Constant for the batch: bound once, kept across resets.
        statement.bind(2, runID)
        statement.bind(15, origin)
        var texts = TextColumns()
        for row in rows {
            let event = row.event
            statement.bind(1, row.seq)
            texts.append(3, event.tenant)
            texts.append(4, event.id)
            texts.append(5, event.customer)
            texts.append(6, event.metric)
            texts.append(7, row.quantity)
            statement.bind(8, event.timestamp.millisecondsSinceEpoch)
            texts.append(9, event.source)
            texts.append(10, row.properties)
            statement.bind(11, row.receivedAt)
            statement.bind(12, row.acceptance.period)
            statement.bind(13, row.acceptance.late)
            statement.bind(14, row.acceptance.overSoftLimit)
            try statement.stepBindingText(&texts)
        }
        return db.totalChangesCount - before
    }

    static func insertOthers(_ rows: [OtherRow], runID: Int64, _ db: Database) throws {
        guard !rows.isEmpty else { return }
        let rejection = SQLiteBinding(try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO rejections (seq, run_id, event_id, reason, received_at, payload_kind, payload)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """), db)
        let deadLetter = SQLiteBinding(try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO dead_letters (seq, run_id, event_id, reason, received_at, payload_kind, payload)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """), db)
        rejection.bind(2, runID)
        deadLetter.bind(2, runID)
        for row in rows {
            let statement = row.table == .rejections ? rejection : deadLetter
            statement.bind(1, row.seq)
            statement.bind(3, row.eventID)
            statement.bind(4, row.reason.rawValue)
            statement.bind(5, row.receivedAt)
            switch row.payload {
            case .event(let event):
                statement.bind(6, "event")
                statement.bind(7, eventJSON(event))
            case .malformed(let text):
                statement.bind(6, "raw")
                statement.bind(7, text)
            }
            try statement.step()
        }
    }

    /// One event as compact JSON with the wire field names (what ``Event/init(json:)`` reads back).
    static func eventJSON(_ event: Event) -> String {
        var text = CanonicalJSON.write(event.json, pretty: false)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Properties as a JSON object of strings, keys in the event's (sorted) order.
    static func propertiesJSON(_ properties: EventProperties) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, pair) in properties.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(pair.key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendJSONString(pair.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
