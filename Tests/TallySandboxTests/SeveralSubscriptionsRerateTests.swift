import Foundation
import TallyJSON
import Testing

@Suite("tally rerate over customers with several subscriptions")
struct SeveralSubscriptionsRerateTests {
    @Test("rerate bills each subscription under its new plan, on one invoice per period")
    func rerateTwoProducts() throws {
        guard
            let new = try CLITests().rerateTotals(
                "subscriptions-two-products",
                plans: """
                    plans:
                      - id: api-starter
                        minimum_commitment: 30
                        charges:
                          - { name: Base fee, model: flat, amount: 20 }
                          - { name: API calls, metric: api_calls, model: graduated, tiers: [{ up_to: 1000, unit_price: 0 }, { unit_price: 0.01 }] }
                      - id: api-pro
                        charges:
                          - { name: Base fee, model: flat, amount: 62 }
                          - { name: API calls, metric: api_calls, model: graduated, tiers: [{ up_to: 10000, unit_price: 0 }, { unit_price: 0.005 }] }
                      - id: support
                        charges:
                          - { name: Support, model: flat, amount: 62 }
                          - { name: Tickets, metric: tickets, model: per_unit, unit_price: 4.00 }

                    """)
        else { return }
        // support doubled (62 a month, 4.00 a ticket); the api plans, discount and tax as recorded.
        // acme, Jan: 6.45 + 5.00 + 42.00 + 10.00 + Support 62 x 15/31 = 30.00 + Tickets 2 x 4 = 8.00 = 101.45;
        //   Support launch 3.00 + 0.80 = 3.80; tax 0.65 + 0.50 + 4.20 + 1.00 + 2.70 + 0.72 = 9.77 -> 107.42.
        // acme, Feb: 62 + 0 + 62 + 4 = 128.00; discount 6.20 + 0.40 = 6.60;
        //   tax 6.20 + 0 + 5.58 + 0.36 = 12.14 -> 133.54. In all 240.96.
        #expect(new["acme"] == .string("240.96"))
        // globex, Jan: 20 + 0 + true-up 10 + 62 + 3 x 4 = 12 -> 104.00 - 6.20 - 1.20 = 96.60;
        //   Feb: 20 + 15 + 62 x 14/28 = 31.00 + 0 -> 66.00 - 3.10 = 62.90. In all 159.50.
        #expect(new["globex"] == .string("159.50"))
        // initech: (62 - 6.20) x 2 = 111.60.
        #expect(new["initech"] == .string("111.60"))
    }

    @Test("rerate bills fees in advance on several subscriptions, an in-advance invoice per issue instant")
    func rerateInAdvance() throws {
        guard
            let new = try CLITests().rerateTotals(
                "subscriptions-in-advance",
                plans: """
                    plans:
                      - id: platform
                        minimum_commitment: 20
                        charges:
                          - { name: Platform fee, model: flat, amount: 30, billed: in_advance }
                          - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                      - id: seats
                        charges:
                          - { name: Seats, model: flat, amount: 90, billed: in_advance }
                      - id: seats-plus
                        charges:
                          - { name: Seats, model: flat, amount: 93, billed: in_advance }
                      - id: storage
                        charges:
                          - { name: Storage, model: flat, amount: 30, billed: in_advance }
                      - id: support
                        charges:
                          - { name: Support, model: flat, amount: 31 }
                          - { name: Tickets, metric: tickets, model: per_unit, unit_price: 2.00 }

                    """)
        else { return }
        // seats now 90 in advance (was 60); the rest as recorded (Scenarios/subscriptions-in-advance.yaml).
        // acme: Apr -A 27.50; -A2 Seats 90 x 14/30 = 42.00 + tax 4.20 = 46.20; arrears 60.50;
        //   May -A 30 + 90 = 120.00 + tax 12.00 = 132.00; arrears 67.10. In all 333.30.
        #expect(new["acme"] == .string("333.30"))
        // globex: Apr -A 90.00, -A2 16.00, arrears 25.00; May -A 120.00; arrears: the upgrade to seats-plus is still
        //   one (93 >= 90): 10.00 + 10.00 - (90 x 21/31 = 60.967... -> 60.97) + 63.00 = 22.03. In all 273.03.
        #expect(new["globex"] == .string("273.03"))
        // initech: Apr -A 90 + 30 = 120.00, arrears -20.00; May -A 90.00. In all 190.00.
        #expect(new["initech"] == .string("190.00"))
    }

    @Test("rerate bills an anniversary customer with several subscriptions on its own periods")
    func rerateAnniversary() throws {
        guard
            let new = try CLITests().rerateTotals(
                "subscriptions-anniversary",
                plans: """
                    plans:
                      - id: api
                        charges:
                          - { name: Base fee, model: flat, amount: 20 }
                          - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                      - id: api-lite
                        charges:
                          - { name: Base fee, model: flat, amount: 10 }
                          - { name: API calls, metric: api_calls, model: per_unit, unit_price: 0.01 }
                      - id: care
                        charges:
                          - { name: Care, model: flat, amount: 56, billed: in_advance }

                    """)
        else { return }
        // care doubled (56 in advance); the in-arrears figures as recorded (Scenarios/subscriptions-anniversary.yaml).
        // globex (calendar): Jan -A 56 x 16/31 = 28.903... -> 28.90; Feb and Mar -A 56.00 each;
        //   arrears 24.00 + 20.00 + 21.00 = 65.00. In all 205.90.
        #expect(new["globex"] == .string("205.90"))
        // hooli (its own periods from Feb 10): P1 -A 56 x 18/28 = 36.00, P2 -A 56.00; arrears 27.00 + 23.00.
        //   In all 142.00.
        #expect(new["hooli"] == .string("142.00"))
    }
}
