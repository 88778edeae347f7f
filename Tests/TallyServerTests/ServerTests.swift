import Foundation
import TallyServer
import Testing

/// The real service on a free loopback port, called over HTTP.
///
/// Figures: acme's plan charges 0.01 per call with a hard quota of 5 calls a period, so
/// 7 calls in January are 5 accepted (5 x 0.01 = 0.05) and 2 `quota_exceeded`.
@Suite(.serialized) struct ServerTests {
    let folder: URL
    init() throws { folder = try ServerFixtures.folder() }

    func start(_ name: String = "ledger.sqlite") async throws -> RunningServer {
        try await RunningServer.start(ledgerPath: folder.appendingPathComponent(name).path)
    }

    @Test func healthAndMetricsNeedNoKey() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let health = try await server.call("GET", "/healthz", key: nil)
        #expect(health.status == 200)
        #expect(health.body.json("status") == "ok")
        _ = try await server.call("POST", "/v1/ingest/batch", body: ServerFixtures.batch([ServerFixtures.event("m1")]))
        let metrics = try await server.call("GET", "/metrics", key: nil)
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"tally_events_total{outcome="accepted"} 1"#))
        #expect(metrics.body.contains("tally_ledger_commit_duration_seconds_bucket"))
        #expect(metrics.body.contains("tally_http_request_duration_seconds_bucket"))
    }

    @Test func aBatchIsAnsweredEventByEventAndBilled() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let events = (1...7).map { ServerFixtures.event("e\($0)") }
        let answer = try await server.call("POST", "/v1/ingest/batch", body: ServerFixtures.batch(events))
        #expect(answer.status == 202)
        #expect(answer.body.json("received") == "7")
        #expect(answer.body.json("accepted") == "5")
        #expect(answer.body.json("rejected") == "2")
        #expect(answer.body.json("results.0.outcome") == "accepted")
        #expect(answer.body.json("results.0.period") == "0")
        #expect(answer.body.json("results.5.reason") == "quota_exceeded")

        // One more, alone: a duplicate of e1, rejected as such.
        let single = try await server.call("POST", "/v1/meter", body: ServerFixtures.event("e1"))
        #expect(single.status == 202)
        #expect(single.body.json("results.0.reason") == "duplicate")

        let invoices = try await server.call("GET", "/v1/invoices?period=0")
        #expect(invoices.status == 200)
        #expect(invoices.body.json("scenario") == "server-acme")
        #expect(invoices.body.json("invoices.0.customer") == "acme")
        #expect(invoices.body.json("invoices.0.amount_due") == "0.05")
        #expect(invoices.body.json("invoices.1") == nil)
        // Both periods: February bills nothing.
        let all = try await server.call("GET", "/v1/invoices")
        #expect(all.body.json("invoices.1.amount_due") == "0.00")

        let preview = try await server.call("GET", "/v1/invoices/preview?customer=acme")
        #expect(preview.body.json("invoices.0.amount_due") == "0.05")

        let listed = try await server.call("GET", "/v1/events?customer=acme&limit=2")
        #expect(listed.status == 200)
        #expect(listed.body.json("events.0.event_id") == "e5")
        #expect(listed.body.json("events.1.event_id") == "e4")
        #expect(listed.body.json("events.2") == nil)
    }

    @Test func canAccessAnswersTheQuotaWithHeaders() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        _ = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch((1...3).map { ServerFixtures.event("c\($0)") }))
        // 3 of 5 used in January: 2 remain.
        let january = try await server.call(
            "POST", "/v1/canAccess",
            body: #"{"customer_id":"acme","metric":"api_calls","at":"2026-01-20T00:00:00Z"}"#)
        #expect(january.status == 200)
        #expect(january.body.json("allowed") == "true")
        #expect(january.body.json("quota") == "5")
        #expect(january.body.json("used") == "3")
        #expect(january.body.json("remaining") == "2")
        #expect(january.body.json("reason") == "within_quota")
        // No metric of this catalog has a unit cost: Margin Guard stays at L0.
        #expect(january.body.json("margin_level") == "L0")
        #expect(january.headers["x-ratelimit-remaining"] == "2")
        _ = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch((4...6).map { ServerFixtures.event("c\($0)") }))
        let blocked = try await server.call(
            "POST", "/v1/canAccess",
            body: #"{"customer_id":"acme","metric":"api_calls","at":"2026-01-20T00:00:00Z"}"#)
        // 6 of 5 used: the hard quota refuses, as a gateway's 429.
        #expect(blocked.status == 429)
        #expect(blocked.body.json("allowed") == "false")
        #expect(blocked.body.json("reason") == "quota_exceeded")
        #expect(blocked.headers["x-ratelimit-remaining"] == "0")
        #expect(blocked.headers["x-tally-throttle"] == "quota_exceeded")
        // February is a new period: nothing used.
        let february = try await server.call(
            "POST", "/v1/canAccess",
            body: #"{"customer_id":"acme","metric":"api_calls","at":"2026-02-05T00:00:00Z"}"#)
        #expect(february.body.json("remaining") == "5")
        let unknown = try await server.call(
            "POST", "/v1/canAccess", body: #"{"customer_id":"nobody","metric":"api_calls"}"#)
        #expect(unknown.status == 404)
        #expect(unknown.body.json("error.field") == "customer_id")
        let live = try await server.call(
            "POST", "/v1/canAccess", key: ServerFixtures.liveKey,
            body: #"{"customer_id":"acme","metric":"api_calls","at":"2026-01-20T00:00:00Z"}"#)
        #expect(live.status == 400)
        #expect(live.body.json("error.field") == "at")
    }

    @Test func eachAuthFailureIsRefused() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let body = ServerFixtures.batch([ServerFixtures.event("a1")])
        let none = try await server.call("POST", "/v1/ingest/batch", key: nil, body: body)
        #expect(none.status == 401)
        #expect(none.body.json("error.field") == "Authorization")
        let wrong = try await server.call("POST", "/v1/ingest/batch", key: "tally_test_nothing", body: body)
        #expect(wrong.status == 401)
        let header = try await server.call(
            "GET", "/v1/events?customer=acme", key: ServerFixtures.otherKey, headers: ["X-Tenant-Id": "acme-co"])
        #expect(header.status == 403)
        #expect(header.body.json("error.field") == "X-Tenant-Id")
        let foreign = try await server.call("POST", "/v1/ingest/batch", key: ServerFixtures.otherKey, body: body)
        #expect(foreign.status == 403)
        #expect(foreign.body.json("error.field") == "events[0].tenant_id")
        // Nothing of the refused requests was metered.
        let listed = try await server.call("GET", "/v1/events?customer=acme")
        #expect(listed.body.json("events") == "[]")
    }

    @Test func aTenantSeesOnlyItsOwnDataAndTestDataStaysApartFromLive() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        _ = try await server.call(
            "POST", "/v1/ingest/batch",
            body: ServerFixtures.batch([ServerFixtures.event("t1"), ServerFixtures.event("t2")]))
        let own = try await server.call("GET", "/v1/events?customer=acme")
        #expect(own.body.json("events.1.event_id") == "t1")
        // other-co has a customer named acme too: its book is empty.
        let other = try await server.call("GET", "/v1/events?customer=acme", key: ServerFixtures.otherKey)
        #expect(other.status == 200)
        #expect(other.body.json("events") == "[]")
        let otherInvoices = try await server.call("GET", "/v1/invoices?period=0", key: ServerFixtures.otherKey)
        #expect(otherInvoices.body.json("invoices.0.amount_due") == "0.00")
        let live = try await server.call("GET", "/v1/events?customer=acme", key: ServerFixtures.liveKey)
        #expect(live.body.json("events") == "[]")
    }

    @Test func signedBatchesAreCheckedForSecretTimeAndReplay() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let body = Array(ServerFixtures.batch([ServerFixtures.event("s1")]).utf8)
        let now = Int64(Date().timeIntervalSince1970)
        let good = RequestSignature.header(body: body, secret: Array(ServerFixtures.secret.utf8), timestamp: now)
        let signed = try await server.call(
            "POST", "/v1/ingest/batch", key: nil, bodyBytes: body,
            headers: ["X-Signature": good, "X-Tenant-Id": "acme-co"])
        #expect(signed.status == 202)
        #expect(signed.body.json("accepted") == "1")
        let replayed = try await server.call(
            "POST", "/v1/ingest/batch", key: nil, bodyBytes: body,
            headers: ["X-Signature": good, "X-Tenant-Id": "acme-co"])
        #expect(replayed.status == 401)
        #expect(replayed.body.json("error.code") == "signature_replayed")
        let forged = RequestSignature.header(body: body, secret: Array("not-the-secret-at-all-xx".utf8), timestamp: now)
        let wrong = try await server.call(
            "POST", "/v1/ingest/batch", key: nil, bodyBytes: body,
            headers: ["X-Signature": forged, "X-Tenant-Id": "acme-co"])
        #expect(wrong.body.json("error.code") == "signature_invalid")
        let old = RequestSignature.header(body: body, secret: Array(ServerFixtures.secret.utf8), timestamp: now - 600)
        let expired = try await server.call(
            "POST", "/v1/ingest/batch", key: nil, bodyBytes: body,
            headers: ["X-Signature": old, "X-Tenant-Id": "acme-co"])
        #expect(expired.status == 401)
        #expect(expired.body.json("error.code") == "signature_expired")
        let anonymous = try await server.call(
            "POST", "/v1/ingest/batch", key: nil, bodyBytes: body, headers: ["X-Signature": good])
        #expect(anonymous.status == 401)
        #expect(anonymous.body.json("error.field") == "X-Tenant-Id")
    }

    @Test(arguments: [
        ("{not json", nil as String?),
        (#"{"events":[], "colour":1}"#, "colour"),
        (ServerFixtures.batch([]), "events"),
        (ServerFixtures.batch([ServerFixtures.event("b1", extra: #","colour":"red""#)]), "events[0].colour"),
        (
            ServerFixtures.batch([
                ServerFixtures.event("b1").replacingOccurrences(of: #""quantity":1"#, with: #""quantity":"abc""#)
            ]),
            "events[0].quantity"
        ),
        (
            ServerFixtures.batch([
                ServerFixtures.event("b1").replacingOccurrences(of: #""quantity":1"#, with: #""quantity":true"#)
            ]),
            "events[0].quantity"
        ),
        (
            ServerFixtures.batch([ServerFixtures.event("b1"), ServerFixtures.event(String(repeating: "x", count: 300))]
            ),
            "events[1].event_id"
        ),
        (ServerFixtures.batch((0...10_000).map { _ in "{}" }), "events"),
    ])
    func badInputIsRefusedWholeNamingTheField(body: String, field: String?) async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let answer = try await server.call("POST", "/v1/ingest/batch", body: body)
        #expect(answer.status == 400)
        #expect(answer.body.json("error.code") == "invalid_request")
        #expect(answer.body.json("error.field") == field)
        let listed = try await server.call("GET", "/v1/events?customer=acme")
        #expect(listed.body.json("events") == "[]")
    }

    @Test func liveKeysCannotSetTheClock() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let answer = try await server.call(
            "POST", "/v1/meter", key: ServerFixtures.liveKey, body: ServerFixtures.event("l1"))
        #expect(answer.status == 400)
        #expect(answer.body.json("error.field") == "received_at")
    }

    @Test func gzipBatchesAreDecoded() async throws {
        let server = try await start()
        defer { Task { await server.stop() } }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-c"]
        let input = Pipe()
        let output = Pipe()
        gzip.standardInput = input
        gzip.standardOutput = output
        try gzip.run()
        input.fileHandleForWriting.write(
            Data(ServerFixtures.batch([ServerFixtures.event("z1"), ServerFixtures.event("z2")]).utf8))
        try input.fileHandleForWriting.close()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        let answer = try await server.call(
            "POST", "/v1/ingest/batch", bodyBytes: Array(compressed), headers: ["Content-Encoding": "gzip"])
        #expect(answer.status == 202)
        #expect(answer.body.json("accepted") == "2")
        let broken = try await server.call(
            "POST", "/v1/ingest/batch", body: "not gzip", headers: ["Content-Encoding": "gzip"])
        #expect(broken.status == 400)
        #expect(broken.body.json("error.field") == "Content-Encoding")
    }

    @Test func aRetriedBatchGetsItsFirstAnswerAndCountsOnceAcrossARestart() async throws {
        let server = try await start()
        let body = ServerFixtures.batch((1...3).map { ServerFixtures.event("r\($0)") })
        let first = try await server.call(
            "POST", "/v1/ingest/batch", body: body, headers: ["Idempotency-Key": "batch-1"])
        #expect(first.status == 202)
        #expect(first.body.json("accepted") == "3")
        let again = try await server.call(
            "POST", "/v1/ingest/batch", body: body, headers: ["Idempotency-Key": "batch-1"])
        #expect(again.body == first.body)
        #expect(again.headers["idempotent-replayed"] == "true")
        let reused = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch([ServerFixtures.event("r9")]),
            headers: ["Idempotency-Key": "batch-1"])
        #expect(reused.status == 422)
        await server.stop()

        // A new process on the same ledger: the meter is rebuilt, the key remembered.
        let restarted = try await start()
        defer { Task { await restarted.stop() } }
        let afterRestart = try await restarted.call(
            "POST", "/v1/ingest/batch", body: body, headers: ["Idempotency-Key": "batch-1"])
        #expect(afterRestart.body == first.body)
        // 3 calls: 3 x 0.01 = 0.03, and 2 of the quota of 5 remain.
        let invoices = try await restarted.call("GET", "/v1/invoices?period=0")
        #expect(invoices.body.json("invoices.0.amount_due") == "0.03")
        let access = try await restarted.call(
            "POST", "/v1/canAccess",
            body: #"{"customer_id":"acme","metric":"api_calls","at":"2026-01-20T00:00:00Z"}"#)
        #expect(access.body.json("remaining") == "2")
        // Without a key, the same events are duplicates: rejected, not counted.
        let resent = try await restarted.call("POST", "/v1/ingest/batch", body: body)
        #expect(resent.body.json("rejected") == "3")
        #expect(resent.body.json("results.0.reason") == "duplicate")
    }
}
