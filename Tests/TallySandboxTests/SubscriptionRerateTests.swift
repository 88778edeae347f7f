import Foundation
import TallyJSON
import Testing

@Suite("tally rerate over fees in advance, trials and plan changes")
struct SubscriptionRerateTests {
    @Test("rerate bills the recorded plan changes under plans with fees in advance and a trial")
    func rerateOverPlanChanges() throws {
        let plans = """
            plans:
              - id: basic
                charges:
                  - { name: Subscription, model: flat, amount: 10, billed: in_advance }
              - id: premium
                charges:
                  - { name: Subscription, model: flat, amount: 30, billed: in_advance }
              - id: plan-a
                trial: 14d
                charges:
                  - { name: Base fee, model: flat, amount: 100, billed: in_advance }
              - id: plan-b
                charges:
                  - { name: Base fee, model: flat, amount: 200 }

            """
        guard let new = try CLITests().rerateTotals("subscription-plan-changes", plans: plans) else { return }
        // stripe: Jan-Apr 4 x 10.00 in advance; the Apr 16 upgrade: -(10 x 15/30) + 30 x 15/30 = -5 + 15 = 10.00.
        #expect(new["stripe"] == .string("50.00"))
        // cancel-now on premium at 30: 30.00 + 30.00, then -(30 x 14/28) = -15.00 for February's unused days.
        #expect(new["cancel-now"] == .string("45.00"))
        // cancel-end on plan-a (trial to Jan 15, then 100 in advance): 100 x 17/31 = 54.838... -> 54.84,
        // then Feb and Mar 100.00 each; cancelled at the end of March.
        #expect(new["cancel-end"] == .string("254.84"))
        // lago-up: plan-a's trial covers its whole phase (to the Jan 15 upgrade), so January is plan-b's
        // 17 days, 200 x 17/31 = 109.677... -> 109.68; then 3 x 200.00.
        #expect(new["lago-up"] == .string("709.68"))
    }

    @Test("rerate bills each customer on its recorded anchor, its own periods")
    func rerateOverAnniversaryAnchors() throws {
        // pro's fee doubles, 30.00 to 60.00; basic and advance stay as recorded.
        let plans = """
            plans:
              - id: pro
                charges:
                  - { name: Base fee, model: flat, amount: 60 }
                  - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.10 }
              - id: basic
                charges:
                  - { name: Base fee, model: flat, amount: 10 }
                  - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.20 }
              - id: advance
                charges:
                  - { name: Base fee, model: flat, amount: 30, billed: in_advance }
                  - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.10 }

            """
        guard let new = try CLITests().rerateTotals("subscription-anniversary", plans: plans) else { return }
        // mid-month (from Jan 15) is on pro only in its own first period, Jan 15 - Feb 15 (its Feb 1
        // downgrade waits for Feb 15): 30.20 + 30.00 = 60.20, then basic's 10.20 and 10.40: 80.80.
        #expect(new["mid-month"] == .string("80.80"))
        // late-joiner (from Feb 10) has two periods of its own, Feb 10 and Mar 10: 60.10 + 2 x 30 = 120.10.
        #expect(new["late-joiner"] == .string("120.10"))
        // month-end (Jan 31, Feb 28, Mar 31): 90.40 + 3 x 30 = 180.40; trial-adv is on advance: 76.65.
        #expect(new["month-end"] == .string("180.40"))
        #expect(new["trial-adv"] == .string("76.65"))
    }
}
