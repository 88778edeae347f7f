import TallyPipeline
import Testing

@testable import TallyLedger

/// `tally rerate` over recurring metrics and prorated charges: the ledger's events are metered again
/// under the other catalog, which decides what carries and what is prorated.
@Suite("Rerating seats")
struct RerateSeatsTests {
    /// Seats from January: +3 on Jan 1, +2 on Jan 16 12:00; two months (January 31 days, February 28).
    static func scenario(prorated: Bool, unitPrice: String) -> String {
        """
        name: seats
        seed: 1
        start: 2026-01-01T00:00:00Z
        periods: 2
        currency: USD
        metrics:
          - { key: seats, aggregation: sum, recurring: true }
        plans:
          - id: team
            charges:
              - { name: Seats, metric: seats, model: per_unit, unit_price: \(unitPrice), prorated: \(prorated) }
        customers:
          - { id: acme, plan: team }
        events:
          - { id: a1, customer: acme, metric: seats, quantity: 3, at: 2026-01-01T00:00:00Z }
          - { id: a2, customer: acme, metric: seats, quantity: 2, at: 2026-01-16T12:00:00Z }
        """
    }

    @Test func reratingFullSeatsAsProratedGivesTheHandComputedDifference() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("seats.db").path
        try LedgerFixtures.record(Self.scenario(prorated: false, unitPrice: "8"), into: path)
        let report = try Rerating.run(
            try Ledger(path: path), plansYAML: Self.scenario(prorated: true, unitPrice: "10"), file: "prorated.yaml",
            load: LedgerFixtures.terms, loadPlans: LedgerFixtures.plans)
        // Recorded, level at each period's end x 8: January 5 x 8 = 40.00, February (carried) 40.00 -> 80.00.
        // Re-rated, prorated at 10: January (3 x 31 + 2 x 16 days) x 10 / 31 = 1,250 / 31 = 40.322.. -> 40.32
        // (Jan 16 12:00 to Feb 1 is 15.5 days -> 16); February 5 x 28 x 10 / 28 = 50.00 -> 90.32.
        let usd = try #require(Currency(code: "USD"))
        #expect(report.lines.map { usd.format($0.old) } == ["80.00"])
        #expect(report.lines.map { usd.format($0.new) } == ["90.32"])
        #expect(usd.format(report.total.difference) == "10.32")
        #expect(report.notAccepted.isEmpty)
    }
}
