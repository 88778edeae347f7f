import Foundation
import Synchronization
import TallyPipeline
import Testing

@testable import TallyServer

/// The fast ingest path: flat batches decoded from bytes, minimal answers, batches metered in the
/// order their client made them, and idempotency keys forgotten after their window.
///
/// Figures: acme's plan has a hard quota of 5 calls a period (ServerFixtures).
@Suite(.serialized) struct IngestPathTests {
    let folder: URL
    init() throws { folder = try ServerFixtures.folder() }

    @Test func aMinimalAnswerListsOnlyTheEventsNotAcceptedWithTheirIndex() async throws {
        let server = try await RunningServer.start(ledgerPath: folder.appendingPathComponent("l.sqlite").path)
        defer { Task { await server.stop() } }
        // 7 calls against a quota of 5: the 6th and 7th (indexes 5 and 6) are refused.
        let events = (1...7).map { ServerFixtures.event("e\($0)") }
        let answer = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch(events), headers: ["Prefer": "return=minimal"])
        #expect(answer.status == 202)
        #expect(
            answer.body
                == #"{"accepted":5,"dead_lettered":0,"received":7,"rejected":2,"results":[{"event_id":"e6","index":5,"outcome":"rejected","reason":"quota_exceeded"},{"event_id":"e7","index":6,"outcome":"rejected","reason":"quota_exceeded"}]}"#
                + "\n")
        // The full answer, written byte by byte, is what the JSON tree wrote before.
        let full = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch([ServerFixtures.event("e1")]))
        #expect(
            full.body
                == #"{"accepted":0,"dead_lettered":0,"received":1,"rejected":1,"results":[{"event_id":"e1","outcome":"rejected","reason":"duplicate"}]}"#
                + "\n")
    }

    @Test func aBatchNamingItsPredecessorWaitsForIt() async throws {
        let server = try await RunningServer.start(ledgerPath: folder.appendingPathComponent("o.sqlite").path)
        defer { Task { await server.stop() } }
        // Batch "b" is sent first but names "a": it is metered after a's 5 calls, so its call is the 6th,
        // past the quota of 5. Metered in arrival order it would have been the 1st, and accepted.
        let second = Task {
            try await server.call(
                "POST", "/v1/ingest/batch", body: ServerFixtures.batch([ServerFixtures.event("b1")]),
                headers: ["Idempotency-Key": "b", "X-Tally-After": "a"])
        }
        try await Task.sleep(for: .milliseconds(300))
        let first = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch((1...5).map { ServerFixtures.event("a\($0)") }),
            headers: ["Idempotency-Key": "a"])
        #expect(first.body.json("accepted") == "5")
        let answer = try await second.value
        #expect(answer.status == 202)
        #expect(answer.body.json("results.0.reason") == "quota_exceeded")
        // Its predecessor known, a batch goes straight through.
        let third = try await server.call(
            "POST", "/v1/ingest/batch", body: ServerFixtures.batch([ServerFixtures.event("a1")]),
            headers: ["Idempotency-Key": "c", "X-Tally-After": "b"])
        #expect(third.body.json("results.0.reason") == "duplicate")
    }

    @Test func idempotencyKeysAreForgottenAfterTheirWindow() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let path = folder.appendingPathComponent("w.sqlite").path
        let configure = { (configuration: inout ServiceConfiguration) in
            configuration.idempotencyWindow = .seconds(60)
            configuration.now = { clock.withLock { $0 } }
        }
        let server = try await RunningServer.start(ledgerPath: path, configure: configure)
        let one = ServerFixtures.batch([ServerFixtures.event("k1")])
        let two = ServerFixtures.batch([ServerFixtures.event("k2")])
        #expect(
            try await server.call("POST", "/v1/ingest/batch", body: one, headers: ["Idempotency-Key": "k"]).status
                == 202)
        // 59 s later the key still stands for its first body.
        clock.withLock { $0 += 59 }
        #expect(
            try await server.call("POST", "/v1/ingest/batch", body: two, headers: ["Idempotency-Key": "k"]).status
                == 422)
        // 61 s after its answer it is forgotten, in memory and in the ledger: a restart does not bring it back.
        clock.withLock { $0 += 2 }
        await server.stop()
        let restarted = try await RunningServer.start(ledgerPath: path, configure: configure)
        defer { Task { await restarted.stop() } }
        let reused = try await restarted.call(
            "POST", "/v1/ingest/batch", body: two, headers: ["Idempotency-Key": "k"])
        #expect(reused.status == 202)
        #expect(reused.body.json("accepted") == "1")
        // The events themselves are still deduplicated by the meter (its own window, max_age).
        let resent = try await restarted.call(
            "POST", "/v1/ingest/batch", body: one, headers: ["Idempotency-Key": "k-again"])
        #expect(resent.body.json("results.0.reason") == "duplicate")
    }

    @Test(arguments: [
        ServerFixtures.event("p1", extra: #","properties":{"user":"u1","region":"eu"}"#),
        #"{"properties":{"user":"u1"},"event_id":"p2","tenant_id":"acme-co","customer_id":"acme","metric":"api_calls","quantity":"2.50","timestamp":"2026-01-10T00:00:00.125Z","source":"kong","received_at":"2026-01-10T00:00:01Z"}"#,
        #"{ "event_id" : "p3", "properties" : { } , "tenant_id":"acme-co","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":1768003200000,"source":"kong"}"#,
        ServerFixtures.event("p4", receivedAt: nil),
        ServerFixtures.event("p5", extra: #","properties":{"user":"u1","user":"u2"}"#),
        ServerFixtures.event("p6", extra: #","properties":{"user":7}"#),
        ServerFixtures.event("p7", extra: #","properties":{"us\u0065r":"x"}"#),
        ServerFixtures.event("p8", tenant: "other-co"),
        ServerFixtures.event("p9", extra: #","properties":{"a":{"b":"c"}}"#),
    ])
    func theByteLevelDecoderAgreesWithTheTreeOrStepsAside(event: String) throws {
        let decoder = RequestDecoder(
            limits: RequestLimits(), principal: Principal(tenant: "acme-co", mode: .test, id: "t"),
            now: Instant(millisecondsSinceEpoch: 1_768_003_300_000))
        for body in [ServerFixtures.batch([event]), ServerFixtures.batch([ServerFixtures.event("x0"), event, event])] {
            let tree = Result { () throws(APIError) in try decoder.treeBatch(Array(body.utf8)) }
            guard let flat = FlatBatch.items(Array(body.utf8), decoder: decoder) else { continue }
            let items = try tree.get()
            #expect(flat.map(\.event) == items.map(\.event))
            #expect(flat.map(\.receivedAt) == items.map(\.receivedAt))
        }
    }

    @Test func theByteLevelDecoderTakesFlatEventsWithProperties() {
        let decoder = RequestDecoder(
            limits: RequestLimits(), principal: Principal(tenant: "acme-co", mode: .test, id: "t"),
            now: Instant(millisecondsSinceEpoch: 0))
        let body = ServerFixtures.batch([
            ServerFixtures.event("p1", extra: #","properties":{"user":"u1","region":"eu"}"#),
            ServerFixtures.event("p2"),
        ])
        let items = FlatBatch.items(Array(body.utf8), decoder: decoder)
        #expect(items?.count == 2)
        #expect(items?.first?.event.properties["user"] == "u1")
        #expect(items?.first?.event.properties["region"] == "eu")
        #expect(items?.last?.event.properties.isEmpty == true)
    }
}
