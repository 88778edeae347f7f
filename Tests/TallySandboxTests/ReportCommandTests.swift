import Foundation
import Testing

/// `tally report`: the same run as `tally run --report`, with the same exit codes.
@Suite("tally report")
struct ReportCommandTests {
    @Test("tally report writes an index and a page per scenario and exits as tally run does")
    func writesPages() throws {
        let cli = CLITests()
        let folder = try cli.project()
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let result = try cli.tally(["report", "Scenarios/clock-skew.yaml", "--out", "html"], in: folder) else {
            return
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("report: html/index.html\n1 passed, 0 failed\n"))
        let index = try String(contentsOf: folder.appendingPathComponent("html/index.html"), encoding: .utf8)
        #expect(index.contains(#"<a href="clock-skew.html">clock-skew</a>"#))
        // clock-skew: all 1,000 events rejected timestamp_in_future; acme pays only the 10.00 base fee.
        let page = try String(contentsOf: folder.appendingPathComponent("html/clock-skew.html"), encoding: .utf8)
        #expect(page.contains(#"<td class="num invoice-total">10.00 USD</td>"#))
        #expect(page.contains(#"<td>rejected</td><td>timestamp_in_future</td><td class="num">1,000</td>"#))
        #expect(page.contains("No accepted usage."))
        guard let missing = try cli.tally(["report", "nope.yaml", "--out", "html"], in: folder) else { return }
        #expect(missing.status == 2)
    }
}
