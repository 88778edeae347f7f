import Dispatch
import Foundation
import Synchronization
import TallyJSON
import TallyLedger
import TallyPipeline

/// The books of one tenant's live or test data: its catalog, its meter and what it was sent lately.
struct Book: Sendable {
    let terms: CatalogFile
    var meter: Meter
    /// The last accepted events of each customer, newest last (``MeteringService/recentPerCustomer`` at most).
    var recent: [String: [Event]] = [:]
    /// Idempotency keys answered (from the ledger or this run), with the hash of their body.
    var answeredKeys: [String: String] = [:]

    init(terms: CatalogFile) {
        self.terms = terms
        meter = Meter(catalog: terms.catalog, schedule: terms.schedule, limits: terms.limits)
        meter.entitlementCacheRefresh = terms.entitlementCacheRefresh
    }

    /// Keeps `event` among its customer's latest, forgetting the oldest beyond the limit.
    mutating func remember(_ event: Event) {
        recent[event.customer, default: []].append(event)
        if let count = recent[event.customer]?.count, count > MeteringService.recentPerCustomer {
            recent[event.customer]?.removeFirst(count - MeteringService.recentPerCustomer)
        }
    }
}

/// Which book a request reaches.
struct BookID: Hashable, Sendable {
    var tenant: String
    var mode: KeyMode

    /// The tenant name the ledger stores this book's events under: test data apart from live data.
    var ledgerTenant: String { mode == .live ? tenant : tenant + Self.testSuffix }

    static let testSuffix = "@test"

    init(tenant: String, mode: KeyMode) {
        self.tenant = tenant
        self.mode = mode
    }

    init(ledgerTenant: String) {
        if ledgerTenant.hasSuffix(Self.testSuffix) {
            self.init(tenant: String(ledgerTenant.dropLast(Self.testSuffix.count)), mode: .test)
        } else {
            self.init(tenant: ledgerTenant, mode: .live)
        }
    }
}

/// An ingest request's answer: its body, and whether it repeats an earlier answer.
struct IngestAnswer: Sendable {
    var json: String
    var repeated: Bool
}

/// Meters events into per-tenant books and makes them durable before answering.
///
/// Ingest requests queue up; one committer at a time takes every waiting request, meters
/// their events in arrival order, and appends them all to the ledger in one transaction (a
/// group commit), then answers each. A request is answered only after its events are
/// durable. A request sent again with the same `Idempotency-Key` and body gets its first
/// answer again, so a client that timed out can retry without counting anything twice.
public final class MeteringService: Sendable {
    let journal: LedgerJournal
    let catalogs: [String: CatalogFile]
    let metrics: ServerMetrics
    private let books: Mutex<[BookID: Book]>
    private let queue: Mutex<(pending: [PendingBatch], draining: Bool)> = Mutex(([], false))
    private let committer = DispatchQueue(label: "tally.server.committer")
    /// Accepted events kept per customer for `GET /v1/events` (in memory: this many per customer).
    static let recentPerCustomer = 20

    struct PendingBatch: Sendable {
        var book: BookID
        var items: [IngestItem]
        var idempotency: (key: String, bodySHA256: String)?
        var continuation: CheckedContinuation<IngestAnswer, any Error>
    }

    /// Opens the ledger and meters every event it holds again, so each book is as it was when the service stopped.
    ///
    /// - Parameter catalogs: each tenant's catalog; two catalogs of one tenant are refused.
    public init(catalogs: [CatalogFile], ledger: Ledger, metrics: ServerMetrics) throws {
        var byTenant: [String: CatalogFile] = [:]
        for file in catalogs {
            guard byTenant[file.tenant] == nil else {
                throw LedgerError("two catalogs are for tenant '\(file.tenant)'")
            }
            byTenant[file.tenant] = file
        }
        self.catalogs = byTenant
        self.metrics = metrics
        journal = try LedgerJournal(ledger: ledger)
        books = Mutex([:])
        try rebuild()
    }

    /// Meters the ledger's entries again in `seq` order; returns the number of entries read.
    @discardableResult
    func rebuild() throws -> Int {
        var fresh: [BookID: Book] = [:]
        var entries = 0
        var mismatches = 0
        try journal.forEachEntry { entry in
            entries += 1
            let stored: Event?
            switch entry.payload {
            case .event(let event): stored = event
            case .raw: stored = nil
            }
            guard let stored else { return }
            let id = BookID(ledgerTenant: stored.tenant)
            guard self.book(id, in: &fresh) != nil else { return }
            var event = stored
            event.tenant = id.tenant
            // Through the dictionary, in place: a copy of the book would copy its meter.
            let outcome = fresh[id]?.meter.ingest(event, receivedAt: entry.receivedAt)
            if outcome != entry.outcome { mismatches += 1 }
            if case .accepted? = outcome { fresh[id]?.remember(event) }
        }
        for request in try journal.requestKeys() {
            let id = BookID(ledgerTenant: request.tenant)
            guard self.book(id, in: &fresh) != nil else { continue }
            fresh[id]?.answeredKeys[request.key] = request.bodySHA256
        }
        if mismatches > 0 {
            FileHandle.standardError.write(
                Data(
                    "tally-server: \(mismatches) of \(entries) ledger entries meter differently under today's catalogs\n"
                        .utf8))
        }
        books.withLock { $0 = fresh }
        return entries
    }

    /// The book `id`, made on first use; nil when its tenant has no catalog.
    private func book(_ id: BookID, in books: inout [BookID: Book]) -> Book? {
        if let book = books[id] { return book }
        guard let terms = catalogs[id.tenant] else { return nil }
        books[id] = Book(terms: terms)
        return books[id]
    }

    /// Reads the book `id` under the lock (creating it for a tenant with a catalog).
    func read<T>(_ id: BookID, _ body: (Book) throws(APIError) -> T) throws(APIError) -> T {
        let result: Result<T, APIError> = books.withLock { books in
            guard let book = book(id, in: &books) else {
                return .failure(
                    APIError(
                        status: 404, code: "unknown_tenant",
                        message: "tenant '\(id.tenant)' has no catalog on this service"))
            }
            do throws(APIError) { return .success(try body(book)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Changes the book `id` under the lock (creating it for a tenant with a catalog): the request path's
    /// decisions count themselves and fill spike-arrest buckets, which are not written to the ledger.
    func update<T>(_ id: BookID, _ body: (inout Book) throws(APIError) -> T) throws(APIError) -> T {
        let result: Result<T, APIError> = books.withLock { books in
            guard book(id, in: &books) != nil, var book = books.removeValue(forKey: id) else {
                return .failure(
                    APIError(
                        status: 404, code: "unknown_tenant",
                        message: "tenant '\(id.tenant)' has no catalog on this service"))
            }
            defer { books[id] = book }
            do throws(APIError) { return .success(try body(&book)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Ingest

    /// Meters `items` into book `id` and returns the answer once they are durable.
    func ingest(
        _ items: [IngestItem], into id: BookID, idempotency: (key: String, bodySHA256: String)?
    ) async throws -> IngestAnswer {
        try await withCheckedThrowingContinuation { continuation in
            let start = queue.withLock { queue in
                queue.pending.append(
                    PendingBatch(book: id, items: items, idempotency: idempotency, continuation: continuation))
                defer { queue.draining = true }
                return !queue.draining
            }
            if start { committer.async { self.drain() } }
        }
    }

    /// Commits groups until nothing waits.
    private func drain() {
        while true {
            let group: [PendingBatch] = queue.withLock { queue in
                let group = queue.pending
                queue.pending = []
                if group.isEmpty { queue.draining = false }
                return group
            }
            if group.isEmpty { return }
            commit(group)
        }
    }

    private enum Decision {
        case answer(IngestAnswer)
        case repeatStored(key: String)
        case refuse(APIError)
    }

    private func commit(_ group: [PendingBatch]) {
        var decisions: [Decision] = []
        var entries: [JournalEntry] = []
        var requests: [RecordedRequest] = []
        var counts: [String: Int] = [:]
        books.withLock { books in
            /// Keys answered earlier in this same group: their answer is the one this group makes.
            var answeredInGroup: [BookID: [String: Int]] = [:]
            for batch in group {
                guard book(batch.book, in: &books) != nil else {
                    decisions.append(
                        .refuse(
                            APIError(
                                status: 404, code: "unknown_tenant",
                                message: "tenant '\(batch.book.tenant)' has no catalog")))
                    continue
                }
                if let (key, hash) = batch.idempotency {
                    if let earlier = answeredInGroup[batch.book]?[key] {
                        decisions.append(
                            Self.repeatOrConflict(
                                decisions[earlier],
                                sameBody: requests.contains {
                                    $0.key == key && $0.tenant == batch.book.ledgerTenant && $0.bodySHA256 == hash
                                }))
                        continue
                    }
                    if let stored = books[batch.book]?.answeredKeys[key] {
                        decisions.append(stored == hash ? .repeatStored(key: key) : .refuse(Self.keyReused(key)))
                        continue
                    }
                }
                var results: [JSONValue] = []
                results.reserveCapacity(batch.items.count)
                var tally = IngestResponse.Tally()
                for item in batch.items {
                    // Through the dictionary, in place (the book was made above): a copy would copy its meter.
                    guard let outcome = books[batch.book]?.meter.ingest(item.event, receivedAt: item.receivedAt) else {
                        continue
                    }
                    var detail: String?
                    if case .deadLettered = outcome { detail = books[batch.book]?.meter.deadLetters.last?.detail }
                    if case .accepted = outcome { books[batch.book]?.remember(item.event) }
                    var stored = item.event
                    stored.tenant = batch.book.ledgerTenant
                    entries.append(
                        JournalEntry(
                            eventID: item.event.id, payload: .event(stored), receivedAt: item.receivedAt,
                            outcome: outcome, detail: detail))
                    results.append(IngestResponse.result(id: item.event.id, outcome: outcome, detail: detail))
                    tally.add(outcome)
                    counts[IngestResponse.outcomeLabel(outcome), default: 0] += 1
                }
                let answer = IngestAnswer(json: IngestResponse.json(results: results, tally: tally), repeated: false)
                if let (key, hash) = batch.idempotency {
                    requests.append(
                        RecordedRequest(
                            tenant: batch.book.ledgerTenant, key: key, bodySHA256: hash, response: answer.json))
                    books[batch.book]?.answeredKeys[key] = hash
                    answeredInGroup[batch.book, default: [:]][key] = decisions.count
                }
                decisions.append(.answer(answer))
            }
        }
        let started = ContinuousClock.now
        do {
            if !entries.isEmpty || !requests.isEmpty { try journal.append(entries, requests: requests) }
        } catch {
            // The meters now hold events the ledger does not: build them again from the ledger.
            FileHandle.standardError.write(Data("tally-server: ledger commit failed: \(error)\n".utf8))
            _ = try? rebuild()
            for batch in group {
                batch.continuation.resume(
                    throwing: APIError(
                        status: 503, code: "ledger_unavailable",
                        message: "the events could not be made durable; nothing was counted, send them again"))
            }
            return
        }
        metrics.committed(
            events: entries.count, requests: group.count, seconds: started.duration(to: .now), outcomes: counts)
        for (batch, decision) in zip(group, decisions) {
            switch decision {
            case .answer(let answer):
                batch.continuation.resume(returning: answer)
            case .refuse(let error):
                batch.continuation.resume(throwing: error)
            case .repeatStored(let key):
                do {
                    guard let json = try journal.response(tenant: batch.book.ledgerTenant, key: key) else {
                        throw LedgerError("the answer to idempotency key '\(key)' is missing from the ledger")
                    }
                    batch.continuation.resume(returning: IngestAnswer(json: json, repeated: true))
                } catch {
                    batch.continuation.resume(
                        throwing: APIError(status: 503, code: "ledger_unavailable", message: "\(error)"))
                }
            }
        }
    }

    private static func repeatOrConflict(_ earlier: Decision, sameBody: Bool) -> Decision {
        guard sameBody, case .answer(let answer) = earlier else {
            if case .refuse(let error) = earlier { return .refuse(error) }
            return .refuse(
                APIError(
                    status: 422, code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used with another body"))
        }
        return .answer(IngestAnswer(json: answer.json, repeated: true))
    }

    private static func keyReused(_ key: String) -> APIError {
        APIError(
            status: 422, code: "idempotency_key_reused", field: nil,
            message:
                "Idempotency-Key '\(key.prefix(64))' was used before with another body; use a new key for new events")
    }
}
