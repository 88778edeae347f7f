import GRDB
import TallyJSON
import TallyPipeline

/// A service's ledger: every event it metered, appended in group commits, and read back at start.
///
/// Where ``LedgerRecorder`` records one scenario's stream, a journal records what a
/// running service (tally-server) was sent, for any number of tenants: each event at the
/// next `seq` in exactly one of `service_events` (accepted), `rejections` and
/// `dead_letters`, all three appended in `seq` order. Nothing is acknowledged before
/// ``append(_:requests:forgettingRequestsBefore:)`` returns, and a restarted service meters
/// the entries again, in `seq` order, to rebuild its meters.
public final class LedgerJournal: @unchecked Sendable {
    // @unchecked: `names` and `nextSeq` are used only by `append`, which the service calls
    // from one committer at a time; the ledger's queue serializes the database itself.

    /// The ledger database the journal appends to; its `runs` rows, if any, are not touched.
    public let ledger: Ledger
    private var names: LedgerNames
    /// The `seq` the next appended entry gets.
    public private(set) var nextSeq: Int64

    /// Opens the journal of `ledger`, continuing after the last stored entry.
    public init(ledger: Ledger) throws {
        self.ledger = ledger
        (names, nextSeq) = try ledger.queue.read { db in
            let last = try Int64.fetchOne(
                db,
                sql: """
                    SELECT max(m) FROM (SELECT max(seq) AS m FROM events UNION ALL SELECT max(seq) FROM service_events
                        UNION ALL SELECT max(seq) FROM rejections UNION ALL SELECT max(seq) FROM dead_letters)
                    """)
            return (try LedgerNames(db), (last ?? -1) + 1)
        }
    }

    /// Writes `entries` at the next positions and `requests` in one transaction.
    ///
    /// - Parameters:
    ///   - entries: the events to store, each at the next `seq`, with its outcome.
    ///   - requests: the batch requests answered with them, kept for their idempotency keys.
    ///   - forgettingRequestsBefore: when set, the same transaction deletes the requests answered
    ///     before this wall-clock instant (in milliseconds): their idempotency keys are forgotten.
    /// - Throws: ``LedgerError`` when the transaction fails; then nothing of it is stored
    ///   and the positions are not used up.
    public func append(
        _ entries: [JournalEntry], requests: [RecordedRequest] = [], forgettingRequestsBefore: Int64? = nil
    ) throws {
        var batch = LedgerBatch(origin: 0, capacity: entries.count)
        batch.acceptedTable = .serviceEvents
        var newNames = names
        var seq = nextSeq
        for entry in entries {
            let receivedAt = entry.receivedAt.millisecondsSinceEpoch
            switch entry.outcome {
            case .accepted(let acceptance):
                guard case .event(let event) = entry.payload else {
                    throw LedgerError("event '\(entry.eventID)' was accepted but is not a typed event")
                }
                batch.appendAccepted(
                    seq: seq, event: event, receivedAt: receivedAt, acceptance: acceptance, names: &newNames)
            case .rejected(let reason):
                batch.appendRejected(
                    seq: seq, eventID: entry.eventID, payload: entry.payload, reason: reason, receivedAt: receivedAt,
                    names: &newNames)
            case .deadLettered(let reason):
                batch.appendDeadLettered(
                    seq: seq, eventID: entry.eventID, payload: entry.payload, reason: reason,
                    receivedAt: receivedAt, detail: entry.detail)
            }
            seq += 1
        }
        do {
            try ledger.queue.inDatabase { db in
                try db.inTransaction(.immediate) {
                    try LedgerWriter.write(batch, db)
                    if let forgettingRequestsBefore {
                        try db.cachedStatement(sql: "DELETE FROM service_requests WHERE answered_at < ?")
                            .execute(arguments: [forgettingRequestsBefore])
                    }
                    let insert = try db.cachedStatement(
                        sql: """
                            INSERT INTO service_requests (tenant, key, body_sha256, response, answered_at)
                                VALUES (?, ?, ?, ?, ?)
                            """)
                    for request in requests {
                        try insert.execute(arguments: [
                            request.tenant, request.key, request.bodySHA256, request.response, request.answeredAt,
                        ])
                    }
                    return .commit
                }
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError("\(ledger.path): appending \(entries.count) events failed: \(error)")
        }
        names = newNames
        nextSeq = seq
    }

    /// Calls `body` with every stored entry in `seq` order: what the service was sent, and what it answered.
    ///
    /// The tables are each read in `seq` order and merged (only `events`, where ledgers written
    /// before migration v5 keep their service's accepted events, is sorted).
    public func forEachEntry(_ body: (JournalEntry) throws -> Void) throws {
        try ledger.queue.read { db in
            let names = try LedgerNameLookup(db)
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, 0 AS kind, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no, properties,
                        received_at, period, flags, NULL AS reason, NULL AS raw, NULL AS detail FROM events
                    UNION ALL
                    SELECT seq, 0, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no, properties,
                        received_at, period, flags, NULL, NULL, NULL FROM service_events
                    UNION ALL
                    SELECT seq, 1, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no, properties,
                        received_at, NULL, NULL, reason, raw, NULL FROM rejections
                    UNION ALL
                    SELECT seq, 2, NULL, event_id, NULL, NULL, NULL, NULL, NULL, NULL, received_at, NULL, NULL, reason, payload,
                        detail FROM dead_letters
                    ORDER BY seq
                    """)
            while let row = try cursor.next() {
                try body(try Self.entry(row, names))
            }
        }
    }

    private static func entry(_ row: Row, _ names: LedgerNameLookup) throws -> JournalEntry {
        let seq = try row.int64("seq")
        let receivedAt = Instant(millisecondsSinceEpoch: try row.int64("received_at"))
        func reason() throws -> OutcomeReason {
            let text = try row.text("reason")
            guard let reason = OutcomeReason(rawValue: text) else {
                throw LedgerError("entry #\(seq): unknown reason '\(text)'")
            }
            return reason
        }
        switch try row.int("kind") {
        case 0:
            let flags = try row.int64("flags")
            let period: Int? = try row.optional("period")
            let acceptance = Acceptance(
                late: flags & LedgerBatch.lateFlag != 0,
                overSoftLimit: flags & LedgerBatch.overSoftLimitFlag != 0, period: period)
            let event = try LedgerReader.event(row, names)
            return JournalEntry(
                eventID: event.id, payload: .event(event), receivedAt: receivedAt, outcome: .accepted(acceptance))
        case 1:
            let payload: DeadLetter.Payload
            if let raw = try row.optional("raw", as: String.self) {
                payload = .raw(raw)
            } else {
                payload = .event(try LedgerReader.event(row, names))
            }
            return JournalEntry(
                eventID: try row.text("event_id"), payload: payload, receivedAt: receivedAt,
                outcome: .rejected(try reason()))
        default:
            let text = try row.text("raw")
            let payload: DeadLetter.Payload = (try? Event(json: JSONValue.parse(text))).map { .event($0) } ?? .raw(text)
            return JournalEntry(
                eventID: try row.optional("event_id") ?? "", payload: payload, receivedAt: receivedAt,
                outcome: .deadLettered(try reason()), detail: try row.optional("detail"))
        }
    }

    /// Every recorded request's tenant, idempotency key, body hash and answer time, oldest first
    /// (their responses stay on disk).
    public func requestKeys() throws -> [(tenant: String, key: String, bodySHA256: String, answeredAt: Int64)] {
        try ledger.queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT tenant, key, body_sha256, answered_at FROM service_requests ORDER BY answered_at"
            ).map { row in
                (try row.text("tenant"), try row.text("key"), try row.text("body_sha256"), try row.int64("answered_at"))
            }
        }
    }

    /// The response recorded for the tenant's idempotency key, if any.
    public func response(tenant: String, key: String) throws -> String? {
        try ledger.queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT response FROM service_requests WHERE tenant = ? AND key = ?",
                arguments: [tenant, key])
        }
    }
}

/// One event a service metered: as it was sent, when, and what the pipeline decided.
public struct JournalEntry: Sendable, Hashable {
    /// The id as sent.
    public var eventID: String
    /// The event as decoded, or the raw text of input that did not decode (kept for a dead letter).
    public var payload: DeadLetter.Payload
    /// The service's clock when the event arrived: its ingest time, which validation measures against.
    public var receivedAt: Instant
    /// What the pipeline decided: accepted, rejected or dead-lettered, which picks the event's table.
    public var outcome: MeteringOutcome
    /// For a dead letter, what exactly was wrong.
    public var detail: String?

    /// Creates the entry of one metered event, with the dead letter's `detail` when there is one.
    public init(
        eventID: String, payload: DeadLetter.Payload, receivedAt: Instant, outcome: MeteringOutcome,
        detail: String? = nil
    ) {
        self.eventID = eventID
        self.payload = payload
        self.receivedAt = receivedAt
        self.outcome = outcome
        self.detail = detail
    }
}

/// A request answered under an idempotency key, stored with the events it metered.
public struct RecordedRequest: Sendable, Hashable {
    /// The tenant that sent the request, `TENANT@test` for test-mode data.
    ///
    /// A key is unique per tenant: two tenants may send the same one.
    public var tenant: String
    /// The request's `Idempotency-Key` header, as sent.
    public var key: String
    /// The SHA-256 of the request body as sent, in lowercase hex.
    ///
    /// A retry with the same key but another body is refused (422), not answered from the ledger.
    public var bodySHA256: String
    /// The JSON the service answered with, given again byte for byte to a retry with the same key.
    public var response: String
    /// The service's wall clock when it answered, in milliseconds since the epoch: the key is kept
    /// for the service's idempotency window from then on.
    public var answeredAt: Int64

    /// Creates the record of a request answered under `tenant`'s idempotency key `key` at `answeredAt`.
    public init(tenant: String, key: String, bodySHA256: String, response: String, answeredAt: Int64 = 0) {
        self.tenant = tenant
        self.key = key
        self.bodySHA256 = bodySHA256
        self.response = response
        self.answeredAt = answeredAt
    }
}
