import Foundation
import GRDB
import TallyPipeline
import TallySandbox
import Testing

@testable import TallyLedger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kills a real `tally run --ledger` with SIGKILL while it writes, then checks the file and resumes it.
@Suite("Ledger kill")
struct LedgerKillTests {
    /// The `tally` binary SwiftPM built beside this test bundle (same configuration folder).
    static func tallyBinary() -> URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for folder in candidates {
            // On macOS the test bundle's executable sits in X.xctest/Contents/MacOS; go up to the products folder.
            var current = folder
            for _ in 0..<4 {
                let binary = current.appendingPathComponent("tally")
                if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
                current = current.deletingLastPathComponent()
            }
        }
        return nil
    }

    @Test func aKilledRunLeavesAnIntactLedgerThatResumesToTheSameInvoices() throws {
        guard let tally = Self.tallyBinary() else {
            Issue.record(
                "the tally binary was not found next to the test bundle (\(CommandLine.arguments[0])); build it with swift build first"
            )
            return
        }
        let folder = try LedgerFixtures.folder()
        // 1,000,000 api_calls dealt evenly: 500,000 each x 0.01 = 5,000.00 each; no duplicates.
        // Large enough that the run is still writing when it is killed, even on a loaded
        // machine (with 200,000 a faster pipeline sometimes finished first under CI load).
        let yaml = LedgerFixtures.scenario(events: 1_000_000, duplicates: 0)
        let scenarioFile = folder.appendingPathComponent("ledger-small.yaml")
        try Data(yaml.utf8).write(to: scenarioFile)
        let ledgerPath = folder.appendingPathComponent("killed.db").path
        let fixtures = folder.appendingPathComponent("Fixtures").path

        func launch() throws -> Process {
            let process = Process()
            process.executableURL = tally
            process.arguments = ["run", scenarioFile.path, "--ledger", ledgerPath, "--fixtures", fixtures, "--update"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        let victim = try launch()
        // Wait until some batches are committed, then kill it while it is still writing.
        var committed = 0
        let deadline = Date().addingTimeInterval(120)
        while committed < 20_000 && victim.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            committed = (try? Self.rowCount(ledgerPath)) ?? 0
        }
        guard victim.isRunning else {
            Issue.record(
                "tally finished (exit status \(victim.terminationStatus)) before it could be killed (\(committed) rows seen); the scenario is too small for this machine"
            )
            return
        }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal)

        let ledger = try Ledger(path: ledgerPath)
        #expect(try ledger.integrityCheck() == "ok")
        let partial = try ledger.counts()
        #expect(partial.events > 0 && partial.events < 1_000_000)
        #expect(partial.invoices == 0)
        #expect(try ledger.requireRun().completed == false)

        let rerun = try launch()
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        #expect(try ledger.integrityCheck() == "ok")
        // 1,000,000 accepted + 10 malformed + 2 initech dead letters; each stored once.
        let counts = try ledger.counts()
        #expect(counts.events == 1_000_000 && counts.rejections == 0 && counts.deadLetters == 12)
        let expected = try ScenarioRunner.run(try LedgerFixtures.load(yaml)).invoices.map(InvoiceRecord.init)
        #expect(try ledger.invoices() == expected)
        #expect(try ledger.invoices().map(\.total) == ["5000.00", "5000.00"])
        #expect(try Reconciliation.run(ledger, load: LedgerFixtures.terms).isClean)
    }

    /// Rows committed so far, read through a separate connection (WAL lets it read while tally writes).
    static func rowCount(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(1)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            guard try db.tableExists("events") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
        }
    }
}
