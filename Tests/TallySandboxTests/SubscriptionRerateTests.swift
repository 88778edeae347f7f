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
}
