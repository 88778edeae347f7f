/// Why a JSON text was rejected, and where.
///
/// `line` and `column` are 1-based. Lines are counted by `\n` only (a `\r`
/// before it belongs to the previous line). The column counts UTF-8 **bytes**
/// from the start of the line, not characters, so after `"é"` the column has
/// advanced by 4. In JSON Lines input, `line` is the line of the whole file.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 1-based line of the offending byte.
    public let line: Int
    /// The 1-based byte column of the offending byte within its line.
    public let column: Int
    /// What was wrong and what was expected, such as `unexpected '}', expected a value`.
    public let message: String

    init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line:column: message`, the form compilers use, so editors can jump to it.
    public var description: String { "\(line):\(column): \(message)" }
}
