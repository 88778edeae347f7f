/// One problem in a scenario file, with the position of the offending text.
public struct Diagnostic: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The scenario file's path, as it was given to the reader; messages name the file by it.
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, in Unicode scalars.
    public var column: Int
    /// What is wrong and what was expected.
    public var message: String

    /// Creates a diagnostic of `message` at `line` and `column` (both from 1) of `file`.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form editors and CI logs link to.
    public var description: String { "\(file):\(line):\(column): \(message)" }

    /// Ordered by file, then position, then message, so that sorted problems read top to bottom.
    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        (lhs.file, lhs.line, lhs.column, lhs.message) < (rhs.file, rhs.line, rhs.column, rhs.message)
    }
}

/// Every problem of one scenario file: the file is refused whole.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    /// The problems found, one or more; the readers list them sorted, each once.
    public var diagnostics: [Diagnostic]

    /// Creates the error of a file refused for `diagnostics`.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Every diagnostic as `file:line:column: message`, one per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
