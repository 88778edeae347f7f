import Foundation
import GRDB
import TallyPipeline

/// A ledger file: the durable SQLite record of one scenario's run.
///
/// The layout is in Docs/Ledger.md. A ledger holds one scenario (identified by
/// name, seed and the SHA-256 of its file's text): `UNIQUE(tenant, event_id)`
/// guards the whole file, as it would a production ledger, so two different
/// scenarios whose generated ids collide must not share one. Recording the same
/// scenario again resumes or re-records that run without storing anything twice.
public final class Ledger: @unchecked Sendable {
    // @unchecked: DatabaseQueue serializes every access itself.

    /// The file's path, as given when it was opened.
    public let path: String
    let queue: DatabaseQueue
    /// A writer's hold on the file, released when the ledger is.
    private let lock: LedgerLock?

    /// The pragmas every connection to a ledger uses.
    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.label = "tally-ledger"
        // Another run writing the same file: wait a few seconds for it rather than fail at once.
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.prepareDatabase { db in
            // WAL: a killed writer leaves the last committed transaction intact, and readers
            // (the sqlite3 shell, a test polling progress) never block the writer.
            // Bigger pages halve the B-tree work per row of bulk appends; this only takes
            // effect on a new, empty file (before WAL is on), and is a no-op afterwards.
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // NORMAL is crash-safe under WAL against a killed process (only a power cut can
            // lose the last commits, never corrupt the file), and avoids an fsync per batch.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 256 MiB of page cache keeps the parts of the events B-tree that inserts touch in
            // memory; checkpointing every 64 MiB of WAL (not 4 MiB) copies each hot page back
            // into the database file less often.
            try db.execute(sql: "PRAGMA cache_size = -262144")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autocheckpointPages)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return configuration
    }

    static let autocheckpointPages = 4096

    /// How long a connection waits for another one's write lock before giving up.
    static let busyTimeoutSeconds: TimeInterval = 5

    /// Opens the ledger at `path`, creating it when `create` is true, and migrates it to the current schema.
    ///
    /// A writer (`exclusive`) first checks that this user can write the file and its folder, then takes
    /// the ledger's lock for as long as this value lives: one run records into a ledger at a time.
    ///
    /// - Throws: ``LedgerError`` when the file is missing (and `create` is false), is not a
    ///   SQLite database, or was written by a newer version of Tally; for a writer, also when the
    ///   file or its folder cannot be written, or another writer holds the lock for
    ///   a few seconds more. A file this call created is removed again when it fails.
    public init(path: String, create: Bool = false, exclusive: Bool = false) throws {
        self.path = path
        let existed = FileManager.default.fileExists(atPath: path)
        if !create && !existed {
            throw LedgerError("\(path): no such ledger file")
        }
        if exclusive {
            try Self.checkWritable(path, exists: existed)
            lock = try LedgerLock(ledgerPath: path, timeout: Self.busyTimeoutSeconds)
        } else {
            lock = nil
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: Self.configuration)
            let migrator = LedgerSchema.migrator
            if try queue.read({ try migrator.appliedIdentifiers($0).contains(LedgerSchema.preReleaseV1) }) {
                throw LedgerError(
                    "\(path): the ledger has the pre-release layout of Tally's ledger, which this version does not read; record the scenario again into a new file"
                )
            }
            if try queue.read({ try migrator.hasBeenSuperseded($0) }) {
                throw LedgerError(
                    "\(path): the ledger was written by a newer version of Tally (unknown schema migrations)")
            }
            try migrator.migrate(queue)
        } catch {
            // Nothing half-written: a file made here but not brought to the schema goes again.
            if !existed && exclusive {
                for file in [path, path + "-wal", path + "-shm"] { unlink(file) }
            }
            if let error = error as? LedgerError { throw error }
            throw LedgerError(error, path: path, doing: "open")
        }
    }

    /// Refuses a ledger this user cannot write, before SQLite opens it (which would leave -wal and -shm files).
    private static func checkWritable(_ path: String, exists: Bool) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        if access(folder, W_OK | X_OK) != 0 {
            throw LedgerError.notWritable(
                path, doing: "write",
                because: "its folder \(folder) is not writable (\(String(cString: strerror(errno))))")
        }
        if exists && access(path, W_OK) != 0 {
            throw LedgerError.notWritable(
                path, doing: "write", because: "the file is not writable (\(String(cString: strerror(errno))))")
        }
    }

    /// `PRAGMA integrity_check`: `"ok"` for an intact file, otherwise SQLite's list of problems.
    public func integrityCheck() throws -> String {
        try queue.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }

    /// Row counts of every table, to compare two recordings.
    public func counts() throws -> LedgerCounts {
        try queue.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return LedgerCounts(
                runs: try count("SELECT count(*) FROM runs"),
                events: try count("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM service_events)"),
                rejections: try count("SELECT count(*) FROM rejections"),
                deadLetters: try count("SELECT count(*) FROM dead_letters"),
                pendingDeadLetters: try count("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL"),
                invoices: try count("SELECT count(*) FROM invoices"),
                invoiceLines: try count("SELECT count(*) FROM invoice_lines"),
                refusals: try count("SELECT count(*) FROM refusals"))
        }
    }

    /// The recorded run, or nil for a ledger nothing was recorded in yet.
    public func run() throws -> RecordedRun? {
        try queue.read { db in try RecordedRun.fetch(db) }
    }

    /// The recorded run, or an error naming the file when there is none.
    public func requireRun() throws -> RecordedRun {
        guard let run = try run() else { throw LedgerError("\(path): the ledger records no run yet") }
        return run
    }

    /// The recorded invoices in billing order (period, then the catalog's customer order).
    public func invoices() throws -> [InvoiceRecord] {
        try queue.read { db in try InvoiceRecord.fetchAll(db) }
    }

    /// Requests the gateway refused, counted by reason code (`margin_blocked`, `spike_arrested`...).
    public func refusalsByReason() throws -> [String: Int] {
        try queue.read { db in try Self.refusalsByReason(db) }
    }

    static func refusalsByReason(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT reason, count(*) AS n FROM refusals GROUP BY reason") {
            counts[try row.text("reason")] = try row.int("n")
        }
        return counts
    }

    /// Every dead letter, in the order the events arrived.
    public func deadLetters() throws -> [RecordedDeadLetter] {
        try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, event_id, reason, detail, payload_kind, payload, received_at, replayed_at, replay_outcome
                    FROM dead_letters ORDER BY seq
                    """
            ).map { row in
                RecordedDeadLetter(
                    seq: try row.int64("seq"), eventID: try row.optional("event_id"), reason: try row.text("reason"),
                    detail: try row.optional("detail") ?? "", payloadKind: try row.text("payload_kind"),
                    payload: try row.text("payload"),
                    receivedAt: Instant(millisecondsSinceEpoch: try row.int64("received_at")),
                    replayedAt: try row.optional("replayed_at", as: Int64.self).map {
                        Instant(millisecondsSinceEpoch: $0)
                    },
                    replayOutcome: try row.optional("replay_outcome"))
            }
        }
    }
}

/// A problem with a ledger file or its contents, worded for the person at the terminal.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, in a sentence.
    public var message: String
    /// Creates an error with its message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }

    /// A SQLite failure to `doing` (open, record into...) the ledger at `path`, said in the user's terms.
    init(_ error: any Error, path: String, doing: String) {
        switch (error as? DatabaseError)?.resultCode {
        case .SQLITE_BUSY?, .SQLITE_LOCKED?:
            self = .held(path, waited: Ledger.busyTimeoutSeconds)
        case .SQLITE_READONLY?, .SQLITE_PERM?, .SQLITE_CANTOPEN?, .SQLITE_IOERR?, .SQLITE_FULL?:
            self = .notWritable(path, doing: doing, because: (error as? DatabaseError)?.message ?? "\(error)")
        default:
            self.init("\(path): cannot \(doing) the ledger: \(error)")
        }
    }

    /// Another process held the ledger at `path` for the `waited` seconds this one waited for it.
    static func held(_ path: String, waited: TimeInterval) -> LedgerError {
        LedgerError(
            "\(path): another run holds the ledger (waited \(Int(waited)) s for it); "
                + "wait for it to finish, or record into another file")
    }

    /// The ledger at `path`, or its folder, cannot be written by this user.
    static func notWritable(_ path: String, doing: String, because reason: String) -> LedgerError {
        LedgerError(
            "\(path): cannot \(doing) the ledger: \(reason); "
                + "expected a file, and a folder for its -wal and -shm files, that this user can write")
    }
}

/// How many rows each table holds.
public struct LedgerCounts: Sendable, Hashable, CustomStringConvertible {
    /// Rows in `runs`: 1 for a recorded ledger.
    public var runs: Int
    /// Accepted events, including those a dead-letter replay accepted later (and a service's, in `service_events`).
    public var events: Int
    /// Events rejected for good (duplicates, too old, over a hard quota...).
    public var rejections: Int
    /// Dead letters, pending or replayed.
    public var deadLetters: Int
    /// Dead letters still waiting for a replay.
    public var pendingDeadLetters: Int
    /// Invoices stored.
    public var invoices: Int
    /// Invoice lines stored, over every invoice.
    public var invoiceLines: Int
    /// Requests the gateway refused (which never became events).
    public var refusals: Int = 0

    /// The counts as one line: `runs 1, events 9998, rejections 2, ...`.
    public var description: String {
        "runs \(runs), events \(events), rejections \(rejections), dead letters \(deadLetters) (\(pendingDeadLetters) pending), invoices \(invoices), invoice lines \(invoiceLines), refusals \(refusals)"
    }
}

/// The `runs` row: which scenario was recorded, from which file text, and how it ended.
public struct RecordedRun: Sendable, Hashable {
    /// The run's id.
    public var id: Int64
    /// The scenario's name.
    public var scenario: String
    /// The seed the traffic was generated from.
    public var seed: UInt64
    /// The SHA-256 of the scenario file's text, which identifies the scenario.
    public var scenarioSHA256: String
    /// The scenario file's text, as it was recorded.
    public var scenarioYAML: String
    /// The scenario file's path when it was recorded, for messages.
    public var scenarioFile: String
    /// The version of `tally` that recorded the run.
    public var toolVersion: String
    /// The simulated clock: the schedule's first instant and last, and the meter's clock at the end.
    public var clockStart: Instant
    /// The schedule's last instant (the end of the last period).
    public var clockEnd: Instant
    /// The meter's clock when the run ended: the latest ingest time; nil before any event.
    public var lastReceivedAt: Instant?
    /// The number of events the scenario sends.
    public var plannedEvents: Int
    /// Events received, set when the run completed.
    ///
    /// Nil while the run is incomplete, such as after a kill; likewise for the other totals.
    public var received: Int?
    /// Accepted events, once the run completed.
    public var accepted: Int?
    /// Rejected events, once the run completed.
    public var rejected: Int?
    /// Dead-lettered events, once the run completed.
    public var deadLettered: Int?
    /// Requests refused at the gateway, once the run completed; nil too for a run recorded before refusals were.
    public var refused: Int? = nil
    /// Whether the run ran to its end (false after a kill).
    public var completed: Bool
    /// The scenario text whose catalog billed the stored invoices, when a dead-letter replay re-billed them.
    public var billingYAML: String?

    static func fetch(_ db: Database) throws -> RecordedRun? {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id")
        guard let row = rows.first else { return nil }
        guard rows.count == 1 else { throw LedgerError("the ledger has \(rows.count) runs, expected one") }
        let seedText = try row.text("seed")
        guard let seed = UInt64(seedText) else { throw LedgerError("runs.seed '\(seedText)' is not a whole number") }
        return RecordedRun(
            id: try row.int64("id"), scenario: try row.text("scenario"), seed: seed,
            scenarioSHA256: try row.text("scenario_sha256"), scenarioYAML: try row.text("scenario_yaml"),
            scenarioFile: try row.text("scenario_file"), toolVersion: try row.text("tool_version"),
            clockStart: Instant(millisecondsSinceEpoch: try row.int64("clock_start")),
            clockEnd: Instant(millisecondsSinceEpoch: try row.int64("clock_end")),
            lastReceivedAt: try row.optional("last_received_at", as: Int64.self).map {
                Instant(millisecondsSinceEpoch: $0)
            },
            plannedEvents: try row.int("planned_events"),
            received: try row.optional("received"), accepted: try row.optional("accepted"),
            rejected: try row.optional("rejected"), deadLettered: try row.optional("dead_lettered"),
            refused: try row.optional("refused"), completed: try row.optional("completed", as: Int.self) == 1,
            billingYAML: try row.optional("billing_yaml"))
    }

    /// The recorded scenario's terms, read again from the text stored with the run.
    public func terms(_ load: BillingTerms.Loader) throws -> BillingTerms {
        do { return try load(scenarioYAML, scenarioFile) } catch {
            throw LedgerError("the scenario stored in the ledger no longer loads: \(error)")
        }
    }

    /// The terms whose catalog billed the stored invoices (the recorded ones, unless a replay re-billed them).
    public func billingTerms(_ load: BillingTerms.Loader) throws -> BillingTerms {
        guard let billingYAML else { return try terms(load) }
        do { return try load(billingYAML, "\(scenarioFile) (catalog of the last dead-letter replay)") } catch {
            throw LedgerError("the billing scenario stored in the ledger no longer loads: \(error)")
        }
    }
}

/// What the ledger needs of a scenario to meter and bill recorded events again: its catalog,
/// billing periods and time windows.
///
/// The ledger stores scenario text but does not read YAML itself (that is the sandbox's
/// ``Loader``), so a service can link the ledger without the sandbox.
public struct BillingTerms: Sendable {
    /// Reads a scenario's text (`yaml`, from the file at `file`, for messages) into its terms.
    public typealias Loader = @Sendable (_ yaml: String, _ file: String) throws -> BillingTerms
    /// Reads a what-if's text (`yaml`, from `file`): a whole scenario, or plans (and metrics) alone,
    /// which take the rest from the recorded scenario's text `recorded`.
    public typealias PlansLoader = @Sendable (_ yaml: String, _ file: String, _ recorded: String) throws -> BillingTerms

    /// The metrics, plans, customers, discounts, taxes and credits that meter and price the events.
    public var catalog: Catalog
    /// The billing periods the invoices cover, from the scenario's start to its end.
    public var schedule: PeriodSchedule
    /// The validation windows that judge an event's timestamp against its ingest time.
    public var limits: MeteringLimits

    /// Creates terms from a scenario's catalog, billing periods and validation windows.
    public init(catalog: Catalog, schedule: PeriodSchedule, limits: MeteringLimits) {
        self.catalog = catalog
        self.schedule = schedule
        self.limits = limits
    }
}

/// A `dead_letters` row.
public struct RecordedDeadLetter: Sendable, Hashable {
    /// The event's position in the run's stream.
    public var seq: Int64
    /// The event's id, or nil for input that did not decode into an event.
    public var eventID: String?
    /// The reason code: `schema_invalid`, `unknown_customer` or `unknown_metric`.
    public var reason: String
    /// What exactly was wrong, such as `customer 'acme' is not in the catalog`.
    public var detail: String
    /// `event` (a typed event, kept as its JSON) or `raw` (text that may not even be JSON).
    public var payloadKind: String
    /// The event as JSON, or the raw text received.
    public var payload: String
    /// When it was received, on the run's simulated clock.
    public var receivedAt: Instant
    /// The simulated time of the replay that took it out of the queue; nil while it waits.
    public var replayedAt: Instant?
    /// `accepted`, or `rejected:<reason>` for one a replay judged but did not accept.
    public var replayOutcome: String?
}

extension Row {
    /// A non-NULL text column, or an error naming it (never a trap on a hand-edited ledger).
    func text(_ column: String) throws -> String {
        guard let value = try decode(String?.self, forColumn: column) else {
            throw LedgerError("column \(column) is NULL")
        }
        return value
    }

    func int64(_ column: String) throws -> Int64 {
        guard let value = try decode(Int64?.self, forColumn: column) else {
            throw LedgerError("column \(column) is NULL")
        }
        return value
    }

    func int(_ column: String) throws -> Int {
        guard let value = try decode(Int?.self, forColumn: column) else {
            throw LedgerError("column \(column) is NULL")
        }
        return value
    }

    /// A nullable column; throws (rather than traps) when the value has the wrong type.
    func optional<Value: DatabaseValueConvertible>(_ column: String, as type: Value.Type = Value.self) throws -> Value?
    {
        try decode(Value?.self, forColumn: column)
    }

    func decimal(_ column: String) throws -> ExactDecimal {
        try Self.decimal(try text(column), column: column)
    }

    func optionalDecimal(_ column: String) throws -> ExactDecimal? {
        guard let text = try optional(column, as: String.self) else { return nil }
        return try Self.decimal(text, column: column)
    }

    static func decimal(_ text: String, column: String) throws -> ExactDecimal {
        do { return try ExactDecimal(parsing: text) } catch {
            throw LedgerError("column \(column) holds '\(text.prefix(40))', not a decimal: \(error)")
        }
    }
}
