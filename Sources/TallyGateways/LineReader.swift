#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line through one fixed buffer, so a file of any size streams in bounded memory.
///
/// A line longer than ``maxLineBytes`` is never held whole: its first bytes are kept
/// for the message, the rest is skipped up to the next newline, and it is handed out
/// as ``Line/tooLong(prefix:bytes:)``. A `\r` before the newline is dropped.
public final class LineReader {
    /// The longest line read whole, in bytes (4 MiB: a CloudWatch Logs envelope of a full
    /// 1 MB PutLogEvents batch, gzip and base64 included, stays well below it).
    public static let defaultMaxLineBytes = 4 << 20

    /// One line of the file.
    public enum Line {
        /// Its bytes are `reader.bytes(range)`, valid until the next call to ``next()``.
        case text(Range<Int>)
        /// Past the limit: its first bytes and its whole length.
        case tooLong(prefix: [UInt8], bytes: Int)
    }

    /// The path of the file being read, as it was opened.
    public let path: String
    /// The length in bytes up to which a line is always handed out whole, at least 64.
    ///
    /// A longer line may come as ``Line/tooLong(prefix:bytes:)`` instead, which bounds the memory
    /// a file can make the reader use.
    public let maxLineBytes: Int
    /// The 1-based number of the line ``next()`` returned last.
    public private(set) var lineNumber = 0
    private let descriptor: Int32
    private var buffer: UnsafeMutableBufferPointer<UInt8>
    private var start = 0
    private var end = 0
    private var atEOF = false

    /// Opens `path` for reading.
    public init(path: String, maxLineBytes: Int = LineReader.defaultMaxLineBytes) throws(RecordFileError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RecordFileError(message: "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.descriptor = descriptor
        self.maxLineBytes = max(64, maxLineBytes)
        buffer = .allocate(capacity: self.maxLineBytes + (1 << 20))
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// The bytes of a line returned as ``Line/text(_:)``.
    public func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(bytes(range))
    }

    /// The bytes of a line returned as ``Line/text(_:)``, valid until the next call to ``next()``.
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buffer[range])
    }

    /// The next line, or nil at the end of the file.
    public func next() throws(RecordFileError) -> Line? {
        while true {
            if let newline = find(from: start) {
                lineNumber += 1
                let line = start..<trimmed(newline)
                start = newline + 1
                return .text(line)
            }
            if end - start > maxLineBytes { return try skipLongLine() }
            if atEOF {
                guard start < end else { return nil }
                lineNumber += 1
                let line = start..<trimmed(end)
                start = end
                return .text(line)
            }
            try fill()
        }
    }

    private func find(from index: Int) -> Int? {
        guard index < end, let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + index, 0x0A, end - index) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    private func trimmed(_ lineEnd: Int) -> Int {
        lineEnd > start && buffer[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
    }

    /// Moves the unread bytes to the front and reads more after them.
    private func fill() throws(RecordFileError) {
        if start > 0 {
            let count = end - start
            if count > 0, let base = buffer.baseAddress { memmove(base, base + start, count) }
            start = 0
            end = count
        }
        while end < buffer.count {
            let got = read(descriptor, buffer.baseAddress.map { $0 + end }, buffer.count - end)
            if got < 0 {
                if errno == EINTR { continue }
                throw RecordFileError(message: "\(path): cannot read: \(String(cString: strerror(errno)))")
            }
            if got == 0 { atEOF = true }
            end += got
            return
        }
    }

    /// Skips the rest of a line that does not fit, keeping its first bytes.
    private func skipLongLine() throws(RecordFileError) -> Line {
        lineNumber += 1
        let prefix = Array(buffer[start..<(start + 200)])
        var length = 0
        while true {
            if let newline = find(from: start) {
                length += newline - start
                start = newline + 1
                return .tooLong(prefix: prefix, bytes: length)
            }
            length += end - start
            start = end
            if atEOF { return .tooLong(prefix: prefix, bytes: length) }
            try fill()
        }
    }
}

/// A file of records could not be opened or read (not a bad record: those become dead letters).
public struct RecordFileError: Error, Sendable, CustomStringConvertible {
    /// The file's path, what failed (open or read) and the system's reason.
    public var message: String
    /// Creates the error described by `message`.
    public init(message: String) { self.message = message }
    /// The message, which already names the file.
    public var description: String { message }
}
