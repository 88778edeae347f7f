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

    func bind(_ index: Int32, _ text: String?) {
        if let text { bind(index, text) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(statement, index, value)
    }

    func bind(_ index: Int32, _ value: Int?) {
        if let value { sqlite3_bind_int64(statement, index, Int64(value)) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ index: Int32, _ flag: Bool) {
        sqlite3_bind_int64(statement, index, flag ? 1 : 0)
    }

    /// Binds text columns from one reused byte buffer with SQLITE_STATIC, then steps.
    ///
    /// SQLITE_TRANSIENT costs a malloc, a copy and a free per text value, each taking
    /// SQLite's memory-statistics mutex; STATIC reads the bytes in place, which is safe
    /// because the buffer outlives the step (bindings are refreshed before the next one).
    func stepBindingText(_ texts: inout TextColumns) throws {
        try texts.bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                for column in texts.columns {
                    if column.start < 0 {
                        sqlite3_bind_null(statement, column.index)
                    } else {
                        sqlite3_bind_text(statement, column.index, chars + column.start, column.count, Self.static)
                    }
                }
                try step()
            }
        }
        texts.clear()
    }

    private static let `static` = unsafeBitCast(0, to: sqlite3_destructor_type.self)

    /// Runs the statement once and resets it for the next row (bindings stay, so constants are bound once).
    func step() throws {
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "unknown error"
            throw LedgerError("SQLite error \(code) while writing the ledger: \(message)")
        }
    }
}

/// The text columns of one row, encoded back to back into one buffer.
struct TextColumns {
    var bytes: [UInt8] = []
    var columns: [(index: Int32, start: Int, count: Int32)] = []

    init() {
        bytes.reserveCapacity(4096)
        columns.reserveCapacity(16)
        clear()
    }

    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        // A first byte, so the buffer always has an address and '' binds as '' (not NULL).
        bytes.append(0)
        columns.removeAll(keepingCapacity: true)
    }

    mutating func append(_ index: Int32, _ text: String) {
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        columns.append((index, start, Int32(bytes.count - start)))
    }

    mutating func append(_ index: Int32, _ text: String?) {
        if let text { append(index, text) } else { columns.append((index, -1, 0)) }
    }
}
