import TallyGateways
import TallyJSON
import TallyPipeline

/// What one event file held: its records and what became of them, for conservation and rejections.json.
public struct EventFileTally: Sendable, Hashable {
    /// The path as the scenario wrote it.
    public var file: String
    public var format: RecordFormat
    /// Records read: each one an event sent to the pipeline (decoded or not) or a request not billed.
    public var records = 0
    /// Records sent to the pipeline, undecodable ones included (each a `schema_invalid` dead letter).
    public var events = 0
    /// Of those, the undecodable ones.
    public var undecodable = 0
    /// Requests the gateway answered with a status the mapping does not bill, by status.
    public var notBilled: [Int: Int] = [:]
    /// Records of another tenant than the scenario's, by tenant: another billing context, not metered here.
    public var otherTenants: [String: Int] = [:]

    /// Every record is an event sent, a request not billed or a record of another tenant.
    public var isBalanced: Bool {
        records == events + notBilled.values.reduce(0, +) + otherTenants.values.reduce(0, +)
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("file", .string(file)), ("format", .string(format.rawValue)), ("records", .number(String(records))),
            ("events", .number(String(events))), ("undecodable", .number(String(undecodable))),
            (
                "not_billed",
                InvoicesDocument.object(
                    notBilled.keys.sorted().map { (String($0), .number(String(notBilled[$0] ?? 0))) })
            ),
        ]
        // Only when there are any, so files of the scenario's tenant alone read as before.
        if !otherTenants.isEmpty {
            members.append(
                (
                    "other_tenants",
                    InvoicesDocument.object(
                        otherTenants.keys.sorted().map { ($0, .number(String(otherTenants[$0] ?? 0))) })
                ))
        }
        return InvoicesDocument.object(members)
    }
}

/// A scenario's event files, opened for one run; the merge reads them, the runner collects their tallies.
///
/// @unchecked Sendable: the producer thread reads the files while the stream runs, and
/// ``finish()`` reads the tallies only after the stream has ended (its thread joined).
final class EventFileSources: @unchecked Sendable {
    let scenario: Scenario
    private(set) var sources: [EventFileSource] = []
    private var failure: String?

    init(scenario: Scenario) {
        self.scenario = scenario
    }

    /// Opens every file; called by the merge as the stream starts.
    func open() throws(RunError) {
        sources = []
        for input in scenario.inputs {
            do {
                let reader = try RecordReader(
                    path: input.path, displayName: input.name, format: input.format,
                    mapping: input.mapping, tenant: scenario.tenant)
                sources.append(
                    EventFileSource(
                        input: input, reader: reader, delay: scenario.ingest.delay,
                        start: scenario.schedule.periods.first?.start ?? Instant(millisecondsSinceEpoch: 0),
                        tenant: scenario.tenant, owner: self))
            } catch {
                throw RunError(message: "\(scenario.name): events_from: \(error.message)")
            }
        }
    }

    func fail(_ message: String) {
        if failure == nil { failure = message }
    }

    /// The tallies once the stream has ended, or the error that cut a file short.
    func finish() throws(RunError) -> [EventFileTally] {
        if let failure { throw RunError(message: "\(scenario.name): \(failure)") }
        return sources.map(\.tally)
    }
}

/// One event file in the stream: its records as items, received in the file's delivery order.
///
/// A record that carries its own ingest time (`received_at`, as `tally generate` writes) is
/// received then; any other is received at the latest timestamp the file has shown so far,
/// its own included, plus the scenario's `ingest.delay`: a gateway's log is written as
/// requests finish, so a record further down arrived no earlier than any above it. A record
/// never arrives before the one above it, so each file is one ordered source of the merge. An
/// undecodable record arrives with the record above it (the first: at the first period's start + delay).
///
/// The source reads one record ahead (``advance()``), so that the merge can order it by when it is
/// received, and keeps it until the merge moves it into a batch (``emit(into:)``).
final class EventFileSource {
    let input: EventFileInput
    private let reader: RecordReader
    private let delay: TimeSpan
    /// The scenario's tenant: the only one whose records its catalog bills.
    private let tenant: String
    private unowned let owner: EventFileSources
    private(set) var tally: EventFileTally
    private var latestTimestamp = Instant(millisecondsSinceEpoch: .min)
    private var lastReceived = Instant(millisecondsSinceEpoch: .min)
    /// The record read ahead, an event or an undecodable record, and its line; nil before the first and at the end.
    private var ahead: DecodedRecord?
    private var aheadLine = 0

    /// Where an undecodable record is received when no event above it has a timestamp: the first period's start.
    private let start: Instant

    init(
        input: EventFileInput, reader: RecordReader, delay: TimeSpan, start: Instant, tenant: String,
        owner: EventFileSources
    ) {
        self.input = input
        self.tenant = tenant
        self.start = start
        self.reader = reader
        self.delay = delay
        self.owner = owner
        tally = EventFileTally(file: input.name, format: input.format)
    }

    /// Reads up to the file's next event (or undecodable record), counting the records passed over;
    /// returns when the pipeline receives it, or nil at the file's end.
    func advance() -> Instant? {
        while true {
            let next: DecodedRecord?
            do { next = try reader.nextRecord() } catch {
                owner.fail(error.message)
                return nil
            }
            guard let record = next else { return nil }
            let line = reader.line
            tally.records += 1
            switch record {
            case .notBilled(let status):
                tally.notBilled[status, default: 0] += 1
            case .event(let event, let own):
                guard event.tenant == tenant else {
                    // The scenario's catalog is its tenant's: a service keeps another tenant's usage in
                    // another book (or refuses it), so it is counted here and never metered.
                    tally.otherTenants[event.tenant, default: 0] += 1
                    continue
                }
                tally.events += 1
                if event.timestamp > latestTimestamp { latestTimestamp = event.timestamp }
                let receivedAt = arrival(own ?? latestTimestamp + delay)
                ahead = .event(event, receivedAt: nil)
                aheadLine = line
                return receivedAt
            case .undecodable(let raw, let problem):
                tally.events += 1
                tally.undecodable += 1
                ahead = .undecodable(raw: raw, problem: problem)
                aheadLine = line
                // It has no time of its own that can be trusted: it arrived with the record above it.
                let first = lastReceived == Instant(millisecondsSinceEpoch: .min)
                return arrival(first ? start + delay : lastReceived)
            }
        }
    }

    /// Moves the record ``advance()`` read into `batch`: an event as it was decoded, an undecodable
    /// record as a whole item named `file:line`.
    func emit(into batch: inout StreamBatch) {
        switch ahead.take() {
        case .event(let event, _):
            batch.append(decoded: event, receivedAt: lastReceived)
        case .undecodable(let raw, let problem):
            batch.append(
                whole: GeneratedItem(
                    payload: .undecodable(raw: raw, problem: problem), receivedAt: lastReceived,
                    eventID: "\(input.name):\(aheadLine)"))
        case .notBilled, nil:
            break
        }
    }

    private func arrival(_ instant: Instant) -> Instant {
        if instant > lastReceived { lastReceived = instant }
        return lastReceived
    }
}
