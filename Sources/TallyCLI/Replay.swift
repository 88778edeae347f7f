import ArgumentParser
import Dispatch
import Foundation
import TallyJSON
import TallyPipeline
import TallyReplayClient
import TallySandbox

/// `tally replay SCENARIO --to URL --key K`: sends a scenario's events to a running tally-server
/// as gateways would, then compares the invoices it bills with the scenario's golden file.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a scenario's events to a tally-server and compare the invoices it bills with the golden file.",
        discussion: """
            Events go in ingest order, faults included, in batches to POST /v1/ingest/batch, each event \
            carrying its simulated received-at instant (so the key must be a test-mode key). A batch \
            that fails (connection lost, 5xx) is sent again with the same Idempotency-Key until it is \
            acknowledged, so nothing is counted twice. Malformed events are sent one by one to \
            POST /v1/meter, which must refuse them (400). Then GET /v1/invoices is compared byte for \
            byte with Fixtures/NAME/invoices.json. Exits 0 when they match, 1 when they differ, 2 on an error.
            With --concurrency above 1, several batches are in flight at once; each names the one before it \
            (X-Tally-After), so the service still meters them in order and the invoices are the same.
            """
    )

    @Argument(help: "The scenario file.")
    var scenario: String

    @Option(name: .customLong("to"), help: "The service's base URL, like http://127.0.0.1:8080.")
    var url: String

    @Option(help: "A test-mode API key of the scenario's tenant.")
    var key: String

    @Option(help: "Events per batch request (1 to 10,000).")
    var batch = 1000

    @Option(help: "Batch requests in flight at once.")
    var concurrency = 1

    @Option(help: "The golden files' folder (default: Fixtures/ beside the scenarios' folder).")
    var fixtures: String?

    @Option(help: "Seconds a request may go unanswered, and the longest time a batch is retried for.")
    var timeout: Double = 60

    func validate() throws {
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be from 1 to 10,000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 64") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil
        else {
            throw ValidationError("--to must be an http(s) URL like http://127.0.0.1:8080")
        }
    }

    func run() throws {
        let (loaded, text) = try LedgerFiles.reporting { () throws -> (Scenario, String) in
            let text = try LedgerFiles.text(of: scenario)
            return (try ScenarioLoader.load(yaml: text, file: scenario), text)
        }
        let client = ReplayClient(
            base: url.hasSuffix("/") ? String(url.dropLast()) : url, key: key, timeout: timeout,
            connections: concurrency)
        defer { client.shutdown() }
        let sender = BatchSender(
            client: client, concurrency: concurrency,
            keyPrefix: "replay-\(loaded.name)-\(loaded.seed)-\(ScenarioFingerprint.of(text))")
        let started = DispatchTime.now().uptimeNanoseconds
        var body = BatchBody()
        var malformed: [String] = []
        do {
            try loaded.forEachGeneratedItem { item in
                guard sender.failure == nil else { return }
                switch item.payload {
                case .event:
                    body.append(item)
                    if body.events == batch { sender.send(body.finish()) }
                case .malformed(let text), .undecodable(let text, _):
                    malformed.append(text)
                }
            }
        } catch {
            StandardError.write("error: \(error)\n")
            throw ExitCode(2)
        }
        if body.events > 0 { sender.send(body.finish()) }
        sender.finish()
        if let failure = sender.failure {
            StandardError.write("error: \(failure)\n")
            throw ExitCode(2)
        }
        // Malformed events never enter the meter: the service refuses each whole, as it must.
        var refused = 0
        for text in malformed {
            let (status, _) = try client.request("POST", "/v1/meter", body: Array(text.utf8), headers: [:])
            if status == 400 { refused += 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let totals = sender.totals
        let sent = totals.received + malformed.count
        print(
            "\(loaded.name): sent \(sent) events in \(sender.requests) batch requests (\(sender.retries) retried) in \(String(format: "%.2f", seconds)) s: \(ProgressBar.compact(Double(sent) / max(seconds, 1e-9))) events/s"
        )
        print(
            "  outcomes: \(totals.accepted) accepted, \(totals.rejected) rejected, \(totals.deadLettered) dead-lettered, \(refused) of \(malformed.count) malformed refused (400)"
        )
        print(
            "  request latency: p50 \(sender.percentile(0.50)) ms, p95 \(sender.percentile(0.95)) ms, p99 \(sender.percentile(0.99)) ms"
        )
        guard refused == malformed.count else {
            StandardError.write(
                "error: the service took \(malformed.count - refused) malformed events instead of refusing them\n")
            throw ExitCode(1)
        }
        // Nothing lost, nothing doubled: the same outcomes as the scenario run here, in process.
        let local: OutcomeCounts
        do { local = try ScenarioRunner.run(loaded).counts } catch {
            StandardError.write("error: \(error)\n")
            throw ExitCode(2)
        }
        guard local.accepted == totals.accepted, local.rejected == totals.rejected,
            local.deadLettered == totals.deadLettered + refused
        else {
            print(
                "  outcomes DIFFER from tally run's: \(local.accepted) accepted, \(local.rejected) rejected, \(local.deadLettered) dead-lettered"
            )
            throw ExitCode(1)
        }
        try compareInvoices(loaded, client: client)
    }

    private func compareInvoices(_ loaded: Scenario, client: ReplayClient) throws {
        let (status, body) = try client.requestRetrying("GET", "/v1/invoices")
        guard status == 200 else {
            StandardError.write(
                "error: GET /v1/invoices answered \(status): \(String(decoding: body, as: UTF8.self).prefix(500))\n")
            throw ExitCode(2)
        }
        let golden = ScenarioFiles.fixtures(for: scenario, override: fixtures)
            .appendingPathComponent(loaded.name).appendingPathComponent("invoices.json")
        guard let expected = FileManager.default.contents(atPath: golden.path) else {
            StandardError.write("error: no golden file at \(golden.path)\n")
            throw ExitCode(2)
        }
        if Array(expected) == body {
            print("  invoices: identical to \(golden.path) (\(body.count) bytes)")
            return
        }
        let want = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let got = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let line =
            zip(want, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(want.count, got.count)
        print("  invoices: DIFFER from \(golden.path) at line \(line + 1):")
        print("    golden:  \(line < want.count ? String(want[line]) : "(end of file)")")
        print("    service: \(line < got.count ? String(got[line]) : "(end of file)")")
        throw ExitCode(1)
    }
}

/// A batch request's body, `{"events":[...]}`, written as its events come: each event is the line
/// `tally generate` writes (its JSON with the ISO-8601 `received_at`), which the service decodes
/// straight from the bytes.
struct BatchBody {
    private static let opening = Array(#"{"events":["#.utf8)
    private var encoder = EventLineEncoder(format: .jsonl)
    /// The body so far in its first `used` bytes; the bytes after them are the encoder's scratch space,
    /// kept from one batch to the next so that no event's line grows or shrinks the buffer.
    private var bytes = BatchBody.opening
    private var used = BatchBody.opening.count
    private(set) var events = 0

    mutating func append(_ item: GeneratedItem) {
        if events > 0 { put(UInt8(ascii: ",")) }
        used = encoder.encode(item, into: &bytes, at: used)
        events += 1
    }

    /// The finished body; the builder starts the next one.
    mutating func finish() -> [UInt8] {
        put(UInt8(ascii: "]"))
        put(UInt8(ascii: "}"))
        defer {
            used = BatchBody.opening.count
            events = 0
        }
        return Array(bytes[..<used])
    }

    private mutating func put(_ byte: UInt8) {
        if used < bytes.count { bytes[used] = byte } else { bytes.append(byte) }
        used += 1
    }
}

/// A short fingerprint of a scenario's text, so that idempotency keys name the text their events came
/// from: an edited scenario replayed against the same service sends new keys.
enum ScenarioFingerprint {
    /// The 64-bit FNV-1a hash of the text, in hex (a name, not a security measure).
    static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// Sends batches with at most `concurrency` in flight, each retried under its idempotency key until acknowledged.
final class BatchSender: @unchecked Sendable {
    // @unchecked: the counters are touched under `lock` only.
    struct Totals { var received = 0, accepted = 0, rejected = 0, deadLettered = 0 }

    private let client: ReplayClient
    private let slots: DispatchSemaphore
    private let concurrency: Int
    private let keyPrefix: String
    private let lock = NSLock()
    private let group = DispatchGroup()
    private var next = 0
    private var latencies: [Double] = []
    private var _totals = Totals()
    private var _retries = 0
    private var _failure: String?

    init(client: ReplayClient, concurrency: Int, keyPrefix: String) {
        self.client = client
        self.concurrency = concurrency
        self.keyPrefix = keyPrefix
        slots = DispatchSemaphore(value: concurrency)
    }

    var failure: String? { lock.withLock { _failure } }
    var totals: Totals { lock.withLock { _totals } }
    var retries: Int { lock.withLock { _retries } }
    var requests: Int { lock.withLock { next } }

    /// Sends one batch body (waits while `concurrency` batches are in flight).
    ///
    /// Each batch after the first names the one before it in `X-Tally-After`, so that the service meters
    /// them in the order they were made even when several are in flight. The answers list only the events
    /// not accepted (`Prefer: return=minimal`): the replay reads their totals.
    func send(_ body: [UInt8]) {
        slots.wait()
        let index = lock.withLock { () -> Int in
            defer { next += 1 }
            return next
        }
        var fields = ["Idempotency-Key": "\(keyPrefix)-\(index)", "Prefer": "return=minimal"]
        if index > 0 { fields["X-Tally-After"] = "\(keyPrefix)-\(index - 1)" }
        let headers = fields
        group.enter()
        DispatchQueue.global().async { [self] in
            defer {
                slots.signal()
                group.leave()
            }
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                let (status, answer) = try client.requestRetrying(
                    "POST", "/v1/ingest/batch", body: body, headers: headers,
                    retried: { [self] in lock.withLock { _retries += 1 } })
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                guard status == 202, case .object(let object)? = try? JSONValue.parse(answer) else {
                    throw CLIError(
                        "batch \(index) answered \(status): \(String(decoding: answer, as: UTF8.self).prefix(500))")
                }
                func count(_ name: String) -> Int {
                    if case .number(let text)? = object[name] { Int(text) ?? 0 } else { 0 }
                }
                lock.withLock {
                    latencies.append(milliseconds)
                    _totals.received += count("received")
                    _totals.accepted += count("accepted")
                    _totals.rejected += count("rejected")
                    _totals.deadLettered += count("dead_lettered")
                }
            } catch {
                lock.withLock { if _failure == nil { _failure = "\(error)" } }
            }
        }
    }

    /// Waits for every batch sent.
    func finish() { group.wait() }

    /// The request latency at `fraction` (0.99: p99), in milliseconds with two decimals.
    func percentile(_ fraction: Double) -> String {
        let sorted = lock.withLock { latencies.sorted() }
        guard !sorted.isEmpty else { return "-" }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return String(format: "%.2f", sorted[max(0, index)])
    }
}
