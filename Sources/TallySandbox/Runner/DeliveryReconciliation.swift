import Foundation
import TallyJSON
import TallyPipeline

/// Requests the gateway served against events metered, per customer, with the causes of the difference.
///
/// Made for a scenario whose traffic uses `delivery:` (see Docs/Semantics.md, "Delivery"). Every line
/// adds up: `served + resent = lost_in_delivery + refused + metered + deduplicated + rejected + dead_lettered`.
public struct DeliveryReconciliation: Sendable, Hashable {
    /// One customer's figures, or the run's.
    public struct Line: Sendable, Hashable {
        /// Requests the gateway served: every item sent once, re-sends not counted.
        public var served = 0
        /// Copies sent again: duplicate faults' re-sends and failed flushes' retries.
        public var resent = 0
        /// Served but never received: flushed into an outage without spill-to-disk.
        public var lostInDelivery = 0
        /// Refused at the gateway's request path.
        public var refused = 0
        /// Accepted by the meter.
        public var metered = 0
        /// Rejected as duplicates.
        public var deduplicated = 0
        /// Rejected for any other reason (too old, in the future, over quota).
        public var rejected = 0
        public var deadLettered = 0

        public init() {}

        /// Requests served but not metered: positive when usage went unbilled.
        public var delta: Int { served - metered }

        /// Whether every request and copy ended in exactly one counted outcome.
        public var isBalanced: Bool {
            served + resent == lostInDelivery + refused + metered + deduplicated + rejected + deadLettered
        }

        static func + (a: Line, b: Line) -> Line {
            var sum = a
            sum.served += b.served
            sum.resent += b.resent
            sum.lostInDelivery += b.lostInDelivery
            sum.refused += b.refused
            sum.metered += b.metered
            sum.deduplicated += b.deduplicated
            sum.rejected += b.rejected
            sum.deadLettered += b.deadLettered
            return sum
        }

        /// Counts what the meter did with one item.
        mutating func count(_ outcome: MeteringOutcome, resent isCopy: Bool) {
            countSent(resent: isCopy)
            switch outcome {
            case .accepted: metered += 1
            case .rejected(.duplicate): deduplicated += 1
            case .rejected: rejected += 1
            case .deadLettered: deadLettered += 1
            }
        }

        /// Counts a request the gateway refused, which never became an event.
        mutating func countRefused(resent isCopy: Bool) {
            countSent(resent: isCopy)
            refused += 1
        }

        private mutating func countSent(resent isCopy: Bool) {
            if isCopy { resent += 1 } else { served += 1 }
        }

        /// The figures by name, in the order reports show them.
        public var fields: [(name: String, value: Int)] {
            [
                ("served", served), ("resent", resent), ("lost_in_delivery", lostInDelivery), ("refused", refused),
                ("deduplicated", deduplicated), ("rejected", rejected), ("dead_lettered", deadLettered),
                ("metered", metered), ("delta", delta),
            ]
        }
    }

    /// By customer id; events whose customer could not be read are under "".
    public var customers: [String: Line] = [:]

    public init() {}

    /// The whole run's figures.
    public var total: Line { customers.keys.sorted().reduce(Line()) { $0 + (customers[$1] ?? Line()) } }

    /// One line: `served 2,000, metered 1,700, delta 300 (lost in delivery 300...)`.
    public var summary: String {
        let t = total
        let causes = t.fields.filter { !["served", "metered", "delta"].contains($0.name) && $0.value > 0 }
            .map { "\($0.name.replacingOccurrences(of: "_", with: " ")) \($0.value)" }
        return "reconciliation: served \(t.served), metered \(t.metered), delta \(t.delta)"
            + (causes.isEmpty ? "" : " (\(causes.joined(separator: ", ")))")
    }

    /// `Fixtures/<name>/reconciliation.json`.
    func json(scenario: String) -> JSONValue {
        func line(_ line: Line) -> [(String, JSONValue)] { line.fields.map { ($0.name, .number(String($0.value))) } }
        let rows: [JSONValue] = customers.keys.sorted().map { id in
            InvoicesDocument.object([("customer", .string(id))] + line(customers[id] ?? Line()))
        }
        return InvoicesDocument.object([
            ("scenario", .string(scenario)), ("total", InvoicesDocument.object(line(total))),
            ("customers", .array(rows)), ("balanced", .bool(customers.values.allSatisfy(\.isBalanced))),
        ])
    }
}

/// What `delivery:` did out of the meter's sight: events lost in outages and copies re-sent by retries.
///
/// Filled by the merge as it takes each chunk, on whichever thread runs the merge, and read
/// only once the stream is over (the producer thread has then stopped).
final class DeliveryTally: @unchecked Sendable {
    private(set) var lost: [String: Int] = [:]
    private(set) var lostCopies: [String: Int] = [:]
    private(set) var retried = 0

    var lostTotal: Int { lost.values.reduce(0, +) + lostCopies.values.reduce(0, +) }

    func add(_ chunk: ChunkSource.Chunk) {
        for (customer, n) in chunk.lost { lost[customer, default: 0] += n }
        for (customer, n) in chunk.lostCopies { lostCopies[customer, default: 0] += n }
        retried += chunk.retried
    }

    /// Adds the lost events to the customers' lines: a lost event was served, a lost copy was re-sent.
    func apply(to reconciliation: inout DeliveryReconciliation) {
        for (customer, n) in lost {
            reconciliation.customers[customer, default: .init()].served += n
            reconciliation.customers[customer, default: .init()].lostInDelivery += n
        }
        for (customer, n) in lostCopies {
            reconciliation.customers[customer, default: .init()].resent += n
            reconciliation.customers[customer, default: .init()].lostInDelivery += n
        }
    }
}

extension ExpectationCheck {
    /// The `expect: reconciliation:` checks.
    static func failures(scenario: Scenario, reconciliation: DeliveryReconciliation) -> [String] {
        let expected = scenario.expectations
        var failures: [String] = []
        func compare(_ want: [String: Int], _ got: DeliveryReconciliation.Line, _ whose: String) {
            for field in got.fields {
                guard let value = want[field.name], value != field.value else { continue }
                failures.append("expected \(whose)reconciliation \(field.name) \(value), got \(field.value)")
            }
        }
        compare(expected.reconciliation, reconciliation.total, "")
        for customer in expected.reconciliationByCustomer.keys.sorted() {
            compare(
                expected.reconciliationByCustomer[customer] ?? [:], reconciliation.customers[customer] ?? .init(),
                "\(customer)'s ")
        }
        return failures
    }
}
