import Foundation
import Mustache
import TallyPipeline
import TallySandbox

/// What the report shows of one scenario: its run (when it ran) and how it compared with its goldens.
public struct ScenarioReport {
    /// `passed`, `updated`, `failed` or `invalid`, as the run's summary says.
    public var status: String
    public var file: String
    public var name: String
    /// Why it failed: golden differences, `expect:` checks, load errors.
    public var messages: [String]
    public var seconds: Double
    /// nil when the scenario did not run (an invalid file, a run error).
    public var run: ScenarioRun?
    public var usage: DailyUsage?
    /// The money that moved against the golden invoices, shown first.
    public var moneyDifferences: [MoneyDifference]
    /// Where the golden invoices are, for invoices left off the page.
    public var goldenInvoices: String

    public init(
        status: String, file: String, name: String, messages: [String], seconds: Double, run: ScenarioRun?,
        usage: DailyUsage?, moneyDifferences: [MoneyDifference], goldenInvoices: String
    ) {
        self.status = status
        self.file = file
        self.name = name
        self.messages = messages
        self.seconds = seconds
        self.run = run
        self.usage = usage
        self.moneyDifferences = moneyDifferences
        self.goldenInvoices = goldenInvoices
    }
}

/// Writes the static HTML report: a page per scenario and an index, with no script and nothing from a network.
public enum RunReport {
    /// At most this many invoices are written out in full on a scenario's page.
    public static let invoiceLimit = 100
    /// At most this many customers get a line of their own in a usage chart; the rest are added up.
    static let seriesLimit = 7
    /// At most this many customers are listed under a usage chart, the largest first.
    static let usageRowLimit = 20

    /// Writes `index.html` and one `<name>.html` per scenario into `folder`, creating it.
    public static func write(_ reports: [ScenarioReport], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let library = try templates()
        var rows: [IndexRow] = []
        var used: Set<String> = []
        for report in reports {
            var page = pageName(report.name)
            while used.contains(page) { page = "_" + page }
            used.insert(page)
            let model = ScenarioPage(report)
            let html = library.render(model, withTemplate: "scenario") ?? ""
            try Data(html.utf8).write(to: folder.appendingPathComponent(page), options: .atomic)
            rows.append(
                IndexRow(
                    page: page, name: report.name, status: report.status, statusText: model.statusText,
                    events: model.events, invoiceCount: model.invoiceCount, totalBilled: model.totalBilled,
                    seconds: model.seconds, description: model.description))
        }
        let passed = reports.filter { $0.status == "passed" || $0.status == "updated" }.count
        let index = IndexPage(passed: passed, failed: reports.count - passed, scenarios: rows)
        let html = library.render(index, withTemplate: "index") ?? ""
        try Data(html.utf8).write(to: folder.appendingPathComponent("index.html"), options: .atomic)
    }

    static func templates() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        try library.register(Templates.scenarioPage, named: "scenario")
        try library.register(Templates.indexPage, named: "index")
        try library.register(Templates.lineChart, named: "lineChart")
        try library.register(Templates.barChart, named: "barChart")
        try library.register(Templates.head, named: "head")
        return library
    }

    /// A file name from a scenario name: its safe characters, anything else as `_`.
    static func pageName(_ name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
        let trimmed = safe.hasPrefix(".") ? "_" + safe.dropFirst() : safe
        return (trimmed.isEmpty || trimmed == "index" ? "_" + trimmed : trimmed) + ".html"
    }
}

struct IndexPage {
    var pageTitle = "Tally report"
    var passed: Int
    var failed: Int
    var scenarios: [IndexRow]
}

struct IndexRow {
    var page: String
    var name: String
    var status: String
    var statusText: String
    var events: String
    var invoiceCount: String
    var totalBilled: String
    var seconds: String
    var description: String
}
