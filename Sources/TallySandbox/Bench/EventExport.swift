import Foundation
import TallyPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a scenario's whole event stream to a file or standard output, for `tally generate`.
///
/// The stream is the one ``ScenarioRunner`` meters (see
/// ``Scenario/forEachGeneratedItem(threads:_:)``), encoded by ``EventLineEncoder``.
/// Lines are built in one reused byte buffer and written a megabyte at a time.
/// A file is written under a temporary name beside it and renamed at the end, so
/// a failure leaves no half-written file behind (and an older file, if any, intact).
public enum EventExport {
    /// Bytes gathered before each write.
    public static let bufferSize = 1 << 20

    /// Writes the stream of `scenario` to `path`, or to standard output when it is nil.
    ///
    /// - Parameter progress: called now and then with the number of events written so far.
    public static func write(
        _ scenario: Scenario, format: EventExportFormat, envelopeBatch: Int = 0, threads: Int = 1, to path: String?,
        progress: ((Int) -> Void)? = nil
    ) throws(ExportError) -> EventExportSummary {
        let sink = try OutputSink(path: path)
        var summary = EventExportSummary()
        var encoder = EventLineEncoder(format: format, envelopeBatch: envelopeBatch)
        // One reused buffer: bytes 0..<used are lines waiting to be written, the rest is scratch.
        var buffer = [UInt8](repeating: 0, count: bufferSize + (1 << 16))
        var used = 0
        var failure: ExportError?
        var header: [UInt8] = []
        encoder.header(into: &header)
        buffer.replaceSubrange(0..<header.count, with: header)
        used = header.count
        do throws(RunError) {
            try scenario.forEachGeneratedItem(threads: threads) { item in
                // A closure cannot throw out of the stream: after a failed write, skip the rest.
                guard failure == nil else { return }
                if case .malformed = item.payload { summary.malformed += 1 }
                used = encoder.encode(item, into: &buffer, at: used)
                summary.events += 1
                if used >= bufferSize {
                    do throws(ExportError) { try sink.write(buffer, count: used) } catch { failure = error }
                    summary.bytes += used
                    used = 0
                }
                if summary.events & 0xFFFF == 0 { progress?(summary.events) }
            }
        } catch {
            sink.abandon()
            throw ExportError(message: error.message)
        }
        if let failure {
            sink.abandon()
            throw failure
        }
        used = encoder.finish(into: &buffer, at: used)
        do throws(ExportError) {
            try sink.write(buffer, count: used)
            summary.bytes += used
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        progress?(summary.events)
        return summary
    }
}

/// What ``EventExport/write(_:format:envelopeBatch:threads:to:progress:)`` wrote.
public struct EventExportSummary: Sendable, Hashable {
    /// Lines of events (the CSV header not included): the scenario's `totalEvents`.
    public var events = 0
    /// Of those, malformed events written as raw JSON.
    public var malformed = 0
    public var bytes = 0
}

/// Why writing the event stream failed.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The C library's `write(2)`, out of the way of ``OutputSink/write(_:)``.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// A file written under a temporary name and renamed into place, or standard output.
final class OutputSink {
    private var descriptor: Int32
    private let target: String?
    private let temporary: String?
    private var closed = false

    init(path: String?) throws(ExportError) {
        guard let path else {
            descriptor = STDOUT_FILENO
            target = nil
            temporary = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = (folder as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ExportError(message: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.target = path
        self.temporary = temporary
    }

    /// Writes the first `count` bytes of `bytes`, retrying short writes and interruptions.
    func write(_ bytes: [UInt8], count: Int) throws(ExportError) {
        let failed: Int32? = bytes.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            let count = Swift.min(count, raw.count)
            while offset < count {
                let written = systemWrite(descriptor, raw.baseAddress.map { $0 + offset }, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failed {
            throw ExportError(
                message: "cannot write \(target ?? "standard output"): \(String(cString: strerror(failed)))")
        }
    }

    /// Closes the file and renames it into place.
    func finish() throws(ExportError) {
        guard let target, let temporary else { return }
        closed = true
        if close(descriptor) != 0 {
            let problem = String(cString: strerror(errno))
            unlink(temporary)
            throw ExportError(message: "cannot write \(target): \(problem)")
        }
        if rename(temporary, target) != 0 {
            let problem = String(cString: strerror(errno))
            unlink(temporary)
            throw ExportError(message: "cannot rename \(temporary) to \(target): \(problem)")
        }
    }

    /// Closes and removes the temporary file after a failure.
    func abandon() {
        guard let temporary, !closed else { return }
        closed = true
        close(descriptor)
        unlink(temporary)
    }
}
