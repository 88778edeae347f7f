import Crypto
import Foundation
import Yams

/// Whether a key reaches a tenant's live data or its test data.
///
/// Test data lives in a book of its own, on the clock its events carry (`received_at`),
/// as Stripe's test mode and test clocks do; a live key never sets the clock.
public enum KeyMode: String, Sendable, Hashable, CaseIterable {
    case live
    case test
}

/// Who a request acts for, once its key or signature checked out.
public struct Principal: Sendable, Hashable {
    public var tenant: String
    public var mode: KeyMode
    /// The key's or the signing integration's id, for logs (never the secret).
    public var id: String
}

/// The API keys and signing secrets of a service, from its keys file.
///
/// Keys are stored as the hex SHA-256 of the key: a key is 32 random bytes, so a fast hash
/// is enough, and the file alone does not let anyone call the service. A presented key is
/// hashed and compared with every stored hash in constant time. Signing secrets (for
/// `X-Signature` on batch ingest) are the HMAC keys themselves and must be kept like a password.
public struct KeyStore: Sendable {
    public struct Key: Sendable, Hashable {
        public var id: String
        public var tenant: String
        public var mode: KeyMode
        /// 32 bytes: SHA-256 of the key's text.
        public var sha256: [UInt8]
    }

    public struct SigningSecret: Sendable, Hashable {
        public var id: String
        public var tenant: String
        public var mode: KeyMode
        public var secret: [UInt8]
    }

    public var keys: [Key]
    public var signingSecrets: [SigningSecret]

    public init(keys: [Key] = [], signingSecrets: [SigningSecret] = []) {
        self.keys = keys
        self.signingSecrets = signingSecrets
    }

    /// The principal whose stored hash matches `presented`, or nil.
    ///
    /// Every stored hash is compared, each in constant time, so the time taken does not
    /// tell how much of a guess was right nor which key it came close to.
    public func principal(forKey presented: String) -> Principal? {
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var found: Principal?
        for key in keys where Self.constantTimeEqual(digest, key.sha256) {
            found = Principal(tenant: key.tenant, mode: key.mode, id: key.id)
        }
        return found
    }

    /// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// A new random key of the given mode: `tally_test_` or `tally_live_` and 64 hex digits.
    public static func newKey(mode: KeyMode) -> String {
        // 256 bits from swift-crypto's key generator, the system's secure random source.
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return "tally_\(mode.rawValue)_" + hex(bytes)
    }

    /// The hex SHA-256 of a key: what the keys file stores.
    public static func hash(key: String) -> String { hex(Array(SHA256.hash(data: Array(key.utf8)))) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func bytes(hex text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = value(characters[index]), let low = value(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

// MARK: The keys file

extension KeyStore {
    /// Reads a keys file:
    ///
    /// ```yaml
    /// keys:
    ///   - { id: weather-live-1, tenant: weather, mode: live, sha256: 9f86d081... }
    /// signing_secrets:
    ///   - { id: kong-eu, tenant: weather, secret: "a long random text" }
    /// ```
    ///
    /// - Throws: ``KeyFileError`` naming the file, entry and field at fault.
    public static func load(yaml: String, file: String) throws -> KeyStore {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw KeyFileError("\(file): YAML error: \(error)") }
        guard let root else { return KeyStore() }
        guard case .mapping(let top) = root else {
            throw KeyFileError("\(file): expected a mapping with keys and signing_secrets")
        }
        var store = KeyStore()
        for (keyNode, value) in top {
            let section = keyNode.string ?? ""
            guard section == "keys" || section == "signing_secrets" else {
                throw KeyFileError(
                    "\(file):\(keyNode.mark?.line ?? 1): unknown section '\(section)', expected keys or signing_secrets"
                )
            }
            guard case .sequence(let items) = value else { throw KeyFileError("\(file): \(section) must be a list") }
            for (index, item) in items.enumerated() {
                let at = "\(file):\(item.mark?.line ?? 1): \(section)[\(index)]"
                guard case .mapping(let entry) = item else { throw KeyFileError("\(at) must be a mapping") }
                var fields: [String: String] = [:]
                for (name, text) in entry {
                    guard let name = name.string, let text = text.string else {
                        throw KeyFileError("\(at): every field must be text")
                    }
                    fields[name] = text
                }
                let allowed: Set<String> =
                    section == "keys" ? ["id", "tenant", "mode", "sha256"] : ["id", "tenant", "mode", "secret"]
                if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
                    throw KeyFileError(
                        "\(at): unknown field '\(unknown)', expected \(allowed.sorted().joined(separator: ", "))")
                }
                func field(_ name: String) throws -> String {
                    guard let value = fields[name], !value.isEmpty else { throw KeyFileError("\(at): missing \(name)") }
                    return value
                }
                let modeText = fields["mode"] ?? "live"
                guard let mode = KeyMode(rawValue: modeText) else {
                    throw KeyFileError("\(at).mode: '\(modeText)', expected live or test")
                }
                if section == "keys" {
                    guard let digest = bytes(hex: try field("sha256")), digest.count == 32 else {
                        throw KeyFileError("\(at).sha256: expected 64 hex digits (the SHA-256 of the key)")
                    }
                    store.keys.append(Key(id: try field("id"), tenant: try field("tenant"), mode: mode, sha256: digest))
                } else {
                    let secret = try field("secret")
                    guard secret.utf8.count >= 16 else {
                        throw KeyFileError("\(at).secret: expected at least 16 characters")
                    }
                    store.signingSecrets.append(
                        SigningSecret(
                            id: try field("id"), tenant: try field("tenant"), mode: mode,
                            secret: Array(secret.utf8)))
                }
            }
        }
        return store
    }

    /// One `keys` entry of the keys file, as `create-key` appends it.
    public static func fileEntry(id: String, tenant: String, mode: KeyMode, key: String) -> String {
        "  - { id: \(id), tenant: \(tenant), mode: \(mode.rawValue), sha256: \(hash(key: key)) }\n"
    }
}

/// A keys file that cannot be used, with the place and the reason.
public struct KeyFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
