import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through SQLite's C API.
///
/// GRDB's `execute(arguments:)` boxes every argument in a `DatabaseValue`;
/// at a million rows a second that boxing is most of the cost, so the bulk
/// paths bind straight into the statement GRDB prepared and caches.
struct SQLiteBinding {
    let statement: SQLiteStatement
    let connection: SQLiteConnection?

    init(_ statement: Statement, _ db: Database) {
        self.statement = statement.sqliteStatement
        self.connection = db.sqliteConnection
    }

    /// SQLITE_TRANSIENT: SQLite copies the bytes, so they need not outlive the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                    sqlite3_bind_text(statement, index, pointer, Int32(bytes.count), Self.transient)
                }
            } else {
                // An empty buffer has no address; a nil pointer would bind NULL, not ''.
                _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
            }
        }
    }

    /// Binds a slice of a batch's text buffer without copying it, or NULL for a negative count.
    ///
    /// SQLITE_TRANSIENT would cost a malloc, a copy and a free per value; STATIC is safe
    /// because the caller keeps the buffer alive until the statement has stepped.
    /// A failed bind would leave the previous row's value in place, so it throws
    /// (a value over SQLite's length limit, 1 GB, is the only way to get one).
    @inline(__always)
    func bindStatic(_ index: Int32, _ text: UnsafePointer<CChar>, _ span: LedgerBatch.Span) throws {
        let code =
            span.count < 0
            ? sqlite3_bind_null(statement, index)
            // A nil destructor is SQLITE_STATIC (a stored constant would cost a swift_once per call).
            : sqlite3_bind_text64(statement, index, text + span.start, UInt64(span.count), nil, UInt8(SQLITE_UTF8))
        guard code == SQLITE_OK else {
            throw LedgerError("SQLite error \(code) binding a \(span.count)-byte text to the ledger: \(message)")
        }
    }

    private var message: String {
        connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "unknown error"
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(statement, index, value)
    }

    @inline(__always)
    /// Binds the number, or NULL when there is none.
    func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    func bindNull(_ index: Int32) {
        sqlite3_bind_null(statement, index)
    }

    /// Runs the statement once and resets it for the next row (bindings stay, so constants are bound once).
    func step() throws {
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw LedgerError("SQLite error \(code) while writing the ledger: \(message)")
        }
    }
}
