import Foundation
import Testing

@testable import TallyLedger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run records into a ledger at a time, and a ledger this user cannot write is refused before the run.
@Suite("Ledger lock and write access (issue 18, finding 8)")
struct LedgerLockTests {
    struct Outcome {
        var status: Int32
        var output: String
        var seconds: TimeInterval
    }

    /// `tally run SCENARIO --ledger LEDGER` in `folder`, its own goldens written with --update,
    /// run through `prefix` (a command that runs the rest as another user) when given.
    static func run(
        _ tally: URL, scenario: String, ledger: String, folder: URL, update: Bool = true, prefix: [String] = []
    ) throws -> Process {
        let process = Process()
        var arguments = [
            tally.path, "run", scenario, "--ledger", ledger, "--fixtures",
            folder.appendingPathComponent("Fixtures").path,
        ]
        if update { arguments.append("--update") }
        if let command = prefix.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(prefix.dropFirst()) + arguments
        } else {
            process.executableURL = tally
            process.arguments = Array(arguments.dropFirst())
        }
        process.standardOutput = Pipe()
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    /// Waits for `process` and returns its exit status and its output (standard output and error together).
    static func finish(_ process: Process, started: Date) -> Outcome {
        let output = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            seconds: Date().timeIntervalSince(started))
    }

    static func scenarioFile(in folder: URL, events: Int = 100) throws -> String {
        let file = folder.appendingPathComponent("ledger-small.yaml")
        try Data(LedgerFixtures.scenario(events: events, duplicates: 0).utf8).write(to: file)
        return file.path
    }

    @Test("a run on a ledger another run holds waits 5 s, then exits 2 naming the file, and writes nothing")
    func heldLedgerRefusesTheSecondRun() throws {
        let tally = try #require(LedgerKillTests.tallyBinary(), "the tally binary is not built next to the tests")
        let folder = try LedgerFixtures.folder()
        let scenario = try Self.scenarioFile(in: folder)
        let path = folder.appendingPathComponent("held.sqlite").path
        // The other run: a writer's hold on a fresh ledger, with its tables and no run recorded yet.
        var holder: Ledger? = try Ledger(path: path, create: true, exclusive: true)
        #expect(FileManager.default.fileExists(atPath: path + "-lock"))

        let started = Date()
        let second = Self.finish(
            try Self.run(tally, scenario: scenario, ledger: path, folder: folder), started: started)
        #expect(second.status == 2)
        #expect(
            second.output.contains(
                "\(path): another run holds the ledger (waited 5 s for it); wait for it to finish, or record into another file"
            ), "\(second.output)")
        // It waited for the lock (5 s), not failed at once; a generous upper bound for a busy machine.
        #expect(second.seconds >= 4.5 && second.seconds < 60)
        let counts = try #require(holder).counts()
        #expect(counts.runs == 0 && counts.events == 0 && counts.deadLetters == 0)

        // Once the holder lets go, the lock file is gone and the same command records the run.
        holder = nil
        #expect(!FileManager.default.fileExists(atPath: path + "-lock"))
        let third = Self.finish(try Self.run(tally, scenario: scenario, ledger: path, folder: folder), started: Date())
        #expect(third.status == 0, "\(third.output)")
        // 100 api_calls accepted; 10 malformed gb and 2 initech events dead-lettered.
        let recorded = try Ledger(path: path).counts()
        #expect(recorded.runs == 1 && recorded.events == 100 && recorded.deadLetters == 12)
    }

    @Test("two runs started at once on a new ledger: never both at the same time, every event stored once")
    func twoRunsAtOnce() throws {
        let tally = try #require(LedgerKillTests.tallyBinary(), "the tally binary is not built next to the tests")
        let folder = try LedgerFixtures.folder()
        // 200,000 events: long enough to overlap, short enough for a test.
        let scenario = try Self.scenarioFile(in: folder, events: 200_000)
        let path = folder.appendingPathComponent("race.sqlite").path
        // Goldens first, so that neither run below writes them while the other reads them.
        let first = Self.finish(
            try Self.run(
                tally, scenario: scenario, ledger: folder.appendingPathComponent("goldens.sqlite").path, folder: folder),
            started: Date())
        try #require(first.status == 0, "\(first.output)")

        let started = Date()
        let runs = try [0, 1].map { _ in
            try Self.run(tally, scenario: scenario, ledger: path, folder: folder, update: false)
        }
        let outcomes = runs.map { Self.finish($0, started: started) }
        // Either the second waited for the first and then resumed its finished run (both 0), or it
        // gave up after 5 s (2, naming the file); never two writers interleaving batches.
        for outcome in outcomes {
            #expect(
                outcome.status == 0
                    || (outcome.status == 2 && outcome.output.contains("\(path): another run holds the ledger")),
                "\(outcome.output)")
        }
        #expect(outcomes.contains { $0.status == 0 })
        let ledger = try Ledger(path: path)
        #expect(try ledger.integrityCheck() == "ok")
        // 200,000 api_calls accepted; 10 malformed gb and 2 initech events dead-lettered; 2 invoices.
        let counts = try ledger.counts()
        #expect(counts.runs == 1 && counts.events == 200_000 && counts.deadLetters == 12 && counts.invoices == 2)
        #expect(!FileManager.default.fileExists(atPath: path + "-lock"))
    }

    /// How to run a command as `nobody`, or nil when this process cannot (not root, or no setpriv nor runuser).
    static let asNobody: [String]? = {
        guard getuid() == 0 else { return nil }
        let candidates = [
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
            ["/usr/sbin/runuser", "-u", "nobody", "--"],
            ["/sbin/runuser", "-u", "nobody", "--"],
        ]
        for prefix in candidates where FileManager.default.isExecutableFile(atPath: prefix[0]) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + ["/bin/sh", "-c", "test \"$(id -u)\" = 65534"]
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return prefix }
        }
        return nil
    }()

    @Test(
        "a ledger this user cannot write is refused before the run: exit 2, and no -wal, -shm or -lock left",
        .enabled(
            if: asNobody != nil,
            "needs root and setpriv or runuser, to run tally as nobody (root writes any file, so a read-only ledger cannot be tried as root)"
        ))
    func readOnlyLedger() throws {
        let tally = try #require(LedgerKillTests.tallyBinary(), "the tally binary is not built next to the tests")
        let prefix = try #require(Self.asNobody)
        // nobody must reach the binary and the scenario, and the folder's parents; the folder itself
        // (root's, 0755) is not writable by nobody.
        let folder = try LedgerFixtures.folder()
        let scenario = try Self.scenarioFile(in: folder)
        let path = folder.appendingPathComponent("read-only.sqlite").path
        let recorded = Self.finish(
            try Self.run(tally, scenario: scenario, ledger: path, folder: folder), started: Date())
        try #require(recorded.status == 0, "\(recorded.output)")
        chmod(folder.path, 0o755)
        chmod(path, 0o644)
        let files = { Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []) }
        let before = files()

        /// Runs `tally run` as nobody on `ledger`: it must exit 2 with `message`, before the run starts.
        func expectRefused(_ ledger: String, _ message: String) throws {
            let refused = Self.finish(
                try Self.run(tally, scenario: scenario, ledger: ledger, folder: folder, update: false, prefix: prefix),
                started: Date())
            #expect(refused.status == 2, "\(refused.output)")
            #expect(refused.output.contains(message), "\(refused.output)")
            // A recorded run ends with "ledger FILE: N rows in ..."; this one never started.
            #expect(!refused.output.contains("rows in"), "the run went ahead: \(refused.output)")
        }

        // A folder nobody cannot write: a new ledger in it, and the recorded one.
        let fresh = folder.appendingPathComponent("new.sqlite").path
        try expectRefused(fresh, "\(fresh): cannot write the ledger: its folder \(folder.path) is not writable")
        try expectRefused(path, "\(path): cannot write the ledger: its folder \(folder.path) is not writable")
        // A writable folder but a read-only file.
        chmod(folder.path, 0o777)
        try expectRefused(path, "\(path): cannot write the ledger: the file is not writable")
        chmod(folder.path, 0o755)

        // Nothing made or left behind: no new ledger, no -wal, -shm or -lock.
        #expect(files() == before)
        // The recorded run is intact.
        #expect(try Ledger(path: path).counts().runs == 1)
    }
}
