import CZlib

/// Gzip through the system zlib, for CloudWatch Logs subscription envelopes.
enum Gzip {
    /// The most a compressed payload may inflate to: ten times CloudWatch's 1 MB batch.
    static let maxInflatedBytes = 10 << 20

    /// Inflates a gzip stream, refusing one that is corrupt or inflates past `limit` bytes.
    static func inflate(_ input: [UInt8], limit: Int = maxInflatedBytes) throws(RecordProblem) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw RecordProblem("cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        let (output, status) = pump(&stream, input, limit: limit) { CZlib.inflate(&$0, Z_NO_FLUSH) }
        if output.count > limit { throw RecordProblem("the gzip payload inflates past \(limit) bytes") }
        guard status == Z_STREAM_END else {
            let reason =
                stream.msg.map { String(cString: $0) }
                ?? (status == Z_OK || status == Z_BUF_ERROR ? "truncated" : "code \(status)")
            throw RecordProblem("the gzip payload is corrupt (\(reason))")
        }
        return output
    }

    /// Compresses `input` as one gzip stream.
    static func deflate(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return [] }
        defer { deflateEnd(&stream) }
        return pump(&stream, input, limit: .max) { CZlib.deflate(&$0, Z_FINISH) }.output
    }

    /// Feeds `input` through `step` a 64 KB output chunk at a time, until the stream ends,
    /// fails, needs input it does not have, or has made more than `limit` bytes.
    private static func pump(
        _ stream: inout z_stream, _ input: [UInt8], limit: Int, _ step: (inout z_stream) -> Int32
    ) -> (output: [UInt8], status: Int32) {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = step(&stream)
                    output.append(contentsOf: target[0..<(target.count - Int(stream.avail_out))])
                }
            } while status == Z_OK && output.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        return (output, status)
    }
}
