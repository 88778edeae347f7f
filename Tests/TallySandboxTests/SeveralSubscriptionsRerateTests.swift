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
}
