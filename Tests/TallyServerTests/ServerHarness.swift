import Foundation
import TallyJSON
import TallyServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The catalogs, keys and a running service the server tests call over loopback HTTP.
///
/// Tenant `acme-co`: customer `acme` on plan `capped`, 0.01 per API call with a hard quota
/// of 5 calls a period; two monthly periods from 2026-01-01. Tenant `other-co` has a
/// customer also named `acme`, so that isolation is seen, not assumed.
enum ServerFixtures {
    static func catalog(tenant: String, name: String) -> String {
        """
        name: \(name)
        tenant: \(tenant)
        seed: 1
        start: 2026-01-01T00:00:00Z
        periods: 2
        currency: USD
        metrics:
          - { key: api_calls, aggregation: count }
        plans:
          - id: capped
            quota: { api_calls: { limit: 5, hard: true } }
            charges:
              - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
        customers:
          - { id: acme, plan: capped }
        traffic:
          - { metric: api_calls, events: 1, arrival: uniform, source: kong }
        """
    }

    static let testKey = "tally_test_" + String(repeating: "a1", count: 32)
    static let liveKey = "tally_live_" + String(repeating: "b2", count: 32)
    static let otherKey = "tally_test_" + String(repeating: "c3", count: 32)
    static let secret = "kong-signing-secret-0123456789"

    static var keysYAML: String {
        """
        keys:
        \(KeyStore.fileEntry(id: "acme-test", tenant: "acme-co", mode: .test, key: testKey))\
        \(KeyStore.fileEntry(id: "acme-live", tenant: "acme-co", mode: .live, key: liveKey))\
        \(KeyStore.fileEntry(id: "other-test", tenant: "other-co", mode: .test, key: otherKey))\
        signing_secrets:
          - { id: kong, tenant: acme-co, mode: test, secret: \(secret) }
        """
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tally-server-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One event line of a batch, in January 2026 unless `at` says otherwise.
    static func event(
        _ id: String, tenant: String = "acme-co", customer: String = "acme", at: String = "2026-01-10T00:00:00Z",
        receivedAt: String? = "2026-01-10T00:00:01Z", extra: String = ""
    ) -> String {
        let received = receivedAt.map { #","received_at":"\#($0)""# } ?? ""
        return
            #"{"event_id":"\#(id)","tenant_id":"\#(tenant)","customer_id":"\#(customer)","metric":"api_calls","quantity":1,"timestamp":"\#(at)","source":"kong"\#(received)\#(extra)}"#
    }

    static func batch(_ events: [String]) -> String { #"{"events":["# + events.joined(separator: ",") + "]}" }
}

/// A tally-server running in the test process on a free loopback port.
final class RunningServer: @unchecked Sendable {
    // @unchecked: set once in `start`, read afterwards.
    let ledgerPath: String
    private(set) var port = 0
    private var task: Task<Void, any Error>?

    init(ledgerPath: String) {
        self.ledgerPath = ledgerPath
    }

    static func start(
        ledgerPath: String, configure: (inout ServiceConfiguration) -> Void = { _ in }
    ) async throws -> RunningServer {
        let server = RunningServer(ledgerPath: ledgerPath)
        try await server.start(configure)
        return server
    }

    private func start(_ configure: (inout ServiceConfiguration) -> Void) async throws {
        let catalogs = try [
            CatalogFile.load(yaml: ServerFixtures.catalog(tenant: "acme-co", name: "server-acme"), file: "acme.yaml"),
            CatalogFile.load(
                yaml: ServerFixtures.catalog(tenant: "other-co", name: "server-other"), file: "other.yaml"),
        ]
        let keys = try KeyStore.load(yaml: ServerFixtures.keysYAML, file: "keys.yaml")
        var configuration = ServiceConfiguration(port: 0, catalogs: catalogs, ledgerPath: ledgerPath, keys: keys)
        configure(&configuration)
        let service = try TallyService(configuration: configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        task = Task { try await service.run { port in continuation.yield(port) } }
        for await port in ports {
            self.port = port
            break
        }
    }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
    }

    /// Sends a request and returns the status, the headers and the body as text.
    func call(
        _ method: String, _ path: String, key: String? = ServerFixtures.testKey, body: String? = nil,
        bodyBytes: [UInt8]? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body.utf8) }
        if let bodyBytes { request.httpBody = Data(bodyBytes) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
    }
}

extension String {
    /// The JSON value at a dotted path (`error.field`, `results.0.outcome`), for assertions.
    func json(_ path: String) -> String? {
        guard var value = try? JSONValue.parse(self) else { return nil }
        for part in path.split(separator: ".") {
            switch value {
            case .object(let object):
                guard let next = object[String(part)] else { return nil }
                value = next
            case .array(let array):
                guard let index = Int(part), array.indices.contains(index) else { return nil }
                value = array[index]
            default:
                return nil
            }
        }
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        default: return CanonicalJSON.write(value, pretty: false).trimmingCharacters(in: .newlines)
        }
    }
}
