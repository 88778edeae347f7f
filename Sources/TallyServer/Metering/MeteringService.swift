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
    /// The last accepted events of each customer, newest last (``MeteringService/recentPerCustomer`` at least,
    /// twice that at most: trimmed in steps, so that most events cost one append).
    var recent: [String: [Event]] = [:]
    /// Idempotency keys answered within the idempotency window (from the ledger or this run), with the hash
    /// of their body.
    var answeredKeys: [String: String] = [:]
    /// The same keys in the order they were answered, with the wall-clock millisecond of the answer:
    /// the oldest are forgotten first. Entries before `keyOrderStart` are forgotten already.
    private var keyOrder: [(key: String, answeredAt: Int64)] = []
    private var keyOrderStart = 0

    init(terms: CatalogFile) {
        self.terms = terms
        meter = Meter(catalog: terms.catalog, schedule: terms.schedule, limits: terms.limits)
        meter.entitlementCacheRefresh = terms.entitlementCacheRefresh
    }

    /// Keeps `event` among its customer's latest.
    mutating func remember(_ event: Event) {
        Self.append(event, to: &recent[event.customer, default: []])
    }

    private static func append(_ event: Event, to list: inout [Event]) {
        list.append(event)
        if list.count >= 2 * MeteringService.recentPerCustomer {
            list.removeFirst(list.count - MeteringService.recentPerCustomer)
        }
    }

    /// Remembers that `key` was answered at `answeredAt` (wall-clock milliseconds).
    mutating func answered(_ key: String, bodySHA256: String, at answeredAt: Int64) {
        if answeredKeys.updateValue(bodySHA256, forKey: key) == nil { keyOrder.append((key, answeredAt)) }
    }

    /// Forgets the keys answered before `cutoff` (wall-clock milliseconds): memory in proportion to the window.
    mutating func forgetKeys(answeredBefore cutoff: Int64) {
        while keyOrderStart < keyOrder.count, keyOrder[keyOrderStart].answeredAt < cutoff {
            answeredKeys[keyOrder[keyOrderStart].key] = nil
            keyOrderStart += 1
        }
        if keyOrderStart > 1024, keyOrderStart * 2 > keyOrder.count {
            keyOrder.removeFirst(keyOrderStart)
            keyOrderStart = 0
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

    /// How long an idempotency key is kept after its answer: a retry within it gets the same answer.
    let idempotencyWindow: Duration
    /// How long a batch may wait for the batch it names in `X-Tally-After`.
    static let predecessorWait: Duration = .seconds(30)
    /// The wall clock, in milliseconds since the epoch.
    let now: @Sendable () -> Int64
    /// Batches waiting for their predecessor; touched on the committer's queue only.
    nonisolated(unsafe) private var held: [PendingBatch] = []
    /// Whether ``expireHeld()`` is due to run; touched on the committer's queue only.
    nonisolated(unsafe) private var expiryScheduled = false

    struct PendingBatch: Sendable {
        var book: BookID
        var items: [IngestItem]
        var idempotency: (key: String, bodySHA256: String)?
        /// Answer only the events not accepted (`Prefer: return=minimal`).
        var minimal: Bool
        /// The idempotency key of the batch this one must be metered after (`X-Tally-After`).
        var after: String?
        var arrived: ContinuousClock.Instant
        var continuation: CheckedContinuation<IngestAnswer, any Error>
    }

    /// Opens the ledger and meters every event it holds again, so each book is as it was when the service stopped.
    ///
    /// - Parameter catalogs: each tenant's catalog; two catalogs of one tenant are refused.
    /// - Parameter idempotencyWindow: how long an idempotency key is kept after its answer.
    /// - Parameter now: the wall clock, in milliseconds since the epoch.
    public init(
        catalogs: [CatalogFile], ledger: Ledger, metrics: ServerMetrics, idempotencyWindow: Duration = .seconds(86_400),
        now: @escaping @Sendable () -> Int64
    ) throws {
        var byTenant: [String: CatalogFile] = [:]
        for file in catalogs {
            guard byTenant[file.tenant] == nil else {
                throw LedgerError("two catalogs are for tenant '\(file.tenant)'")
            }
            byTenant[file.tenant] = file
        }
        self.catalogs = byTenant
        self.metrics = metrics
        self.idempotencyWindow = idempotencyWindow
        self.now = now
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
        // The book of the last row, out of the dictionary (moved, not copied) while the rows are its:
        // nearly every row is of the same few books, so most rows cost no lookup.
        var last: (ledgerTenant: String, id: BookID)?
        var current: Book?
        try journal.forEachEntry { entry in
            entries += 1
            guard case .event(let stored) = entry.payload else { return }
            if last?.ledgerTenant != stored.tenant {
                let id = BookID(ledgerTenant: stored.tenant)
                if let last, let book = current { fresh[last.id] = book }
                current = fresh.removeValue(forKey: id) ?? catalogs[id.tenant].map { Book(terms: $0) }
                last = (stored.tenant, id)
            }
            guard let id = last?.id, current != nil else { return }
            var event = stored
            event.tenant = id.tenant
            let outcome = current?.meter.ingest(event, receivedAt: entry.receivedAt)
            if outcome != entry.outcome { mismatches += 1 }
            switch outcome {
            case .accepted?: current?.remember(event)
            case .deadLettered?: _ = current?.meter.takeDeadLetters()  // they are on disk, in dead_letters
            default: break
            }
        }
        if let last, let book = current { fresh[last.id] = book }
        let cutoff = forgetBefore()
        for request in try journal.requestKeys() where request.answeredAt >= cutoff {
            let id = BookID(ledgerTenant: request.tenant)
            guard self.book(id, in: &fresh) != nil else { continue }
            fresh[id]?.answered(request.key, bodySHA256: request.bodySHA256, at: request.answeredAt)
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

    /// Keys answered before this wall-clock millisecond are forgotten.
    private func forgetBefore() -> Int64 {
        now() - idempotencyWindow.components.seconds * 1000 - idempotencyWindow.components.attoseconds
            / 1_000_000_000_000_000
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
            guard let terms = catalogs[id.tenant] else {
                return .failure(
                    APIError(
                        status: 404, code: "unknown_tenant",
                        message: "tenant '\(id.tenant)' has no catalog on this service"))
            }
            // In place, through the dictionary: no copy of the book, and one lookup.
            do throws(APIError) { return .success(try body(&books[id, default: Book(terms: terms)])) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Ingest

    /// Meters `items` into book `id` and returns the answer once they are durable.
    ///
    /// - Parameters:
    ///   - minimal: answer only the events not accepted, each with its index (`Prefer: return=minimal`).
    ///   - after: the idempotency key of a batch this one is metered after; it waits (up to
    ///     ``predecessorWait``) until that batch is metered, so a client with several batches in flight
    ///     still has them metered in the order it made them.
    func ingest(
        _ items: [IngestItem], into id: BookID, idempotency: (key: String, bodySHA256: String)?,
        minimal: Bool = false, after: String? = nil
    ) async throws -> IngestAnswer {
        try await withCheckedThrowingContinuation { continuation in
            let start = queue.withLock { queue in
                queue.pending.append(
                    PendingBatch(
                        book: id, items: items, idempotency: idempotency, minimal: minimal, after: after,
                        arrived: .now, continuation: continuation))
                defer { queue.draining = true }
                return !queue.draining
            }
            if start { committer.async { self.drain() } }
        }
    }

    /// Commits groups until nothing new waits (batches held for their predecessor stay held).
    private func drain() {
        while true {
            let arrived: [PendingBatch] = queue.withLock { queue in
                let group = queue.pending
                queue.pending = []
                if group.isEmpty { queue.draining = false }
                return group
            }
            if arrived.isEmpty { return }
            let group = held + arrived
            held = []
            commit(group)
        }
    }

    /// Answers 409 to the held batches that waited too long for their predecessor; while some are
    /// held, looks again every second.
    private func expireHeld() {
        let now = ContinuousClock.now
        held.removeAll { batch in
            guard batch.arrived.duration(to: now) > Self.predecessorWait else { return false }
            batch.continuation.resume(
                throwing: APIError(
                    status: 409, code: "predecessor_missing", field: "X-Tally-After",
                    message:
                        "the batch with Idempotency-Key '\(batch.after?.prefix(64) ?? "")' was not metered within \(Self.predecessorWait); send it first"
                ))
            return true
        }
        expiryScheduled = false
        scheduleExpiry()
    }

    private func scheduleExpiry() {
        guard !held.isEmpty, !expiryScheduled else { return }
        expiryScheduled = true
        committer.asyncAfter(deadline: .now() + 1) { self.expireHeld() }
    }

    /// The batches of `group` in the order they may be metered (each after the batch it names, once that is
    /// metered or in this group), and those that must wait.
    private func ordered(
        _ group: [PendingBatch], _ books: [BookID: Book]
    ) -> (ready: [PendingBatch], waiting: [PendingBatch]) {
        var ready: [PendingBatch] = []
        var waiting = group
        var keysInGroup: [BookID: Set<String>] = [:]
        var progress = true
        while progress, !waiting.isEmpty {
            progress = false
            var still: [PendingBatch] = []
            for batch in waiting {
                let answered = { (key: String) in
                    books[batch.book]?.answeredKeys[key] != nil || keysInGroup[batch.book]?.contains(key) == true
                }
                if let after = batch.after, !answered(after), !(batch.idempotency.map { answered($0.key) } ?? false) {
                    still.append(batch)
                    continue
                }
                ready.append(batch)
                if let key = batch.idempotency?.key { keysInGroup[batch.book, default: []].insert(key) }
                progress = true
            }
            waiting = still
        }
        return (ready, waiting)
    }

    private enum Decision {
        case answer(IngestAnswer)
        case repeatStored(key: String)
        case refuse(APIError)
    }

    private func commit(_ arrived: [PendingBatch]) {
        var decisions: [Decision] = []
        var entries: [JournalEntry] = []
        var requests: [RecordedRequest] = []
        var counts: [String: Int] = [:]
        let answeredAt = now()
        let cutoff = forgetBefore()
        var group: [PendingBatch] = []
        books.withLock { books in
            let (ready, waiting) = ordered(arrived, books)
            group = ready
            held = waiting
            scheduleExpiry()
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
                books[batch.book]?.forgetKeys(answeredBefore: cutoff)
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
                // Out of the dictionary while its events are metered (moved, not copied: one lookup a batch
                // rather than a few an event), and back in below.
                guard var book = books.removeValue(forKey: batch.book) else { continue }
                var writer = IngestResponse.Writer(minimal: batch.minimal, capacity: batch.items.count)
                let ledgerTenant = batch.book.ledgerTenant
                entries.reserveCapacity(entries.count + batch.items.count)
                for item in batch.items {
                    let outcome = book.meter.ingest(item.event, receivedAt: item.receivedAt)
                    var detail: String?
                    switch outcome {
                    case .accepted: book.remember(item.event)
                    case .deadLettered:
                        // The ledger keeps the dead letter (its dead_letters table); the meter need not.
                        detail = book.meter.takeDeadLetters().last?.detail
                    case .rejected: break
                    }
                    var stored = item.event
                    stored.tenant = ledgerTenant
                    entries.append(
                        JournalEntry(
                            eventID: item.event.id, payload: .event(stored), receivedAt: item.receivedAt,
                            outcome: outcome, detail: detail))
                    writer.add(id: item.event.id, outcome: outcome, detail: detail)
                    if case .accepted = outcome { continue }
                    counts[IngestResponse.outcomeLabel(outcome), default: 0] += 1
                }
                if writer.tally.accepted > 0 { counts["accepted", default: 0] += writer.tally.accepted }
                let answer = IngestAnswer(json: writer.json(), repeated: false)
                if let (key, hash) = batch.idempotency {
                    requests.append(
                        RecordedRequest(
                            tenant: ledgerTenant, key: key, bodySHA256: hash, response: answer.json,
                            answeredAt: answeredAt))
                    book.answered(key, bodySHA256: hash, at: answeredAt)
                    answeredInGroup[batch.book, default: [:]][key] = decisions.count
                }
                books[batch.book] = book
                decisions.append(.answer(answer))
            }
        }
        let started = ContinuousClock.now
        do {
            if !entries.isEmpty || !requests.isEmpty {
                try journal.append(entries, requests: requests, forgettingRequestsBefore: cutoff)
            }
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
