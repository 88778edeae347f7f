/// JSON Lines (one JSON text per line) where each line succeeds or fails on its own.
///
/// A bad record must not hide the good ones around it, so every line is
/// reported with its own result instead of the first error ending the read.
public enum JSONLines {
    /// Parses each line of `bytes` and calls `body` with its 1-based line number and result.
    ///
    /// Lines end at `\n`; a `\r` before it is ignored, so `\r\n` files work.
    /// Blank lines (empty or only spaces, tabs and `\r`) are skipped but still
    /// counted. Errors carry the line number in the whole input and a byte
    /// column within that line.
    public static func forEachLine(
        in bytes: some Collection<UInt8>,
        body: (_ lineNumber: Int, _ result: Result<JSONValue, JSONError>) -> Void
    ) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            forEachLine(in: buffer, body: body)
        }
        if done == nil {
            Array(bytes).withUnsafeBufferPointer { buffer in
                forEachLine(in: buffer, body: body)
            }
        }
    }

    /// Parses each line of a string's UTF-8, exactly like the byte overload.
    public static func forEachLine(
        in text: String,
        body: (_ lineNumber: Int, _ result: Result<JSONValue, JSONError>) -> Void
    ) {
        var text = text
        text.withUTF8 { buffer in
            forEachLine(in: buffer, body: body)
        }
    }

    private static func forEachLine(
        in buffer: UnsafeBufferPointer<UInt8>,
        body: (_ lineNumber: Int, _ result: Result<JSONValue, JSONError>) -> Void
    ) {
        // One parser for all lines, so its escape scratch buffer is allocated once.
        var parser = JSONParser(buffer)
        var lineStart = 0
        var lineNumber = 1
        while lineStart < buffer.count {
            var lineEnd = lineStart
            while lineEnd < buffer.count, buffer[lineEnd] != ASCII.newline {
                lineEnd += 1
            }
            var contentEnd = lineEnd
            if contentEnd > lineStart, buffer[contentEnd - 1] == ASCII.carriageReturn {
                contentEnd -= 1
            }
            if !isBlank(buffer, lineStart..<contentEnd) {
                body(lineNumber, parser.parseDocument(in: lineStart..<contentEnd, firstLine: lineNumber))
            }
            lineStart = lineEnd + 1
            lineNumber += 1
        }
    }

    private static func isBlank(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        buffer[range].allSatisfy { $0 == ASCII.space || $0 == ASCII.tab || $0 == ASCII.carriageReturn }
    }
}
