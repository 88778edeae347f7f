import Foundation
import TallyJSON
import TallyPipeline
import TallyReport
import TallySandbox
import Testing

/// The HTML report: invoices, charts and the money diff, read back from the written pages.
@Suite("HTML report")
struct RunReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs a bundled scenario (edited) and returns its report and the run.
    func report(_ name: String, edit: (String) -> String = { $0 }) throws -> ScenarioReport {
        let file = Self.root.appendingPathComponent("Scenarios/\(name).yaml")
        let scenario = try ScenarioLoader.load(
            yaml: edit(try String(contentsOf: file, encoding: .utf8)), file: file.path)
        let usage = DailyUsage(scenario: scenario)
        let run = try ScenarioRunner.run(scenario, observer: usage)
        let golden = GoldenFiles(fixtures: Self.root.appendingPathComponent("Fixtures"))
        let messages = golden.compare(run) + run.expectationFailures.map { "expect: \($0)" }
        return ScenarioReport(
            status: messages.isEmpty ? "passed" : "failed", file: file.path, name: scenario.name,
            messages: messages, seconds: 0.5, run: run, usage: usage,
            moneyDifferences: golden.moneyDifferences(run), goldenInvoices: "Fixtures/\(name)/invoices.json")
    }

    func written(_ reports: [ScenarioReport]) throws -> (folder: URL, page: (String) throws -> String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-report-\(UUID().uuidString)")
        try RunReport.write(reports, to: folder)
        return (folder, { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) })
    }

    @Test("a passing scenario's page has its invoices with how each line was priced, its totals and its charts")
    func passingPage() throws {
        let (folder, page) = try written([try report("graduated-5-tiers")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = try page("graduated-5-tiers.html")
        // acme: 80,000 calls; tier 2: 15,000 x 0.002 = 30; the invoice totals 95.00 + 49.00 = 144.00.
        #expect(html.contains("tier 2: 15,000 x 0.002 = 30<"))
        #expect(html.contains("144.00 USD"))
        #expect(html.contains("59.00 USD"))
        #expect(html.contains("49.00 USD"))
        // 144.00 + 59.00 + 49.00 = 252.00 billed in all.
        #expect(html.contains("3 invoices, 252.00 USD in all."))
        // The usage chart: a line per customer with its total, and dated axes.
        #expect(html.contains("api_calls: events per day, by customer"))
        #expect(html.contains("80,000 events"))
        #expect(html.contains(">2026-01-01</text>"))
        #expect(html.contains("events per day</text>"))
        // The outcome chart: 100,000 accepted, nothing rejected.
        #expect(html.contains("Events by outcome and reason"))
        #expect(html.contains(#"<text x="648" y="26" class="bar-count">100,000</text>"#))
        #expect(!html.contains("What differs from the golden files"))
        #expect(!html.contains("<script"))
        let index = try page("index.html")
        #expect(index.contains(#"<a href="graduated-5-tiers.html">graduated-5-tiers</a>"#))
        #expect(index.contains("1 passed, 0 failed"))
    }

    @Test("an invoice says when it was issued and how it bills, and each line of several subscriptions whose it is")
    func issuedAndSubscriptions() throws {
        let (folder, page) = try written([try report("subscriptions-in-advance")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = try page("subscriptions-in-advance.html")
        // acme's seats start Apr 17: April's second in-advance invoice is issued then, Seats 60 x 14/30 = 28.00.
        let seats = try #require(html.range(of: #"<article class="invoice" id="INV-20260401-000001-A2">"#))
        let end = try #require(html.range(of: "</article>", range: seats.upperBound..<html.endIndex))
        let article = html[seats.lowerBound..<end.lowerBound]
        #expect(article.contains("charged to the card on file · issued 2026-04-17, billed in advance"))
        #expect(article.contains(#"Seats <span class="subscription">seats</span>"#))
        #expect(article.contains("28.00 USD"))
        // April's in-arrears invoice is issued at the period's end, May 1; its usage is platform's.
        #expect(html.contains("· issued 2026-05-01, billed in arrears"))
        #expect(html.contains(#"API calls <span class="subscription">platform</span>"#))
        // A customer on one plan with no feature that dates its invoices shows neither.
        let (plain, plainPage) = try written([try report("graduated-5-tiers")])
        defer { try? FileManager.default.removeItem(at: plain) }
        let other = try plainPage("graduated-5-tiers.html")
        #expect(!other.contains("issued"))
        #expect(!other.contains(#"class="subscription""#))
    }

    @Test("a failing scenario's page opens with the money diff: expected and actual totals, and the lines that moved")
    func moneyDiffFirst() throws {
        // Tier 2 at 0.003 instead of 0.002: acme 15,000 x 0.003 = 45.00 (was 30.00), total 159.00 (was 144.00);
        // globex 5,000 x 0.003 = 15.00 (was 10.00), total 64.00 (was 59.00); initech stays in tier 1 at 49.00.
        let failing = try report("graduated-5-tiers") {
            $0.replacingOccurrences(
                of: "{ up_to: 25000, unit_price: 0.002 }", with: "{ up_to: 25000, unit_price: 0.003 }")
        }
        #expect(failing.status == "failed")
        #expect(
            failing.moneyDifferences.map(\.summary) == [
                "acme period 2026-01-01: total expected 144.00, actual 159.00; amount due expected 144.00, actual 159.00",
                "globex period 2026-01-01: total expected 59.00, actual 64.00; amount due expected 59.00, actual 64.00",
            ])
        let (folder, page) = try written([failing])
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = try page("graduated-5-tiers.html")
        let diff = try #require(html.range(of: "What differs from the golden files"))
        let invoices = try #require(html.range(of: #"<h2 id="invoices">"#))
        #expect(diff.lowerBound < invoices.lowerBound)
        #expect(html.contains("API calls: 95.00 → 110.00"))
        #expect(html.contains(#"<td class="num moved">159.00</td>"#))
        #expect(try page("index.html").contains("0 passed, 1 failed"))
    }

    @Test("everything taken from a scenario is escaped: a description or a customer id cannot add markup")
    func escapes() throws {
        let hostile = try report("graduated-5-tiers") {
            $0.replacingOccurrences(
                of: "description: 100K API calls priced over five graduated tiers",
                with: "description: \"<script>alert('x')</script> & <b>bold</b>\"")
        }
        let (folder, page) = try written([hostile])
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = try page("graduated-5-tiers.html")
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<b>"))
    }

    @Test("usage per day adds up to the accepted events, and the chart's scale tops at a round figure")
    func dailyUsage() throws {
        let passed = try report("graduated-5-tiers")
        let (folder, page) = try written([passed])
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = try page("graduated-5-tiers.html")
        // Beside each customer: accepted events and the quantity its invoice billed; both 80,000 for acme.
        #expect(html.contains(#"<tr><td>acme</td><td class="num">80,000</td><td class="num">80,000</td></tr>"#))
        #expect(html.contains(#"<tr><td>initech</td><td class="num">5,000</td><td class="num">5,000</td></tr>"#))
    }
}
