import Foundation
import TallyJSON
import Testing

@Suite("tally rerate over usage split at plan changes and free trial usage")
struct UsageSplitRerateTests {
    @Test("rerate splits the recorded usage at the recorded plan changes, under the new plans' tiers")
    func rerateSplitsUsage() throws {
        guard
            let new = try CLITests().rerateTotals(
                "subscription-usage-split",
                plans: """
                    plans:
                      - id: starter
                        charges:
                          - { name: Base fee, model: flat, amount: 10 }
                          - { name: API calls, metric: api_calls, model: graduated, tiers: [{ up_to: 100, unit_price: 0 }, { unit_price: 0.20 }] }
                      - id: pro
                        charges:
                          - { name: Base fee, model: flat, amount: 31 }
                          - { name: API calls, metric: api_calls, model: graduated, tiers: [{ up_to: 500, unit_price: 0 }, { unit_price: 0.05 }] }

                    """)
        else { return }
        // up, Jan: starter 10 x 10/31 = 3.23 + (150 - 100) x 0.20 = 10.00; pro 31 x 21/31 = 21.00
        // + (1,200 - 500) x 0.05 = 35.00 -> 69.23; Feb: 31.00 + 300 calls, included -> 31.00. 100.23.
        #expect(new["up"] == .string("100.23"))
        // down-now, Jan: pro 20.00 + 500 included 0.00; starter 3.55 + 50 x 0.20 = 10.00 -> 33.55; Feb 10.00.
        #expect(new["down-now"] == .string("43.55"))
        // boundary: Jan 10 + 50 x 0.20 = 20.00; Feb 31 + 700 x 0.05 = 66.00. 86.00.
        #expect(new["boundary"] == .string("86.00"))
        // cancel-now: 10 x 15/31 = 4.84 + 50 x 0.20 = 10.00; the 400 calls after the cancellation on no invoice.
        #expect(new["cancel-now"] == .string("14.84"))
    }

    @Test("rerate under a plan whose trial usage is billed bills what the recorded plan left free")
    func rerateBillsTrialUsage() throws {
        guard
            let new = try CLITests().rerateTotals(
                "subscription-trial-usage",
                plans: """
                    plans:
                      - id: trialing
                        trial: 14d
                        trial_usage: billed
                        charges:
                          - { name: Base fee, model: flat, amount: 31 }
                          - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.02 }

                    """)
        else { return }
        // free and billed: Jan 31 x 17/31 = 17.00 + 1,500 x 0.02 = 30.00 -> 47.00; Feb 31.00. 78.00.
        #expect(new["free"] == .string("78.00"))
        #expect(new["billed"] == .string("78.00"))
        // long (45d trial): Jan 0.00 + 100 x 0.02 = 2.00; Feb 31 x 14/28 = 15.50 + 250 x 0.02 = 5.00. 22.50.
        #expect(new["long"] == .string("22.50"))
    }
}

extension CLITests {
    /// Records `scenario` in a ledger, rerates it under `plans`, and returns each customer's new total
    /// (nil when there is no `tally` to run).
    func rerateTotals(_ scenario: String, plans: String) throws -> [String: JSONValue]? {
        let folder = try project()
        defer { try? FileManager.default.removeItem(at: folder) }
        try copyScenario(scenario, into: folder)
        try plans.write(to: folder.appendingPathComponent("plans.yaml"), atomically: true, encoding: .utf8)
        guard
            let recorded = try tally(["run", "Scenarios/\(scenario).yaml", "--ledger", "run.db"], in: folder),
            let rerated = try tally(["rerate", "run.db", "--plans", "plans.yaml", "--json"], in: folder)
        else { return nil }
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(rerated.status == 0, "\(rerated.stderr)")
        guard case .object(let report) = try JSONValue.parse(rerated.stdout),
            case .array(let lines)? = report["customers"]
        else {
            Issue.record("no customers in \(rerated.stdout)")
            return [:]
        }
        var new: [String: JSONValue] = [:]
        for case .object(let line) in lines {
            if case .string(let customer)? = line["customer"] { new[customer] = line["new"] }
        }
        return new
    }
}
