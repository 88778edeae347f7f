import GRDB
import TallyJSON
import TallyPipeline

/// The numbers of the names in the lookup tables (`tenants`, `customers`, `metrics`, `sources`).
///
/// Loaded from the ledger before a recording or a replay, so a name keeps the number
/// it was stored with; a name seen for the first time gets the next free number and
/// is written by the batch that first uses it, in that batch's transaction.
struct LedgerNames: Sendable {
    enum Kind: Int, Sendable, CaseIterable {
        case tenant, customer, metric, source

        var table: String {
            switch self {
            case .tenant: "tenants"
            case .customer: "customers"
            case .metric: "metrics"
            case .source: "sources"
            }
        }
    }

    /// One lookup table: name to number, with the last name asked for remembered
    /// (tenant and source rarely change from one event to the next).
    struct Table: Sendable {
        private var numbers: [String: Int64] = [:]
        private var next: Int64 = 0
        private var last: (name: String, number: Int64)?

        init(_ rows: [(number: Int64, name: String)]) {
            for row in rows {
                numbers[row.name] = row.number
                next = max(next, row.number + 1)
            }
        }

        /// The name's number; `isNew` when this call assigned it.
        mutating func number(_ name: String) -> (number: Int64, isNew: Bool) {
            if let last, last.name == name { return (last.number, false) }
            var isNew = false
            let number: Int64
            if let known = numbers[name] {
                number = known
            } else {
                number = next
                next += 1
                numbers[name] = number
                isNew = true
            }
            last = (name, number)
            return (number, isNew)
        }
    }

    private var tables: [Table]

    init(_ db: Database) throws {
        tables = try Kind.allCases.map { kind in
            Table(
                try Row.fetchAll(db, sql: "SELECT no, name FROM \(kind.table)").map { row in
                    (try row.int64("no"), try row.text("name"))
                })
        }
    }

    /// The name's number, adding a name seen for the first time to `batch`'s new names.
    mutating func number(_ kind: Kind, _ name: String, _ batch: inout LedgerBatch) -> Int64 {
        let (number, isNew) = tables[kind.rawValue].number(name)
        if isNew { batch.names.append((kind, number, name)) }
        return number
    }
}

/// The lookup tables read back: number to name, for turning `events` rows into events.
struct LedgerNameLookup {
    private var names: [[Int64: String]]

    init(_ db: Database) throws {
        names = try LedgerNames.Kind.allCases.map { kind in
            var byNumber: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT no, name FROM \(kind.table)") {
                byNumber[try row.int64("no")] = try row.text("name")
            }
            return byNumber
        }
    }

    func name(_ kind: LedgerNames.Kind, _ number: Int64, seq: Int64) throws -> String {
        guard let name = names[kind.rawValue][number] else {
            throw LedgerError("event #\(seq): \(kind.table) has no number \(number)")
        }
        return name
    }
}

/// Rows waiting to be written in one transaction, encoded on the run's thread so that
/// the writer thread only binds numbers and pointers.
///
/// Text (event ids, quantities, properties, reasons) is laid back to back in one byte
/// buffer and bound in place (`SQLITE_STATIC`): no per-value String bridging, copy or
/// allocation on the writer thread.
struct LedgerBatch: Sendable {
    /// A slice of ``text``.
    struct Span: Sendable {
        var start: Int
        var count: Int

        /// Bound as NULL.
        static var null: Span { Span(start: 0, count: -1) }
    }

    /// The columns an event fills alike in `events` and in `rejections`, names as lookup numbers.
    struct EventColumns: Sendable {
        var tenant: Int64
        var customer: Int64
        var metric: Int64
        var source: Int64
        var timestamp: Int64
        var quantity: Span
        /// `count < 0`: no properties (stored as NULL).
        var properties: Span
    }

    struct EventRow: Sendable {
        var seq: Int64
        var columns: EventColumns
        var receivedAt: Int64
        /// `noPeriod` outside every billing period (stored as NULL).
        var period: Int64
        var flags: Int64
        var id: Span
    }

    /// A rejected event: the same columns as an accepted one, or, when the input was raw
    /// text (then kept as sent), none of them (all NULL) but the id.
    struct RejectionRow: Sendable {
        var seq: Int64
        var columns: EventColumns?
        var receivedAt: Int64
        var eventID: Span
        var reason: Span
        var raw = Span.null
    }

    struct DeadLetterRow: Sendable {
        var seq: Int64
        var eventID: String
        var reason: String
        var payloadKind: String
        var payload: String
        var receivedAt: Int64
        /// The pipeline's detail, when known as the row is written (a recording fills it in at the end).
        var detail: String? = nil
    }

    /// A request the gateway refused: who asked for what, when, and why.
    struct RefusalRow: Sendable {
        var seq: Int64
        var requestID: Span
        var tenant: Int64
        var customer: Int64
        var metric: Int64
        var requestedAt: Int64
        var reason: Span
    }

    static var noPeriod: Int64 { .min }
    static var lateFlag: Int64 { 1 }
    static var overSoftLimitFlag: Int64 { 2 }

    /// Where accepted events are written.
    enum AcceptedTable: Sendable {
        /// `events`, keyed by `(event_id, tenant_no)`: a recording's, where an id already stored is ignored.
        case events
        /// `service_events`, keyed by `seq`: a service's journal, appended in `seq` order.
        case serviceEvents
    }

    /// 0 for the run's stream, 1 for dead letters a replay accepted.
    var origin: Int64
    /// The table `events` (the rows above) go to.
    var acceptedTable = AcceptedTable.events
    var events: [EventRow] = []
    var rejections: [RejectionRow] = []
    var deadLetters: [DeadLetterRow] = []
    var refusals: [RefusalRow] = []
    /// Lookup names first used by this batch, written before its rows.
    var names: [(kind: LedgerNames.Kind, number: Int64, name: String)] = []
    /// Starts with one byte, so the buffer always has an address and '' binds as '' (not NULL).
    var text: [UInt8] = [0]

    init(origin: Int64, capacity: Int = 0) {
        self.origin = origin
        events.reserveCapacity(capacity)
        // About 24 bytes of text per event: an id, a short quantity, no properties.
        text.reserveCapacity(capacity * 24)
    }

    var count: Int { events.count + rejections.count + deadLetters.count + refusals.count }

    mutating func appendAccepted(
        seq: Int64, event: Event, receivedAt: Int64, acceptance: Acceptance, names: inout LedgerNames
    ) {
        let id = append(event.id)
        events.append(
            EventRow(
                seq: seq, columns: appendColumns(event, names: &names), receivedAt: receivedAt,
                period: acceptance.period.map(Int64.init) ?? Self.noPeriod,
                flags: (acceptance.late ? Self.lateFlag : 0) | (acceptance.overSoftLimit ? Self.overSoftLimitFlag : 0),
                id: id))
    }

    mutating func appendRejected(
        seq: Int64, eventID: String, payload: DeadLetter.Payload, reason: OutcomeReason, receivedAt: Int64,
        names: inout LedgerNames
    ) {
        var row = RejectionRow(
            seq: seq, receivedAt: receivedAt, eventID: append(eventID), reason: append(reason.rawValue))
        switch payload {
        case .event(let event): row.columns = appendColumns(event, names: &names)
        case .raw(let text): row.raw = append(text)
        }
        rejections.append(row)
    }

    mutating func appendRefused(
        seq: Int64, requestID: String, tenant: String, customer: String, metric: String, requestedAt: Int64,
        reason: AccessRefusal, names: inout LedgerNames
    ) {
        refusals.append(
            RefusalRow(
                seq: seq, requestID: append(requestID), tenant: names.number(.tenant, tenant, &self),
                customer: names.number(.customer, customer, &self), metric: names.number(.metric, metric, &self),
                requestedAt: requestedAt, reason: append(reason.rawValue)))
    }

    private mutating func appendColumns(_ event: Event, names: inout LedgerNames) -> EventColumns {
        EventColumns(
            tenant: names.number(.tenant, event.tenant, &self),
            customer: names.number(.customer, event.customer, &self),
            metric: names.number(.metric, event.metric, &self), source: names.number(.source, event.source, &self),
            timestamp: event.timestamp.millisecondsSinceEpoch, quantity: appendQuantity(event.quantity),
            properties: event.properties.isEmpty ? Span.null : appendProperties(event.properties))
    }

    mutating func appendDeadLettered(
        seq: Int64, eventID: String, payload: DeadLetter.Payload, reason: OutcomeReason,
        receivedAt: Int64, detail: String? = nil
    ) {
        let (kind, text): (String, String)
        switch payload {
        case .event(let event): (kind, text) = ("event", Self.eventJSON(event))
        case .raw(let raw): (kind, text) = ("raw", raw)
        }
        deadLetters.append(
            DeadLetterRow(
                seq: seq, eventID: eventID, reason: reason.rawValue, payloadKind: kind,
                payload: text, receivedAt: receivedAt, detail: detail))
    }

    private mutating func append(_ string: String) -> Span {
        let start = text.count
        var string = string
        string.withUTF8 { text.append(contentsOf: $0) }
        return Span(start: start, count: text.count - start)
    }

    /// The quantity's canonical text (``ExactDecimal/description``), whole numbers written
    /// straight into the buffer: most quantities are counts.
    mutating func appendQuantity(_ quantity: ExactDecimal) -> Span {
        guard quantity.scale == 0, let whole = Int64(exactly: quantity.significand) else {
            return append(quantity.description)
        }
        let start = text.count
        if whole < 0 { text.append(UInt8(ascii: "-")) }
        var magnitude = whole.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        let count = withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            text.append(contentsOf: buffer[index...])
            return buffer.count - index
        }
        return Span(start: start, count: count + (whole < 0 ? 1 : 0))
    }

    /// Properties as a JSON object of strings, keys in the event's (sorted) order.
    private mutating func appendProperties(_ properties: EventProperties) -> Span {
        let start = text.count
        text.append(UInt8(ascii: "{"))
        for (index, pair) in properties.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(pair.key, to: &text)
            text.append(UInt8(ascii: ":"))
            CanonicalJSON.appendString(pair.value, to: &text)
        }
        text.append(UInt8(ascii: "}"))
        return Span(start: start, count: text.count - start)
    }

    /// One event as compact JSON with the wire field names (what ``Event/init(json:)`` reads back).
    static func eventJSON(_ event: Event) -> String {
        var text = CanonicalJSON.write(event.json, pretty: false)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// Writes batches inside the caller's transaction: recording and dead-letter replay share it.
enum LedgerWriter {
    /// Events per INSERT statement: one statement's fixed cost (cursor open, program start
    /// and halt) is shared by this many rows.
    static let rowsPerInsert = 32
    /// Parameters of one event; the origin is one more parameter shared by every row.
    private static let eventParameters = 12

    static func insertEventsSQL(rows: Int, into table: LedgerBatch.AcceptedTable = .events) -> String {
        let origin = rows * eventParameters + 1
        let tuples = (0..<rows).map { row in
            let first = row * eventParameters
            let parameters = (1...eventParameters).map { "?\(first + $0)" }.joined(separator: ",")
            return table == .events ? "(\(parameters),?\(origin))" : "(\(parameters))"
        }
        let columns =
            "event_id, tenant_no, seq, customer_no, metric_no, quantity, timestamp, source_no, properties, received_at, "
            + "period, flags"
        switch table {
        case .events:
            return "INSERT OR IGNORE INTO events (\(columns), origin) VALUES \(tuples.joined(separator: ","))"
        case .serviceEvents:
            // Plain INSERT: a seq already stored means another writer, an error.
            return "INSERT INTO service_events (\(columns)) VALUES \(tuples.joined(separator: ","))"
        }
    }

    private static let insertEventsMany = insertEventsSQL(rows: rowsPerInsert)
    private static let insertEventsOne = insertEventsSQL(rows: 1)
    private static let insertServiceEventsMany = insertEventsSQL(rows: rowsPerInsert, into: .serviceEvents)
    private static let insertServiceEventsOne = insertEventsSQL(rows: 1, into: .serviceEvents)

    /// Writes the batch's new names and rows; returns how many events were new.
    ///
    /// Every row is `INSERT OR IGNORE`: an event already stored under its `(event_id, tenant)`
    /// key, or a rejection or dead letter already stored at its `seq`, is left as it is,
    /// so the claim and the write are one statement. A service's accepted events
    /// (`AcceptedTable.serviceEvents`) are plain inserts at new `seq`s.
    @discardableResult
    static func write(_ batch: LedgerBatch, _ db: Database) throws -> Int {
        for name in batch.names {
            // Plain INSERT: a number taken by another name means another writer raced this one.
            try db.execute(
                sql: "INSERT INTO \(name.kind.table) (no, name) VALUES (?, ?)", arguments: [name.number, name.name])
        }
        var newEvents = 0
        try batch.text.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { text in
                let before = db.totalChangesCount
                try insertEvents(batch, text, db)
                newEvents = db.totalChangesCount - before
                try insertRejections(batch, text, db)
                try insertRefusals(batch, text, db)
            }
        }
        try insertDeadLetters(batch, db)
        return newEvents
    }

    private static func insertEvents(_ batch: LedgerBatch, _ text: UnsafePointer<CChar>, _ db: Database) throws {
        let rows = batch.events
        guard !rows.isEmpty else { return }
        let recording = batch.acceptedTable == .events
        var index = 0
        if rows.count >= rowsPerInsert {
            let many = SQLiteBinding(
                try db.cachedStatement(sql: recording ? insertEventsMany : insertServiceEventsMany), db)
            if recording { many.bind(Int32(rowsPerInsert * eventParameters + 1), batch.origin) }
            while index + rowsPerInsert <= rows.count {
                for offset in 0..<rowsPerInsert {
                    try bind(rows[index + offset], at: Int32(offset * eventParameters), many, text)
                }
                try many.step()
                index += rowsPerInsert
            }
        }
        guard index < rows.count else { return }
        let one = SQLiteBinding(try db.cachedStatement(sql: recording ? insertEventsOne : insertServiceEventsOne), db)
        if recording { one.bind(Int32(eventParameters + 1), batch.origin) }
        while index < rows.count {
            try bind(rows[index], at: 0, one, text)
            try one.step()
            index += 1
        }
    }

    @inline(__always)
    private static func bind(
        _ row: LedgerBatch.EventRow, at offset: Int32, _ statement: SQLiteBinding, _ text: UnsafePointer<CChar>
    ) throws {
        try statement.bindStatic(offset + 1, text, row.id)
        statement.bind(offset + 2, row.columns.tenant)
        statement.bind(offset + 3, row.seq)
        try bind(row.columns, from: offset + 4, statement, text)
        statement.bind(offset + 10, row.receivedAt)
        if row.period == LedgerBatch.noPeriod {
            statement.bindNull(offset + 11)
        } else {
            statement.bind(offset + 11, row.period)
        }
        statement.bind(offset + 12, row.flags)
    }

    /// Binds customer, metric, quantity, timestamp, source and properties, in that order (both
    /// tables list them so), from parameter `first`; all NULL without columns.
    @inline(__always)
    private static func bind(
        _ columns: LedgerBatch.EventColumns?, from first: Int32, _ statement: SQLiteBinding,
        _ text: UnsafePointer<CChar>
    ) throws {
        statement.bind(first, columns?.customer)
        statement.bind(first + 1, columns?.metric)
        try statement.bindStatic(first + 2, text, columns?.quantity ?? .null)
        statement.bind(first + 3, columns?.timestamp)
        statement.bind(first + 4, columns?.source)
        try statement.bindStatic(first + 5, text, columns?.properties ?? .null)
    }

    private static func insertRejections(_ batch: LedgerBatch, _ text: UnsafePointer<CChar>, _ db: Database) throws {
        guard !batch.rejections.isEmpty else { return }
        let statement = SQLiteBinding(
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO rejections (seq, tenant_no, event_id, reason, customer_no, metric_no, quantity, timestamp,
                        source_no, properties, received_at, raw)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                    """), db)
        for row in batch.rejections {
            statement.bind(1, row.seq)
            statement.bind(2, row.columns?.tenant)
            try statement.bindStatic(3, text, row.eventID)
            try statement.bindStatic(4, text, row.reason)
            try bind(row.columns, from: 5, statement, text)
            statement.bind(11, row.receivedAt)
            try statement.bindStatic(12, text, row.raw)
            try statement.step()
        }
    }

    private static func insertRefusals(_ batch: LedgerBatch, _ text: UnsafePointer<CChar>, _ db: Database) throws {
        guard !batch.refusals.isEmpty else { return }
        let statement = SQLiteBinding(
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO refusals (seq, request_id, tenant_no, customer_no, metric_no, requested_at, reason)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                    """), db)
        for row in batch.refusals {
            statement.bind(1, row.seq)
            try statement.bindStatic(2, text, row.requestID)
            statement.bind(3, row.tenant)
            statement.bind(4, row.customer)
            statement.bind(5, row.metric)
            statement.bind(6, row.requestedAt)
            try statement.bindStatic(7, text, row.reason)
            try statement.step()
        }
    }

    private static func insertDeadLetters(_ batch: LedgerBatch, _ db: Database) throws {
        guard !batch.deadLetters.isEmpty else { return }
        let statement = SQLiteBinding(
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO dead_letters (seq, event_id, reason, received_at, payload_kind, payload, detail)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                    """), db)
        for row in batch.deadLetters {
            statement.bind(1, row.seq)
            statement.bind(2, row.eventID)
            statement.bind(3, row.reason)
            statement.bind(4, row.receivedAt)
            statement.bind(5, row.payloadKind)
            statement.bind(6, row.payload)
            if let detail = row.detail { statement.bind(7, detail) } else { statement.bindNull(7) }
            try statement.step()
        }
    }
}
