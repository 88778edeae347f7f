import TallyPipeline
import Testing

@testable import TallySandbox

@Suite("Delivery models: batches, lags, outages and retried flushes, and the reconciliation")
struct DeliveryTests {
    /// One day of 1,440 uniform arrivals for acme: event i is served in minute i.
    static func scenario(delivery: String, faults: String = "", extra: String = "") throws -> Scenario {
        try ScenarioLoader.load(
            yaml: """
                name: delivery-test
                seed: 24
                start: 2026-03-01T00:00:00Z
                period_length: 1d
                currency: USD
                ingest: { max_age: 2h, late_after: 30m }
                metrics:
                  - { key: api_calls, aggregation: count }
                plans:
                  - id: payg
                    charges:
                      - { name: Calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                customers:
                  - { id: acme, plan: payg }
                traffic:
                  - { metric: api_calls, customers: [acme], events: 1440, delivery: \(delivery) }
                \(faults)
                \(extra)
                """, file: "delivery-test.yaml")
    }

    @Test("delivery: {} on SDK traffic sends each event at once, as without it, and reconciles")
    func defaultsChangeNothing() throws {
        // Batch 1, no lag: each event is received at its time, as without delivery:.
        // 1,440 served, 1,440 metered: 14.40.
        let run = try ScenarioRunner.run(Self.scenario(delivery: "{}"))
        var plain = try Self.scenario(delivery: "{}")
        plain.traffic[0].delivery = nil
        let without = try ScenarioRunner.run(plain)
        #expect(run.invoicesJSON == without.invoicesJSON && run.rejectionsJSON == without.rejectionsJSON)
        let total = try #require(run.reconciliation).total
        #expect(total.served == 1_440 && total.metered == 1_440 && total.delta == 0 && total.isBalanced)
        #expect(without.reconciliation == nil)
    }

    @Test("an outage without spill-to-disk loses the batches flushed in it")
    func outageLoses() throws {
        // Batches of 10 within 15 min are always full: batch k is events 10k..10k+9, flushed in
        // minute 10k+9. Outage 02:00-03:00 (minutes 120..179): k = 12..17, 6 batches, 60 events lost.
        // 1,440 - 60 = 1,380 metered: 13.80.
        for threads in [1, 2, 4] {
            let run = try ScenarioRunner.run(
                Self.scenario(
                    delivery: """
                        { batch: 10, flush: 15m, lag: 2s..5s, spill_to_disk: false,
                          outages: [{ from: 2026-03-01T02:00:00Z, to: 2026-03-01T03:00:00Z }] }
                        """), threads: threads)
            let line = try #require(run.reconciliation?.customers["acme"])
            #expect(line.served == 1_440 && line.lostInDelivery == 60 && line.metered == 1_380 && line.delta == 60)
            #expect(run.counts.received == 1_380 && run.counts.late == 0)
            #expect(run.invoices.first?.total == ExactDecimal("13.80"))
        }
    }

    @Test("a failed flush is re-sent whole when retried, and once only when not")
    func failedFlushes() throws {
        // Flushes in 06:00-06:30 lose their reply: k = 36, 37, 38 (minutes 369, 379, 389), 3 batches.
        // Retried: 30 copies, 30 duplicates, 1,440 metered. Not retried: received once, nothing more.
        let window = "failed_flushes: [{ from: 2026-03-01T06:00:00Z, to: 2026-03-01T06:30:00Z }]"
        let retried = try ScenarioRunner.run(
            Self.scenario(delivery: "{ batch: 10, flush: 15m, retry_failed_batches: true, \(window) }"))
        let line = try #require(retried.reconciliation?.total)
        #expect(line.resent == 30 && line.deduplicated == 30 && line.metered == 1_440 && line.delta == 0)
        #expect(retried.counts.count(.duplicate) == 30)
        let once = try ScenarioRunner.run(
            Self.scenario(delivery: "{ batch: 10, flush: 15m, retry_failed_batches: false, \(window) }"))
        #expect(once.reconciliation?.total.resent == 0 && once.counts.received == 1_440)
    }

    @Test("an outage spilled to disk is delivered when it ends: late, or too old")
    func spillToDisk() throws {
        // One event per batch, no lag; outage 08:00-12:00 spilled: events 480..719 received at 12:00.
        // Served before 10:00 (480..599): older than 2h, 120 too old. 10:00 to 11:30 (600..689): 90 late.
        // 1,440 - 120 = 1,320 metered: 13.20.
        let run = try ScenarioRunner.run(
            Self.scenario(
                delivery: """
                    { batch: 1, flush: 0s, lag: 0s, spill_to_disk: true,
                      outages: [{ from: 2026-03-01T08:00:00Z, to: 2026-03-01T12:00:00Z }] }
                    """))
        #expect(run.counts.count(.timestampTooOld) == 120 && run.counts.late == 90 && run.counts.accepted == 1_320)
        let line = try #require(run.reconciliation?.total)
        #expect(line.rejected == 120 && line.lostInDelivery == 0 && line.delta == 120)
    }

    @Test("a duplicate planned for an event lost in delivery is lost with it")
    func duplicatesOfLostEvents() throws {
        // 60 events lost as in outageLoses; 100 re-sends: those of lost events (c of them) are lost too.
        // resent 100 = c lost + (100 - c) deduplicated; lost 60 + c; metered 1,380.
        let run = try ScenarioRunner.run(
            Self.scenario(
                delivery: """
                    { batch: 10, flush: 15m, outages: [{ from: 2026-03-01T02:00:00Z, to: 2026-03-01T03:00:00Z }] }
                    """, faults: "faults:\n  - { kind: duplicate, count: 100 }"))
        let line = try #require(run.reconciliation?.total)
        let lostCopies = line.lostInDelivery - 60
        #expect(line.served == 1_440 && line.resent == 100 && line.metered == 1_380)
        #expect(line.deduplicated == 100 - lostCopies && line.isBalanced)
    }

    @Test("expect: reconciliation is checked")
    func expectations() throws {
        let run = try ScenarioRunner.run(
            Self.scenario(
                delivery: "{}",
                extra: "expect:\n  reconciliation: { served: 1440, delta: 1, customers: { acme: { metered: 7 } } }"))
        #expect(
            run.expectationFailures == [
                "expected reconciliation delta 1, got 0", "expected acme's reconciliation metered 7, got 1440",
            ])
    }

    @Test("bad delivery settings are refused where they are written")
    func refusals() {
        func problem(_ delivery: String, extra: String = "") -> String {
            do {
                _ = try Self.scenario(delivery: delivery, extra: extra)
                return "loaded"
            } catch { return "\(error)" }
        }
        #expect(problem("{ lag: 5s..2s }").contains("delivery.lag must be a duration or a range"))
        #expect(problem("{ batch: 0 }").contains("delivery.batch"))
        #expect(
            problem("{ outages: [{ from: 2026-03-01T03:00:00Z, to: 2026-03-01T02:00:00Z }] }")
                .contains("from must be before to"))
        #expect(problem("{ flushes: 3 }").contains("flushes"))
        #expect(
            problem("{}", extra: "entitlement_cache: { refresh: 10s }").contains("cannot yet be combined"))
    }
}
