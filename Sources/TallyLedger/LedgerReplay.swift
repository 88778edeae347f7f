import GRDB
import TallyJSON
import TallyPipeline

/// Reads recorded events back into the pipeline: rebuilding a ``Meter`` from a ledger.
enum LedgerReader {
    static let eventColumns =
        "seq, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no, properties, received_at"

    /// An `events` row as the event the pipeline accepted.
    static func event(_ row: Row, _ names: LedgerNameLookup) throws -> Event {
        let seq = try row.int64("seq")
        var properties = EventProperties()
        if let text = try row.optional("properties", as: String.self) {
            guard case .object(let object)? = try? JSONValue.parse(text) else {
                throw LedgerError("event #\(seq): properties '\(text.prefix(60))' is not a JSON object")
            }
            for (key, value) in object.members {
                guard case .string(let string) = value else {
                    throw LedgerError("event #\(seq): property '\(key)' is not a string")
                }
                properties[key] = string
            }
        }
        return Event(
            id: try row.text("event_id"), tenant: try names.name(.tenant, try row.int64("tenant_no"), seq: seq),
            customer: try names.name(.customer, try row.int64("customer_no"), seq: seq),
            metric: try names.name(.metric, try row.int64("metric_no"), seq: seq),
            quantity: try row.decimal("quantity"),
            timestamp: Instant(millisecondsSinceEpoch: try row.int64("timestamp")),
            source: try names.name(.source, try row.int64("source_no"), seq: seq), properties: properties)
    }

    /// Meters every accepted event of the ledger again (stream ones in stream order, then
    /// replayed ones), under `catalog`, for re-rating and reconciling.
    ///
    /// The time windows were judged when the events were recorded (against a clock that
    /// rejected events also moved), so `maxFuture` is lifted here: an accepted event must
    /// not turn into `timestamp_in_future` because the rejected ones are not re-sent.
    /// `maxAge` stays, which keeps the dedup memory bounded; the rebuilt clock never runs
    /// ahead of the recorded one, so no accepted event becomes too old.
    ///
    /// - Returns: the meter, and the events it did not accept, by reason (another catalog may not know a customer).
    static func remeterAccepted(
        _ db: Database, catalog: Catalog, schedule: PeriodSchedule, limits: MeteringLimits
    )
        throws -> (meter: Meter, notAccepted: [OutcomeReason: Int])
    {
        var relaxed = limits
        relaxed.maxFuture = TimeSpan(milliseconds: Int64.max / 4)
        var meter = Meter(catalog: catalog, schedule: schedule, limits: relaxed)
        var notAccepted: [OutcomeReason: Int] = [:]
        let names = try LedgerNameLookup(db)
        for origin in [0, 1] {
            // The table is ordered by its key, not by seq: SQLite sorts (in memory, temp_store = MEMORY).
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT \(eventColumns) FROM events WHERE origin = ? ORDER BY seq", arguments: [origin])
            while let row = try cursor.next() {
                let event = try event(row, names)
                let outcome = meter.ingest(
                    event, receivedAt: Instant(millisecondsSinceEpoch: try row.int64("received_at")))
                if let reason = outcome.reason { notAccepted[reason, default: 0] += 1 }
            }
        }
        return (meter, notAccepted)
    }
}

/// Replays a ledger's pending dead letters after the catalog was fixed.
public enum DeadLetterReplay {
    /// What a replay did.
    public struct Report: Sendable, Hashable {
        /// Pending dead letters tried.
        public var tried = 0
        /// Letters accepted by this replay, each stored and billed once.
        public var accepted = 0
        /// Judged but not accepted, such as `duplicate`: they leave the queue, as with `Meter.replayDeadLetters(receivedAt:)`.
        public var rejected: [OutcomeReason: Int] = [:]
        /// Still dead-lettered, by reason: they stay pending.
        public var stillDead: [OutcomeReason: Int] = [:]
        /// Whether the invoices were billed again (only when an event was accepted).
        public var rebilled = false
        /// The simulated time the replay ran at: the meter's clock after the recorded events.
        public var replayedAt = Instant(millisecondsSinceEpoch: 0)
    }

    /// Rebuilds the run's meter from the ledger, swaps in `fixed`'s catalog, and meters every pending dead letter again.
    ///
    /// The rebuild re-sends every recorded event in stream order under the recorded
    /// catalog, so dedup, quotas and the clock are what they were when the run ended;
    /// then the events earlier replays accepted; then the pending letters, at the
    /// meter's clock. Accepted ones are inserted with `INSERT OR IGNORE` and marked
    /// replayed in the same transaction, so each is stored once; a second replay finds
    /// nothing new to accept and changes nothing. When any is accepted, the run is
    /// billed again under the fixed catalog and its invoices are replaced.
    ///
    /// - Parameters:
    ///   - ledger: the recorded run whose dead letters are replayed; written to.
    ///   - fixedYAML: the corrected scenario's text (its catalog is used); nil replays under the recorded catalog.
    ///   - file: the fixed scenario's path, for messages.
    ///   - load: reads scenario text into its terms (the sandbox's loader).
    public static func replay(
        _ ledger: Ledger, fixedYAML: String? = nil, file: String = "the fixed scenario",
        load: BillingTerms.Loader
    ) throws -> Report {
        var fixed: BillingTerms?
        if let fixedYAML {
            do { fixed = try load(fixedYAML, file) } catch {
                throw LedgerError("\(error)")
            }
        }
        return try ledger.queue.inDatabase { db in
            var report = Report()
            try db.inTransaction(.immediate) {
                guard let run = try RecordedRun.fetch(db) else {
                    throw LedgerError("\(ledger.path): the ledger records no run yet")
                }
                guard run.completed else {
                    throw LedgerError(
                        "\(ledger.path): the run of '\(run.scenario)' did not complete (killed?); record it again with tally run --ledger before replaying"
                    )
                }
                let recorded = try run.terms(load)
                let catalog = fixed?.catalog ?? recorded.catalog
                var meter = Meter(catalog: recorded.catalog, schedule: recorded.schedule, limits: recorded.limits)
                let names = try LedgerNameLookup(db)
                var clock = try rebuild(&meter, names, db)
                meter.replaceCatalog(catalog)
                let earlier = try Row.fetchCursor(
                    db, sql: "SELECT \(LedgerReader.eventColumns) FROM events WHERE origin = 1 ORDER BY seq")
                while let row = try earlier.next() {
                    clock = max(clock, Instant(millisecondsSinceEpoch: try row.int64("received_at")))
                    meter.ingest(try LedgerReader.event(row, names), receivedAt: clock)
                }
                clock = max(clock, meter.clock)
                let replayAt = clock.millisecondsSinceEpoch == .min ? run.clockEnd : clock
                report.replayedAt = replayAt
                var newNames = try LedgerNames(db)
                var accepted = LedgerBatch(origin: 1)
                let mark = try db.cachedStatement(
                    sql:
                        "UPDATE dead_letters SET replayed_at = ?, replay_outcome = ? WHERE seq = ? AND replayed_at IS NULL"
                )
                let pending = try Row.fetchAll(
                    db, sql: "SELECT seq, reason, payload FROM dead_letters WHERE replayed_at IS NULL ORDER BY seq")
                for row in pending {
                    report.tried += 1
                    let seq = try row.int64("seq")
                    // Text that never decoded into an event cannot be fixed by a catalog change.
                    guard let event = try? Event(json: JSONValue.parse(try row.text("payload"))) else {
                        report.stillDead[.schemaInvalid, default: 0] += 1
                        continue
                    }
                    switch meter.ingest(event, receivedAt: replayAt) {
                    case .accepted(let acceptance):
                        report.accepted += 1
                        accepted.appendAccepted(
                            seq: seq, event: event, receivedAt: replayAt.millisecondsSinceEpoch, acceptance: acceptance,
                            names: &newNames)
                        try mark.execute(arguments: [replayAt.millisecondsSinceEpoch, "accepted", seq])
                    case .rejected(let reason):
                        report.rejected[reason, default: 0] += 1
                        try mark.execute(arguments: [
                            replayAt.millisecondsSinceEpoch, "rejected:\(reason.rawValue)", seq,
                        ])
                    case .deadLettered(let reason):
                        report.stillDead[reason, default: 0] += 1
                    }
                }
                // The claim (the (event_id, tenant) key) and the write are one statement, in this transaction.
                let inserted = try LedgerWriter.write(accepted, db)
                guard inserted == accepted.events.count else {
                    throw LedgerError(
                        "\(accepted.events.count - inserted) replayed events were already in the ledger: nothing was changed"
                    )
                }
                if report.accepted > 0 {
                    let invoices: [Invoice]
                    do {
                        invoices = try Biller(catalog: catalog, schedule: recorded.schedule).invoices(for: meter.usage)
                    } catch {
                        throw LedgerError("billing after the replay failed: \(error)")
                    }
                    try InvoiceRecord.replaceAll(invoices.map(InvoiceRecord.init), runID: run.id, db)
                    try db.execute(
                        sql: "UPDATE runs SET billing_yaml = ? WHERE id = ?",
                        arguments: [fixedYAML, run.id])
                    report.rebilled = true
                }
                return .commit
            }
            return report
        }
    }

    /// Re-sends every recorded stream event, in stream order, as the run sent it; returns the clock the whole stream reached.
    ///
    /// A rejected event changes nothing in a meter but its clock (every rejection is decided
    /// before any usage, quota or dedup entry is touched), so rejections are not re-sent:
    /// their `received_at` moves the clock that the next events are metered at. The returned
    /// clock also counts rejections after the last event, which the meter has not seen.
    static func rebuild(_ meter: inout Meter, _ names: LedgerNameLookup, _ db: Database) throws -> Instant {
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, 0 AS kind, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no, properties,
                    received_at, NULL AS payload FROM events WHERE origin = 0
                UNION ALL
                SELECT seq, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, received_at, NULL FROM rejections
                UNION ALL
                SELECT seq, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, received_at, payload FROM dead_letters
                ORDER BY seq
                """)
        var mismatches = 0
        var clock = Instant(millisecondsSinceEpoch: .min)
        while let row = try cursor.next() {
            clock = max(clock, Instant(millisecondsSinceEpoch: try row.int64("received_at")))
            switch try row.int("kind") {
            case 0:
                if case .accepted = meter.ingest(try LedgerReader.event(row, names), receivedAt: clock) {
                } else {
                    mismatches += 1
                }
            case 1:
                break
            default:
                // The same door the run used for both typed and raw input; a typed event's JSON decodes to it again.
                if case .accepted = meter.ingest(json: try row.text("payload"), receivedAt: clock) { mismatches += 1 }
            }
        }
        guard mismatches == 0 else {
            throw LedgerError(
                "re-metering the recorded events under the recorded catalog gave \(mismatches) different outcomes: the ledger does not match its scenario"
            )
        }
        return clock
    }
}
