import TallyPipeline
import Testing

@testable import TallySandbox

@Suite("The gateway in front of a run: what is a request, and the counts")
struct RequestPathRunTests {
    static func scenario(plan: String, metricCost: String, faults: String) throws -> Scenario {
        try ScenarioLoader.load(
            yaml: """
                name: gateway-run
                seed: 5
                start: 2026-01-01T00:00:00Z
                currency: USD
                metrics:
                  - { key: api_calls, aggregation: count\(metricCost) }
                plans:
                  - id: basic
                \(plan)
                    charges:
                      - { name: Calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                customers:
                  - { id: acme, plan: basic }
                traffic:
                  - { metric: api_calls, customers: [acme], events: 1000, arrival: uniform }
                faults:
                \(faults)
                """, file: "gateway-run.yaml")
    }

    @Test("re-sends and malformed JSON go to metering without a decision")
    func resendsAreNotRequests() throws {
        // A zero cost puts a gateway in front and refuses nothing. 1,000 generated events, 10 of them
        // made malformed (not requests), 50 re-sent (not requests): 1,000 - 10 = 990 requests decided,
        // 1,000 + 50 = 1,050 events metered: 990 accepted, 10 schema_invalid, 50 duplicate.
        let run = try ScenarioRunner.run(
            Self.scenario(
                plan: "    margin_guard: { warn_below: 20% }", metricCost: ", cost: 0",
                faults: "  - { kind: malformed, count: 10 }\n  - { kind: duplicate, count: 50 }"))
        let requests = try #require(run.requests)
        #expect(requests.counts.requests == 990 && requests.counts.refused == 0)
        #expect(run.counts.received == 1_050 && run.counts.accepted == 990)
        #expect(run.counts.count(.schemaInvalid) == 10 && run.counts.count(.duplicate) == 50)
    }

    @Test("a re-send of a refused request is a retry, decided again")
    func retriesOfRefusedRequests() throws {
        // A hard quota of 10 calls at the gateway: requests 1-10 pass, 11-1,000 are refused quota_exceeded.
        // 20 re-sends: one of an allowed request is a plain re-send (metered, rejected duplicate); one of a
        // refused request had no usage event, so it is a retry (refused again: used stays 10).
        // With r retries: requests = 1,000 + r, refused = 990 + r, duplicates = 20 - r,
        // and 1,020 sent = refused + metered = (990 + r) + (10 + 20 - r).
        let run = try ScenarioRunner.run(
            Self.scenario(
                plan: "    quota: { api_calls: { limit: 10, hard: true } }\n    spike_arrest: { rate: 1000000/s }",
                metricCost: "",
                faults: "  - { kind: duplicate, count: 20 }"))
        let requests = try #require(run.requests)
        let retries = requests.counts.requests - 1_000
        #expect(retries > 0)
        #expect(requests.counts.count(.quotaExceeded) == 990 + retries)
        #expect(run.counts.count(.duplicate) == 20 - retries)
        #expect(run.counts.accepted == 10 && run.counts.count(.quotaExceeded) == 0)
        #expect(requests.counts.refused + run.counts.received == 1_020)
    }

    @Test("with 2 or 3 threads the producer looks requests up, and every decision and invoice is the same as on 1")
    func gatewayOnEveryThreadCount() throws {
        // Calls cost more than they earn ($0.014 against $0.01) above a $5 fee, so both customers pass
        // Margin Guard's levels and end refused; peak's volume charge moves tiers (the revenue floor is
        // dropped); unknown customers are refused by name, malformed events and re-sends skip the gateway.
        let scenario = try ScenarioLoader.load(
            yaml: """
                name: gateway-threads
                seed: 9
                start: 2026-01-01T00:00:00Z
                currency: USD
                metrics:
                  - { key: api_calls, aggregation: count, cost: 0.014 }
                  - { key: peak, aggregation: max }
                plans:
                  - id: basic
                    margin_guard: { warn_below: 20%, throttle_below: 10%, block_below: 0% }
                    charges:
                      - { name: Fee, model: flat, amount: 5 }
                      - { name: Calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                      - name: Peak
                        metric: peak
                        model: volume
                        tiers:
                          - { up_to: 50, unit_price: 0.02 }
                          - { unit_price: 0.01 }
                customers:
                  - { id: acme, plan: basic }
                  - { id: globex, plan: basic }
                traffic:
                  - { metric: api_calls, events: 4000, arrival: uniform }
                  - { metric: peak, events: 1000, quantity: { uniform: [1, 100] }, arrival: poisson }
                faults:
                  - { kind: duplicate, count: 100 }
                  - { kind: unknown_customer, count: 20 }
                  - { kind: malformed, count: 10 }
                """, file: "gateway-threads.yaml")
        let one = try ScenarioRunner.run(scenario, threads: 1)
        let requests = try #require(one.requests)
        #expect(requests.counts.count(.marginBlocked) > 0 && requests.counts.count(.unknownCustomer) == 20)
        #expect(requests.counts.marginWarnings > 0 && requests.counts.throttled > 0)
        for threads in [2, 3] {
            let other = try ScenarioRunner.run(scenario, threads: threads)
            #expect(other.requestsJSON == one.requestsJSON, "1 and \(threads) threads differ")
            #expect(other.invoicesJSON == one.invoicesJSON, "1 and \(threads) threads differ")
            #expect(other.rejectionsJSON == one.rejectionsJSON, "1 and \(threads) threads differ")
        }
    }

    @Test("plans in force across an upgrade, a free trial and two subscriptions: alike on 1, 2 and 3 threads")
    func plansInForceOnEveryThreadCount() throws {
        // Scenarios/request-path-plan-changes.yaml, worked by hand in its header: 32 requests, 6 refused.
        let scenario = try Repository.load("request-path-plan-changes.yaml")
        let one = try ScenarioRunner.run(scenario, threads: 1)
        let requests = try #require(one.requests)
        #expect(requests.counts.count(.quotaExceeded) == 5 && requests.counts.count(.spikeArrested) == 1)
        #expect(requests.counts.requests == 32 && one.counts.accepted == 26)
        for threads in [2, 3] {
            let other = try ScenarioRunner.run(scenario, threads: threads)
            #expect(other.requestsJSON == one.requestsJSON, "1 and \(threads) threads differ")
            #expect(other.invoicesJSON == one.invoicesJSON, "1 and \(threads) threads differ")
            #expect(other.rejectionsJSON == one.rejectionsJSON, "1 and \(threads) threads differ")
        }
    }

    @Test("a scenario without request-path keys has no gateway")
    func noGatewayWithoutKeys() throws {
        let run = try ScenarioRunner.run(
            Self.scenario(plan: "", metricCost: "", faults: "  - { kind: duplicate, count: 5 }"))
        #expect(run.requests == nil && run.requestsJSON == nil)
        #expect(run.counts.received == 1_005)
    }
}
