import CompressNIO
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TallyJSON
import TallyLedger
import TallyPipeline

/// How a service is set up: where it listens, its tenants' catalogs, its ledger and its keys.
public struct ServiceConfiguration: Sendable {
    /// The address to listen on; loopback unless the operator says otherwise.
    public var host: String
    /// 0 picks a free port (reported to `onRunning`).
    public var port: Int
    public var catalogs: [CatalogFile]
    public var ledgerPath: String
    public var keys: KeyStore
    public var limits = RequestLimits()
    /// How long an `Idempotency-Key` is kept after its answer (the dedup window of requests).
    public var idempotencyWindow: Duration = .seconds(86_400)
    /// The wall clock: what live events are stamped with and signatures are checked against.
    public var now: @Sendable () -> Date = { Date() }

    public init(host: String = "127.0.0.1", port: Int, catalogs: [CatalogFile], ledgerPath: String, keys: KeyStore) {
        self.host = host
        self.port = port
        self.catalogs = catalogs
        self.ledgerPath = ledgerPath
        self.keys = keys
    }
}

/// tally-server: the HTTP service that meters gateways' usage events and answers their canAccess calls.
///
/// Routes are in Docs/openapi.yaml. Every `/v1` call needs `Authorization: Bearer <key>`
/// (batch ingest may be signed with `X-Signature` instead); `/healthz` and `/metrics` are
/// for the operator and need none.
public struct TallyService: Sendable {
    let configuration: ServiceConfiguration
    let metering: MeteringService
    let metrics: ServerMetrics
    let seenSignatures = SeenSignatures()

    /// Opens the ledger and rebuilds every tenant's meter from it.
    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        metrics = ServerMetrics()
        let clock = configuration.now
        metering = try MeteringService(
            catalogs: configuration.catalogs, ledger: try Ledger(path: configuration.ledgerPath, create: true),
            metrics: metrics, idempotencyWindow: configuration.idempotencyWindow,
            now: { Int64((clock().timeIntervalSince1970 * 1000).rounded(.down)) })
    }

    /// Serves until the process is told to stop (SIGINT, SIGTERM) or the task is cancelled.
    ///
    /// - Parameter onRunning: called with the port once the service accepts connections.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "tally-server")
        logger.logLevel = .warning
        let app = Application(
            router: router(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "tally-server"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(
            middleware: MethodCheck(allowed: [
                "/healthz": .get, "/metrics": .get, "/v1/meter": .post, "/v1/ingest/batch": .post,
                "/v1/canAccess": .post,
                "/v1/events": .get, "/v1/invoices/preview": .get, "/v1/invoices": .get,
            ]))
        router.get("/healthz") { _, _ in
            Self.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.post("/v1/meter") { request, _ in
            await handle("/v1/meter", request) { request in
                let body = try await collect(&request)
                let principal = try authenticate(request, body: nil)
                let item = try decoder(principal).single(body)
                return try await ingest([item], principal, request, body)
            }
        }
        router.post("/v1/ingest/batch") { request, _ in
            await handle("/v1/ingest/batch", request) { request in
                let sent = try await collect(&request)
                let principal = try authenticate(request, body: sent)
                let items = try decoder(principal).batch(try decode(sent, request))
                return try await ingest(items, principal, request, sent)
            }
        }
        router.post("/v1/canAccess") { request, _ in
            await handle("/v1/canAccess", request) { request in
                let body = try await collect(&request)
                let principal = try authenticate(request, body: nil)
                return try canAccess(try decoder(principal).access(body), principal)
            }
        }
        router.get("/v1/events") { request, _ in
            await handle("/v1/events", request) { request in
                let principal = try authenticate(request, body: nil)
                return try events(request, principal)
            }
        }
        router.get("/v1/invoices/preview") { request, _ in
            await handle("/v1/invoices/preview", request) { request in
                let principal = try authenticate(request, body: nil)
                return try invoices(request, principal, preview: true)
            }
        }
        router.get("/v1/invoices") { request, _ in
            await handle("/v1/invoices", request) { request in
                let principal = try authenticate(request, body: nil)
                return try invoices(request, principal, preview: false)
            }
        }
        return router
    }

    // MARK: Requests

    /// Runs a route, answering an ``APIError`` as its JSON and timing the request.
    private func handle(
        _ route: String, _ request: Request, _ body: (inout Request) async throws -> Response
    ) async -> Response {
        let started = ContinuousClock.now
        var request = request
        let response: Response
        do {
            response = try await body(&request)
        } catch let error as APIError {
            response = Self.error(error)
        } catch {
            response = Self.error(APIError(status: 500, code: "internal_error", message: "\(error)"))
        }
        metrics.request(
            route: route, method: request.method.rawValue, status: response.status.code,
            duration: started.duration(to: .now))
        return response
    }

    private func collect(_ request: inout Request) async throws(APIError) -> [UInt8] {
        do {
            let buffer = try await request.collectBody(upTo: configuration.limits.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(
                status: 413, code: "body_too_large",
                message: "the body is larger than \(configuration.limits.maxBodyBytes) bytes")
        }
    }

    /// The body after `Content-Encoding: gzip`, bounded by the decoded-size limit.
    private func decode(_ sent: [UInt8], _ request: Request) throws(APIError) -> [UInt8] {
        guard let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" else {
            return sent
        }
        guard encoding == "gzip" else {
            throw APIError(
                status: 415, code: "unsupported_encoding", field: "Content-Encoding",
                message: "'\(encoding.prefix(40))' is not supported, expected gzip or identity")
        }
        var buffer = ByteBuffer(bytes: sent)
        do {
            let decoded = try buffer.decompress(with: .gzip(), maxSize: configuration.limits.maxDecodedBytes)
            return Array(decoded.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw APIError(
                status: 413, code: "body_too_large",
                message: "the decoded body is larger than \(configuration.limits.maxDecodedBytes) bytes")
        } catch {
            throw APIError.invalid("Content-Encoding", "the body is not valid gzip: \(error)")
        }
    }

    private func decoder(_ principal: Principal) -> RequestDecoder {
        RequestDecoder(limits: configuration.limits, principal: principal, now: wallInstant())
    }

    private func wallInstant() -> Instant {
        Instant(millisecondsSinceEpoch: Int64((configuration.now().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    // MARK: Authentication

    /// The key's (or the signature's) principal; `signedBody` allows `X-Signature` (batch ingest only).
    private func authenticate(_ request: Request, body signedBody: [UInt8]?) throws(APIError) -> Principal {
        let tenantHeader = request.headers[.tenantID]
        let principal: Principal
        if let signedBody, let header = request.headers[.signature] {
            principal = try verifySignature(header, tenant: tenantHeader, body: signedBody)
        } else {
            guard let authorization = request.headers[.authorization] else {
                throw APIError(
                    status: 401, code: "unauthorized", field: "Authorization",
                    message: "missing, expected Authorization: Bearer <key>")
            }
            guard authorization.hasPrefix("Bearer "), authorization.count <= 512 else {
                throw APIError(
                    status: 401, code: "unauthorized", field: "Authorization", message: "expected Bearer <key>")
            }
            guard let found = configuration.keys.principal(forKey: String(authorization.dropFirst("Bearer ".count)))
            else {
                throw APIError(
                    status: 401, code: "unauthorized", field: "Authorization", message: "the key is not valid")
            }
            principal = found
        }
        if let tenantHeader, tenantHeader != principal.tenant {
            throw APIError(
                status: 403, code: "forbidden", field: "X-Tenant-Id",
                message: "the key belongs to another tenant than '\(tenantHeader.prefix(64))'")
        }
        return principal
    }

    private func verifySignature(_ header: String, tenant: String?, body: [UInt8]) throws(APIError) -> Principal {
        guard let tenant else {
            throw APIError(
                status: 401, code: "unauthorized", field: "X-Tenant-Id",
                message: "a signed request must name its tenant")
        }
        guard let signature = RequestSignature(header: header) else {
            throw APIError(
                status: 401, code: "signature_invalid", field: "X-Signature",
                message: "expected t=<unix seconds>,v1=<64 hex digits>")
        }
        let now = Int64(configuration.now().timeIntervalSince1970)
        guard abs(now - signature.timestamp) <= RequestSignature.window else {
            throw APIError(
                status: 401, code: "signature_expired", field: "X-Signature",
                message:
                    "signed at \(signature.timestamp), more than \(RequestSignature.window) s from the service's clock (\(now))"
            )
        }
        var signer: KeyStore.SigningSecret?
        for secret in configuration.keys.signingSecrets where secret.tenant == tenant {
            if signature.isSigned(body: body, with: secret.secret) { signer = secret }
        }
        guard let signer else {
            throw APIError(
                status: 401, code: "signature_invalid", field: "X-Signature",
                message: "the signature matches no secret of the tenant")
        }
        guard seenSignatures.firstUse(signature, now: now) else {
            throw APIError(
                status: 401, code: "signature_replayed", field: "X-Signature",
                message: "this signature was already used; sign each request anew")
        }
        return Principal(tenant: signer.tenant, mode: signer.mode, id: signer.id)
    }

    // MARK: Routes

    private func ingest(
        _ items: [IngestItem], _ principal: Principal, _ request: Request, _ sent: [UInt8]
    ) async throws -> Response {
        var idempotency: (key: String, bodySHA256: String)?
        if let key = request.headers[.idempotencyKey] {
            guard !key.isEmpty, key.count <= configuration.limits.maxTextLength else {
                throw APIError.invalid(
                    "Idempotency-Key", "expected 1 to \(configuration.limits.maxTextLength) characters")
            }
            idempotency = (key, KeyStore.hex(SHA256.hash(data: sent)))
        }
        let after = request.headers[.tallyAfter]
        if let after {
            guard !after.isEmpty, after.count <= configuration.limits.maxTextLength else {
                throw APIError.invalid(
                    "X-Tally-After",
                    "expected the Idempotency-Key of an earlier batch, 1 to \(configuration.limits.maxTextLength) characters"
                )
            }
        }
        let minimal = request.headers[.prefer].map { Self.prefersMinimal($0) } ?? false
        let answer = try await metering.ingest(
            items, into: BookID(tenant: principal.tenant, mode: principal.mode), idempotency: idempotency,
            minimal: minimal, after: after)
        var response = Self.json(.accepted, answer.json)
        if answer.repeated { response.headers[.idempotentReplayed] = "true" }
        return response
    }

    /// Whether a `Prefer` header asks for `return=minimal` (RFC 7240): only the events not accepted are listed.
    static func prefersMinimal(_ header: String) -> Bool {
        header.split(separator: ",").contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "return=minimal"
        }
    }

    /// The pipeline's request-path decision (quota, Margin Guard, spike arrest), as the gateway reads it.
    ///
    /// 200 when allowed, 429 when refused for quota, margin or spike arrest, 404 naming the field for an
    /// unknown customer or metric; every answer that decides carries the decision as JSON.
    private func canAccess(
        _ asked: (customer: String, metric: String, at: Instant), _ principal: Principal
    ) throws(APIError) -> Response {
        let decision = try metering.update(BookID(tenant: principal.tenant, mode: principal.mode)) { book in
            book.meter.canAccess(tenant: principal.tenant, customer: asked.customer, metric: asked.metric, at: asked.at)
        }
        switch decision.refusal {
        case .unknownCustomer?:
            throw APIError(
                status: 404, code: "not_found", field: "customer_id",
                message: "no customer '\(asked.customer.prefix(64))'")
        case .unknownMetric?:
            throw APIError(
                status: 404, code: "not_found", field: "metric", message: "no metric '\(asked.metric.prefix(64))'")
        default:
            break
        }
        let answer = AccessAnswer(decision: decision)
        var response = Self.json(decision.allowed ? .ok : .tooManyRequests, answer.json)
        if let remaining = decision.remaining {
            response.headers[.rateLimitRemaining] = remaining.description
            if let quota = decision.limit { response.headers[.rateLimitLimit] = quota.description }
        }
        if decision.flags.contains(.marginWarning) || answer.reason == "soft_limit_reached" {
            response.headers[.tallyWarning] =
                decision.flags.contains(.marginWarning) ? "margin_warning" : answer.reason
        }
        if decision.flags.contains(.throttled) { response.headers[.tallyThrottle] = "throttled" }
        if let refusal = decision.refusal { response.headers[.tallyThrottle] = refusal.rawValue }
        return response
    }

    private func events(_ request: Request, _ principal: Principal) throws(APIError) -> Response {
        let query = request.uri.queryParameters
        guard let customer = query.get("customer"), !customer.isEmpty else {
            throw APIError.invalid("customer", "missing, expected ?customer=<customer id>")
        }
        var limit = 20
        if let text = query.get("limit") {
            guard let value = Int(text), (1...MeteringService.recentPerCustomer).contains(value) else {
                throw APIError.invalid(
                    "limit", "expected a whole number from 1 to \(MeteringService.recentPerCustomer)")
            }
            limit = value
        }
        let events = try metering.read(BookID(tenant: principal.tenant, mode: principal.mode)) {
            book throws(APIError) in
            guard book.terms.catalog.customer(customer) != nil else {
                throw APIError(
                    status: 404, code: "not_found", field: "customer", message: "no customer '\(customer.prefix(64))'")
            }
            return Array((book.recent[customer] ?? []).suffix(limit).reversed())
        }
        let body = JSONValue.object(JSONObject([("events", .array(events.map(\.json)))]))
        return Self.json(.ok, CanonicalJSON.write(body, pretty: false))
    }

    private func invoices(_ request: Request, _ principal: Principal, preview: Bool) throws(APIError) -> Response {
        let query = request.uri.queryParameters
        let (terms, usage, clock) = try metering.read(BookID(tenant: principal.tenant, mode: principal.mode)) { book in
            (book.terms, book.meter.usage, book.meter.clock)
        }
        var invoices: [Invoice]
        do { invoices = try Biller(catalog: terms.catalog, schedule: terms.schedule).invoices(for: usage) } catch {
            throw APIError(status: 500, code: "billing_failed", message: "\(error)")
        }
        if preview {
            guard let customer = query.get("customer"), !customer.isEmpty else {
                throw APIError.invalid("customer", "missing, expected ?customer=<customer id>")
            }
            guard let known = terms.catalog.customer(customer) else {
                throw APIError(
                    status: 404, code: "not_found", field: "customer", message: "no customer '\(customer.prefix(64))'")
            }
            // "Now" is the book's clock: the service's for live data, the last received-at for test data.
            let now = principal.mode == .live || clock.millisecondsSinceEpoch == .min ? wallInstant() : clock
            // The customer's own period: an anniversary customer's periods start on its own start.
            let periods = terms.schedule.schedule(for: known)
            guard let period = periods.periodIndex(containing: now) else {
                throw APIError(
                    status: 404, code: "not_found",
                    message: "no billing period of customer '\(customer.prefix(64))' contains \(now.iso8601)"
                        + Self.spanText(periods))
            }
            invoices = invoices.filter { $0.customer == customer && $0.period.index == period }
        } else if let text = query.get("period") {
            guard let period = Int(text), period >= 0 else {
                throw APIError.invalid("period", "expected a whole number from 0")
            }
            // Each customer's own N-th period (Invoice.period.index): for a calendar customer the catalog's
            // N-th, for an anniversary one the N-th from its own start. No customer has more periods than the
            // catalog's schedule, so that is the range.
            guard period < terms.schedule.periods.count else {
                throw APIError(
                    status: 404, code: "not_found", field: "period",
                    message:
                        "the catalog has periods 0 to \(terms.schedule.periods.count - 1): each customer's periods are "
                        + "numbered from 0, and none has more than the catalog's \(terms.schedule.periods.count)")
            }
            invoices = invoices.filter { $0.period.index == period }
        }
        let document = InvoicesDocument.json(scenario: terms.name, currency: terms.catalog.currency, invoices: invoices)
        return Self.json(.ok, CanonicalJSON.write(document))
    }

    /// ` (its periods run from START to END)`, or ` (it has no billing period)`, for a 404's message.
    private static func spanText(_ periods: PeriodSchedule) -> String {
        guard let start = periods.start, let end = periods.end else { return " (it has no billing period)" }
        return " (its periods run from \(start.iso8601) to \(end.iso8601))"
    }

    // MARK: Answers

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ error: APIError) -> Response {
        var response = json(HTTPResponse.Status(code: error.status), error.json)
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

/// Answers 405, naming the method the route takes, for a known route called with another method.
struct MethodCheck<Context: RequestContext>: RouterMiddleware {
    let allowed: [String: HTTPRequest.Method]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let method = allowed[request.uri.path], request.method != method {
            var response = TallyService.error(
                APIError(
                    status: 405, code: "method_not_allowed",
                    message: "\(request.uri.path) takes \(method.rawValue) only"))
            response.headers[.allow] = method.rawValue
            return response
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    // Made once: a name made per request would be checked and allocated each time.
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let tallyWarning = HTTPField.Name("X-Tally-Warning")!
    static let tallyThrottle = HTTPField.Name("X-Tally-Throttle")!
    static let tenantID = HTTPField.Name("X-Tenant-Id")!
    static let signature = HTTPField.Name("X-Signature")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let tallyAfter = HTTPField.Name("X-Tally-After")!
    static let prefer = HTTPField.Name("Prefer")!
}
