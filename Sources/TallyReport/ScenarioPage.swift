import Foundation
import TallyPipeline
import TallySandbox

/// What the scenario page template shows, every value already text.
struct ScenarioPage {
    static let statusTexts = [
        "passed": "PASS", "updated": "PASS, goldens updated", "failed": "FAIL", "invalid": "INVALID",
    ]

    struct MoneyRow {
        var customer: String
        var period: String
        var expected: String
        var actual: String
        var lines: [String]
    }
    struct OutcomeRow {
        var outcome: String
        var reason: String
        var count: String
    }
    struct UsageRow {
        var customer: String
        var accepted: String
        var billed: String
    }
    struct UsageChart {
        var chart: LineChart
        var unit: String
        var billedHeading: String
        var rows: [UsageRow]
    }

    var name: String
    var pageTitle: String
    var description: String
    var file: String
    var status: String
    var statusText: String
    var seed: String
    var periods: String
    var currency: String
    var events: String
    var seconds: String
    var hasDifferences: Bool
    var hasMoneyRows: Bool
    var moneyRows: [MoneyRow]
    var messages: [String]
    var outsideNote: String
    var hasOutsideNote: Bool
    var outcomeChart: BarChart?
    var outcomeRows: [OutcomeRow]
    var usageCharts: [UsageChart]
    var invoiceCount: String
    var totalBilled: String
    var invoicesLeftOut: Bool
    var shownInvoices: String
    var goldenPath: String
    var invoices: [InvoiceView]

    init(_ report: ScenarioReport) {
        name = report.name
        pageTitle = "\(report.name): Tally report"
        file = report.file
        status = report.status
        statusText = Self.statusTexts[report.status] ?? report.status.uppercased()
        seconds = String(format: "%.2f", report.seconds)
        moneyRows = report.moneyDifferences.map { difference in
            MoneyRow(
                customer: difference.customer, period: difference.period,
                expected: difference.expectedTotal ?? "no invoice", actual: difference.actualTotal ?? "no invoice",
                lines: difference.lines.map { "\($0.name): \($0.expected ?? "none") → \($0.actual ?? "none")" })
        }
        hasMoneyRows = !moneyRows.isEmpty
        // The money lines of the diff are the table above them.
        messages =
            report.status == "failed" || report.status == "invalid"
            ? report.messages.filter { !$0.hasPrefix("money: ") } : []
        hasDifferences = hasMoneyRows || !messages.isEmpty
        goldenPath = report.goldenInvoices
        guard let run = report.run else {
            description = ""
            seed = ""
            periods = ""
            currency = ""
            events = "0"
            outsideNote = ""
            hasOutsideNote = false
            outcomeChart = nil
            outcomeRows = []
            usageCharts = []
            invoiceCount = "0"
            totalBilled = ""
            invoicesLeftOut = false
            shownInvoices = "0"
            invoices = []
            return
        }
        let scenario = run.scenario
        let currencyCode = scenario.catalog.currency
        description = scenario.description
        seed = String(scenario.seed)
        let count = scenario.schedule.periods.count
        periods = count == 1 ? "1 period" : "\(count) periods"
        currency = currencyCode.code
        events = grouped(String(run.counts.received))
        let outside = run.counts.outsidePeriods
        outsideNote =
            outside == 0
            ? ""
            : "\(grouped(String(outside))) accepted events fall outside a subscription or every billing period"
                + " and are on no invoice."
        hasOutsideNote = outside > 0
        (outcomeChart, outcomeRows) = Self.outcomes(run.counts)
        usageCharts = report.usage.map { Self.usageCharts($0, run: run) } ?? []
        invoiceCount = grouped(String(run.invoiceCount))
        let total = (try? ExactDecimal.sum(run.invoices.map(\.total))) ?? .zero
        totalBilled = grouped(currencyCode.format(total)) + " " + currencyCode.code
        invoicesLeftOut = run.invoices.count > RunReport.invoiceLimit
        shownInvoices = String(min(run.invoices.count, RunReport.invoiceLimit))
        invoices = run.invoices.prefix(RunReport.invoiceLimit).map(InvoiceView.init)
    }

    /// The outcome bars and table: accepted (with its flags), then each reason that happened.
    static func outcomes(_ counts: OutcomeCounts) -> (BarChart, [OutcomeRow]) {
        var bars: [(label: String, count: Int, colour: String)] = [("accepted", counts.accepted, "#1b7f3b")]
        var rows = [OutcomeRow(outcome: "accepted", reason: "", count: grouped(String(counts.accepted)))]
        let flags = [
            ("late", counts.late), ("outside every period", counts.outsidePeriods),
            ("over a soft limit", counts.overSoftLimit),
        ]
        for (flag, count) in flags where count > 0 {
            bars.append(("accepted, \(flag)", count, "#7fbf8f"))
            rows.append(OutcomeRow(outcome: "accepted, flagged", reason: flag, count: grouped(String(count))))
        }
        for reason in OutcomeReason.allCases.sorted() where counts.count(reason) > 0 {
            let rejected = reason.disposition == .rejected
            let outcome = rejected ? "rejected" : "dead-lettered"
            bars.append(("\(outcome): \(reason.rawValue)", counts.count(reason), rejected ? "#b3261e" : "#8a5a00"))
            rows.append(
                OutcomeRow(outcome: outcome, reason: reason.rawValue, count: grouped(String(counts.count(reason)))))
        }
        rows.append(
            OutcomeRow(
                outcome: "events in", reason: "accepted + rejected + dead-lettered",
                count: grouped(String(counts.received))))
        return (BarChart.make(title: "Events by outcome and reason", bars: bars), rows)
    }

    /// One chart per metric with accepted usage: a line per customer (the largest few, then the rest added up).
    static func usageCharts(_ usage: DailyUsage, run: ScenarioRun) -> [UsageChart] {
        let periods = run.scenario.schedule.periods
        guard let first = periods.first, let last = periods.last else { return [] }
        var firstDay = utcDay(first.start)
        var lastDay = utcDay(last.end) - 1
        for key in usage.days.keys {
            firstDay = min(firstDay, key.day)
            lastDay = max(lastDay, key.day)
        }
        let customerOrder = Dictionary(
            run.scenario.catalog.customers.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var charts: [UsageChart] = []
        for metric in run.scenario.catalog.metrics {
            let counted = metric.aggregation == .count || metric.aggregation == .uniqueCount
            let unit = counted ? "events" : metric.property.map { "sum of \($0)" } ?? "sum of quantities"
            var perCustomer: [String: [Int64: ExactDecimal]] = [:]
            var totals: [String: ExactDecimal] = [:]
            for (key, tally) in usage.days where key.metric == metric.key {
                let value = counted ? ExactDecimal(tally.events) : tally.quantity
                perCustomer[key.customer, default: [:]][key.day] = value
                totals[key.customer] = (try? (totals[key.customer] ?? .zero) + value) ?? .zero
            }
            guard !perCustomer.isEmpty else { continue }
            // Largest first; equal totals in catalog order, then by id, so the page is the same every run.
            let customers = perCustomer.keys.sorted { a, b in
                let ta = totals[a] ?? .zero
                let tb = totals[b] ?? .zero
                if ta != tb { return tb < ta }
                let oa = customerOrder[a] ?? Int.max
                let ob = customerOrder[b] ?? Int.max
                return oa != ob ? oa < ob : a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            var series: [(name: String, total: String, values: [Int64: ExactDecimal])] = customers.prefix(
                RunReport.seriesLimit
            ).map {
                ($0, "\(grouped((totals[$0] ?? .zero).description)) \(unit)", perCustomer[$0] ?? [:])
            }
            let rest = customers.dropFirst(RunReport.seriesLimit)
            if !rest.isEmpty {
                var values: [Int64: ExactDecimal] = [:]
                var total = ExactDecimal.zero
                for customer in rest {
                    for (day, value) in perCustomer[customer] ?? [:] {
                        values[day] = (try? (values[day] ?? .zero) + value) ?? .zero
                    }
                    total = (try? total + (totals[customer] ?? .zero)) ?? total
                }
                series.append(("\(rest.count) other customers", "\(grouped(total.description)) \(unit)", values))
            }
            let chart = LineChart.make(
                title: "\(metric.key): \(unit) per day, by customer", unit: unit,
                firstDay: firstDay, lastDay: lastDay, series: series)
            // Beside each customer's accepted usage, what its invoices billed for the metric (count and sum only).
            let billable = metric.aggregation == .count || metric.aggregation == .sum
            let rows = customers.prefix(RunReport.usageRowLimit).map { customer -> UsageRow in
                var billed = ""
                if billable {
                    let quantities = run.invoices.filter { $0.customer == customer }.compactMap { invoice in
                        invoice.lines.first { $0.metric == metric.key && $0.kind == .charge }
                            .map { (try? ($0.quantity ?? .zero) + $0.rolloverUnitsUsed) ?? .zero }
                    }
                    if !quantities.isEmpty {
                        billed = grouped(((try? ExactDecimal.sum(quantities)) ?? .zero).description)
                    }
                }
                return UsageRow(
                    customer: customer, accepted: grouped((totals[customer] ?? .zero).description), billed: billed)
            }
            charts.append(
                UsageChart(
                    chart: chart, unit: unit,
                    billedHeading: billable ? "On invoices (quantity of the metric's first charge)" : "",
                    rows: rows))
        }
        return charts
    }
}
