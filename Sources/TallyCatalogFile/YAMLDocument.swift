import TallyPipeline
import Yams

/// A scenario file's YAML composed into a node tree, with every libyaml error turned into a
/// `file:line:column:` diagnostic and alias bombs refused before Yams expands them.
package enum YAMLDocument {
    /// Composes `text` (read from `file`); `emptyMessage` says what an empty file should have held.
    ///
    /// - Throws: ``ScenarioErrors`` with the one problem that stopped the parse.
    package static func compose(_ text: String, file: String, emptyMessage: String) throws(ScenarioErrors) -> Node {
        if let problem = AliasBudget.problem(in: text, file: file) { throw ScenarioErrors(diagnostics: [problem]) }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioErrors(diagnostics: [Diagnostic(file: file, line: 1, column: 1, message: emptyMessage)])
            }
            return node
        } catch let error as ScenarioErrors {
            throw error
        } catch {
            throw ScenarioErrors(diagnostics: [syntaxDiagnostic(error, file: file)])
        }
    }

    /// A YAML syntax error as `file:line:column: message`.
    package static func syntaxDiagnostic(_ error: Error, file: String) -> Diagnostic {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem.hasPrefix("Maximum nesting level") {
                // libyaml's own words name its C function: say what the limit is instead.
                let message =
                    "YAML syntax error: lists and mappings nested more than 1000 deep, "
                    + "expected at most 1000 levels"
                return Diagnostic(file: file, line: mark.line, column: mark.column, message: message)
            }
            let during = context.map { " (\(Escaped($0.text, limit: 80)) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return Diagnostic(
                file: file, line: mark.line, column: mark.column,
                message: "YAML syntax error: \(Escaped(problem, limit: 200))\(during)")
        case .reader(let problem, let offset, let value, let yaml):
            // libyaml gives an offset, not a line: count to it. The character itself is shown escaped.
            let (line, column) = position(ofCharacter: offset ?? 0, in: yaml)
            let character = Unicode.Scalar(UInt32(clamping: value)).map { String(Character($0)) } ?? "?"
            let found = value >= 0 ? " (found \(Escaped(character)))" : ""
            return Diagnostic(
                file: file, line: line, column: column,
                message: "YAML syntax error: \(Escaped(problem, limit: 200))\(found), expected printable UTF-8 text")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; the mistake is usually the repeat, so point there when it can be found.
            let first = context.mark
            let keys = duplicates.map { "'\(Escaped($0))'" }.joined(separator: ", ")
            if let key = duplicates.first, let again = repeatedKey(key, after: first, in: context.text) {
                return Diagnostic(
                    file: file, line: again.line, column: again.column,
                    message: "duplicate key \(keys) (first at line \(first.line)), expected each key once")
            }
            return Diagnostic(
                file: file, line: first.line, column: first.column,
                message: "duplicate key \(keys), expected each key once")
        default:
            let message = "YAML error: \(Escaped(String(describing: error), limit: 200))"
            return Diagnostic(file: file, line: 1, column: 1, message: message)
        }
    }

    /// Whether libyaml counts `scalar` as a line break: LF, CR (CR LF is one), NEL, LS and PS.
    package static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar)
    }

    /// The 1-based line and column (in Unicode scalars) of the character `offset` characters into `text`.
    package static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(Swift.max(0, offset)) {
            if character == "\r\n" || character.unicodeScalars.first.map(isLineBreak) == true {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }

    /// Where `key` is written again in the mapping whose earlier occurrence is at `first`:
    /// later on the same line (flow style), or on a later line at the same column (block style).
    package static func repeatedKey(_ key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        guard first.line >= 1, first.line <= lines.count, !key.isEmpty else { return nil }
        let keyScalars = Array(key.unicodeScalars)
        func isKey(_ line: [Unicode.Scalar], at index: Int) -> Bool {
            guard index >= 0, index + keyScalars.count <= line.count,
                Array(line[index..<index + keyScalars.count]) == keyScalars
            else { return false }
            var after = index + keyScalars.count
            while after < line.count, line[after] == " " { after += 1 }
            return after < line.count && line[after] == ":"
        }
        // Flow style: `{ a: 1, a: 2 }`.
        let firstLine = lines[first.line - 1]
        var index = first.column - 1 + keyScalars.count
        while index < firstLine.count {
            if firstLine[index] == "," || firstLine[index] == "{" {
                var start = index + 1
                while start < firstLine.count, firstLine[start] == " " { start += 1 }
                if isKey(firstLine, at: start) { return (first.line, start + 1) }
            }
            index += 1
        }
        // Block style: the same column on a later line, until the mapping ends (a line indented less).
        for lineIndex in first.line..<lines.count {
            let line = lines[lineIndex]
            guard let indent = line.firstIndex(where: { $0 != " " }), line[indent] != "#" else { continue }
            if isKey(line, at: first.column - 1), line[..<(first.column - 1)].allSatisfy({ $0 == " " }) {
                return (lineIndex + 1, first.column)
            }
            if indent < first.column - 1 { return nil }
        }
        return nil
    }
}
