import Foundation
import TallyJSON

/// How one invoice's money moved between the golden file and a run.
public struct MoneyDifference: Sendable, Equatable {
    /// A line of the invoice whose amount moved, appeared or disappeared.
    public struct Line: Sendable, Equatable {
        public var name: String
        /// nil when the golden invoice has no such line.
        public var expected: String?
        /// nil when the run's invoice has no such line.
        public var actual: String?
    }

    public var customer: String
    /// The period's first day, `YYYY-MM-DD`.
    public var period: String
    /// The golden invoice's total; nil when the golden file has no invoice for this customer and period.
    public var expectedTotal: String?
    /// The run's invoice total; nil when the run made no invoice for this customer and period.
    public var actualTotal: String?
    public var expectedAmountDue: String?
    public var actualAmountDue: String?
    /// The lines that moved, in the golden invoice's order, then lines only the run has.
    public var lines: [Line]

    /// One sentence: `acme period 2026-01-01: total expected 144.00, actual 150.00`.
    public var summary: String {
        let where_ = "\(customer) period \(period)"
        switch (expectedTotal, actualTotal) {
        case (let e?, let a?):
            var text = "\(where_): total expected \(e), actual \(a)"
            if expectedAmountDue != actualAmountDue, let ed = expectedAmountDue, let ad = actualAmountDue {
                text += "; amount due expected \(ed), actual \(ad)"
            }
            return text
        case (let e?, nil): return "\(where_): invoice expected (total \(e)), missing"
        case (nil, let a?): return "\(where_): invoice not expected, got one (total \(a))"
        case (nil, nil): return where_
        }
    }
}

/// The money summary of a golden diff: per customer and period, the totals and lines that moved.
///
/// It reads two `invoices.json` documents, so it serves the run's diff on the terminal and the
/// HTML report alike. Invoices are matched by customer and period, lines by name.
public enum MoneyDiff {
    /// The invoices whose total, amount due or line amounts differ, in the golden file's order,
    /// then invoices only the run has.
    public static func differences(expected: JSONValue, actual: JSONValue) -> [MoneyDifference] {
        let expectedInvoices = invoices(expected)
        let actualInvoices = invoices(actual)
        var found: [MoneyDifference] = []
        for invoice in expectedInvoices {
            let other = actualInvoices.first { $0.key == invoice.key }
            if let difference = compare(invoice, other) { found.append(difference) }
        }
        for invoice in actualInvoices where !expectedInvoices.contains(where: { $0.key == invoice.key }) {
            if let difference = compare(nil, invoice) { found.append(difference) }
        }
        return found
    }

    /// The money of one invoice, read from its JSON.
    struct InvoiceMoney {
        var customer: String
        var period: String
        var total: String
        var amountDue: String
        var lines: [(name: String, amount: String)]
        var key: String { "\(customer)\u{0}\(period)" }
    }

    static func invoices(_ document: JSONValue) -> [InvoiceMoney] {
        guard case .object(let root) = document, case .array(let items)? = root["invoices"] else { return [] }
        return items.compactMap { item -> InvoiceMoney? in
            guard case .object(let invoice) = item, case .string(let customer)? = invoice["customer"],
                case .object(let period)? = invoice["period"], case .string(let start)? = period["start"]
            else { return nil }
            var lines: [(name: String, amount: String)] = []
            var seen: [String: Int] = [:]
            if case .array(let items)? = invoice["lines"] {
                for case .object(let line) in items {
                    guard case .string(let name)? = line["name"] else { continue }
                    seen[name, default: 0] += 1
                    let label = seen[name, default: 1] > 1 ? "\(name) #\(seen[name, default: 1])" : name
                    lines.append((label, text(line["amount"])))
                }
            }
            // A period's in-advance invoice is told apart from its in-arrears one, and a customer with several
            // subscriptions may have more than one (`-A2`, `-A3`...), told apart by the number's ordinal.
            var advance = invoice["billed"] == .string("in_advance") ? " (in advance)" : ""
            if !advance.isEmpty, case .string(let number)? = invoice["number"],
                let ordinal = number.split(separator: "-").last.flatMap({ Int($0.dropFirst()) })
            {
                advance = " (in advance \(ordinal))"
            }
            return InvoiceMoney(
                customer: customer, period: String(start.prefix(10)) + advance, total: text(invoice["total"]),
                amountDue: text(invoice["amount_due"]), lines: lines)
        }
    }

    static func compare(_ expected: InvoiceMoney?, _ actual: InvoiceMoney?) -> MoneyDifference? {
        guard let any = expected ?? actual else { return nil }
        var lines: [MoneyDifference.Line] = []
        let expectedLines = expected?.lines ?? []
        let actualLines = actual?.lines ?? []
        for line in expectedLines {
            let other = actualLines.first { $0.name == line.name }?.amount
            if other != line.amount { lines.append(.init(name: line.name, expected: line.amount, actual: other)) }
        }
        for line in actualLines where !expectedLines.contains(where: { $0.name == line.name }) {
            lines.append(.init(name: line.name, expected: nil, actual: line.amount))
        }
        let same = expected?.total == actual?.total && expected?.amountDue == actual?.amountDue && lines.isEmpty
        if same { return nil }
        return MoneyDifference(
            customer: any.customer, period: any.period, expectedTotal: expected?.total,
            actualTotal: actual?.total, expectedAmountDue: expected?.amountDue,
            actualAmountDue: actual?.amountDue, lines: lines)
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?, .number(let text)?: text
        default: ""
        }
    }
}

extension GoldenFiles {
    /// The money that moved between the golden `invoices.json` and the run; empty when the
    /// golden file is missing or unreadable (``compare(_:limit:)`` says so).
    public func moneyDifferences(_ run: ScenarioRun) -> [MoneyDifference] {
        let url = folder(run.scenario.name).appendingPathComponent("invoices.json")
        guard let text = try? String(contentsOf: url, encoding: .utf8), let expected = try? JSONValue.parse(text),
            let actual = try? JSONValue.parse(run.invoicesJSON)
        else { return [] }
        return MoneyDiff.differences(expected: expected, actual: actual)
    }
}
