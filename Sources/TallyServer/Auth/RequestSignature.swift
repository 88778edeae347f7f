import Crypto
import Synchronization

/// `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: how a gateway signs batch ingest.
///
/// The signed text is the timestamp, a dot, and the body exactly as sent (before any gzip
/// decoding). A signature is refused when it is more than ``window`` away from the
/// service's clock, or was already used inside the window (a replayed request), or matches
/// no secret of the tenant; every comparison is in constant time.
public struct RequestSignature: Sendable {
    /// How far a signature's time may be from the service's clock, either way.
    public static let window: Int64 = 300

    public var timestamp: Int64
    public var digest: [UInt8]

    /// Parses the header; nil when it is not `t=<digits>,v1=<64 hex digits>`.
    public init?(header: String) {
        var timestamp: Int64?
        var digest: [UInt8]?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            let name = pair[0].trimmingSpaces
            let value = pair[1].trimmingSpaces
            switch name {
            case "t": timestamp = Int64(value)
            case "v1": digest = KeyStore.bytes(hex: String(value)).flatMap { $0.count == 32 ? $0 : nil }
            default: continue
            }
        }
        guard let timestamp, let digest else { return nil }
        self.timestamp = timestamp
        self.digest = digest
    }

    /// The header value for `body` signed with `secret` at `timestamp` (what a gateway sends).
    public static func header(body: [UInt8], secret: [UInt8], timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(KeyStore.hex(mac(body: body, secret: secret, timestamp: timestamp)))"
    }

    static func mac(body: [UInt8], secret: [UInt8], timestamp: Int64) -> [UInt8] {
        var signed = Array("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        return Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret)))
    }

    /// Whether `secret` signed `body` with this signature.
    func isSigned(body: [UInt8], with secret: [UInt8]) -> Bool {
        KeyStore.constantTimeEqual(Self.mac(body: body, secret: secret, timestamp: timestamp), digest)
    }
}

/// Signatures seen inside the window, so that a captured request cannot be sent again.
final class SeenSignatures: Sendable {
    private let seen = Mutex<(entries: [[UInt8]: Int64], lastPrune: Int64)>(([:], 0))

    /// Records `signature`; false when it was already seen inside the window.
    func firstUse(_ signature: RequestSignature, now: Int64) -> Bool {
        seen.withLock { state in
            if now - state.lastPrune >= 10 {
                state.entries = state.entries.filter { now - $0.value <= RequestSignature.window }
                state.lastPrune = now
            }
            if state.entries[signature.digest] != nil { return false }
            state.entries[signature.digest] = signature.timestamp
            return true
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
