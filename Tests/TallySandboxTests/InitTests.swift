import Foundation
import Testing

/// `tally init`: the starter scenario a new user begins with.
@Suite("tally init")
struct InitTests {
    /// An empty scratch folder, as a new user's project starts.
    func emptyProject() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("the starter scenario passes its first run, and its expect: block holds the hand-worked totals")
    func starterPasses() throws {
        let folder = try emptyProject()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cli = CLITests()
        guard let made = try cli.tally(["init", "acme-api"], in: folder) else { return }
        #expect(made.status == 0, "\(made.stderr)")
        let scenario = try String(contentsOf: folder.appendingPathComponent("Scenarios/acme-api.yaml"), encoding: .utf8)
        #expect(scenario.hasPrefix("# yaml-language-server: $schema=../Schemas/scenario.schema.json\n"))
        #expect(scenario.contains("name: acme-api\n"))
        // acme: 29 + (25,000 - 10,000) x 0.002 = 59.00; globex: 6,000 calls, all included = 29.00.
        #expect(scenario.contains("invoice_total: { acme: 59.00, globex: 29.00 }"))

        guard let run = try cli.tally(["run"], in: folder) else { return }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("PASS acme-api (31100 events"))
        #expect(run.stdout.hasSuffix("1 passed, 0 failed\n"))
        let invoices = try String(
            contentsOf: folder.appendingPathComponent("Fixtures/acme-api/invoices.json"), encoding: .utf8)
        #expect(invoices.contains(#""total": "59.00""#))
        #expect(invoices.contains(#""total": "29.00""#))
    }

    @Test("init refuses to overwrite a scenario and refuses a name that cannot name a folder, with exit 2")
    func refusals() throws {
        let folder = try emptyProject()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cli = CLITests()
        guard let first = try cli.tally(["init", "x"], in: folder),
            let again = try cli.tally(["init", "x"], in: folder),
            let bad = try cli.tally(["init", "../x"], in: folder)
        else { return }
        #expect(first.status == 0)
        #expect(again.status == 2)
        #expect(again.stderr.contains("Scenarios/x.yaml: already exists"))
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("is not a scenario name"))
    }
}
