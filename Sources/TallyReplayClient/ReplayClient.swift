import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore
import NIOHTTP1

/// A blocking HTTP client for `tally replay`: one request at a time per calling thread, over a pool of
/// kept-alive connections (AsyncHTTPClient on SwiftNIO).
///
/// Several threads may call it at once; each call waits for its own answer. Call ``shutdown()`` once
/// every request has been answered.
public final class ReplayClient: Sendable {
    /// The service's base URL, without a trailing slash, like `http://127.0.0.1:8080`.
    public let base: String
    /// The API key sent as `Authorization: Bearer <key>`.
    public let key: String
    /// Seconds a request may go unanswered, and the longest time ``requestRetrying(_:_:body:headers:retried:)``
    /// keeps trying.
    public let timeout: Double
    private let http: HTTPClient

    /// A client of the service at `base`, keeping up to `connections` connections open to it.
    public init(base: String, key: String, timeout: Double, connections: Int = 8) {
        self.base = base
        self.key = key
        self.timeout = timeout
        var configuration = HTTPClient.Configuration(
            timeout: .init(
                connect: .milliseconds(Int64(min(timeout, 10) * 1000)),
                read: .milliseconds(Int64(timeout * 1000))),
            connectionPool: .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections)))
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections; call it once, after the last request.
    public func shutdown() {
        try? http.syncShutdown()
    }

    /// Sends one request and waits for the answer: its status and body. Throws when no answer came
    /// (connection refused or lost, timeout).
    public func request(
        _ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]
    ) throws -> (status: Int, body: [UInt8]) {
        var fields = HTTPHeaders()
        fields.add(name: "Authorization", value: "Bearer \(key)")
        if body != nil { fields.add(name: "Content-Type", value: "application/json") }
        for (name, value) in headers { fields.add(name: name, value: value) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: base + path, method: HTTPMethod(rawValue: method), headers: fields,
                body: body.map { .byteBuffer(ByteBuffer(bytes: $0)) })
        } catch {
            throw ReplayClientError("\(base + path) is not a URL the client can send to: \(error)")
        }
        let deadline = NIODeadline.now() + .milliseconds(Int64(timeout * 1000))
        let response = try http.execute(request: request, deadline: deadline).wait()
        let answer = response.body.map { Array($0.readableBytesView) } ?? []
        return (Int(response.status.code), answer)
    }

    /// ``request(_:_:body:headers:)``, again after a pause while there is no answer, a 5xx or a 409 one,
    /// for up to ``timeout`` seconds; `retried` is called before each new try.
    public func requestRetrying(
        _ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:],
        retried: (() -> Void)? = nil
    ) throws -> (status: Int, body: [UInt8]) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        var pause = 0.05
        while true {
            let answer = Result { try request(method, path, body: body, headers: headers) }
            if case .success(let (status, _)) = answer, status < 500, status != 409 { return try answer.get() }
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                switch answer {
                case .success(let (status, body)):
                    throw ReplayClientError(
                        "\(method) \(path) answered \(status) for \(Int(timeout)) s: "
                            + String(decoding: body.prefix(300), as: UTF8.self))
                case .failure(let error):
                    throw ReplayClientError("\(method) \(path): no answer for \(Int(timeout)) s from \(base): \(error)")
                }
            }
            retried?()
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 1)
        }
    }
}

/// Why a request to the service failed, in words.
public struct ReplayClientError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
