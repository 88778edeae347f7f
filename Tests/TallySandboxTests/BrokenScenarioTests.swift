import Foundation
import TallyCatalogFile
import Testing

@testable import TallySandbox

/// The corpus of broken scenarios in `BrokenScenarios/`: each file is broken in one way
/// (or, for several-errors.yaml, in three independent ways) and starts with one
/// `# expect: line:column: message` comment per diagnostic the loader must report.
enum BrokenScenarioCorpus {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "BrokenScenarios")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let expectPrefix = "# expect: "

    /// The corpus's file names, sorted.
    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func text(of name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// The `# expect:` lines at the top of a file, without their prefix.
    static func expectations(in text: String) -> [String] {
        var expected: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix(expectPrefix) else { break }
            expected.append(String(line.dropFirst(expectPrefix.count)))
        }
        return expected
    }

    /// The diagnostics of loading `text`, or nil when it loads as a valid scenario.
    static func diagnostics(of text: String, file: String) -> [Diagnostic]? {
        do {
            _ = try ScenarioLoader.load(yaml: text, file: file)
            return nil
        } catch {
            return error.diagnostics
        }
    }

    /// `line:column: message`, the form of the `# expect:` lines.
    static func render(_ diagnostic: Diagnostic) -> String {
        "\(diagnostic.line):\(diagnostic.column): \(diagnostic.message)"
    }

    /// The `tally` executable of the same build as this test bundle: on Linux the build products
    /// folder is the parent of the `.xctest` bundle; on macOS a few levels further up.
    static func tallyExecutable() -> URL? {
        var starts = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments.first ?? "")]
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        starts += Bundle.allBundles.map(\.bundleURL) + Bundle.allFrameworks.map(\.bundleURL)
        for start in starts {
            var folder = start.standardizedFileURL
            for _ in 0..<5 {
                let candidate = folder.appendingPathComponent("tally")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
                    !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: candidate.path)
                {
                    return candidate
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        return nil
    }
}

@Suite("Broken scenarios: every mistake reported at its line and column")
struct BrokenScenarioTests {
    @Test("the corpus holds at least 18 broken files, each with # expect: lines")
    func corpusIsComplete() throws {
        let files = BrokenScenarioCorpus.files()
        #expect(
            files.count >= 18, "expected at least 18 files in \(BrokenScenarioCorpus.folder.path), found \(files.count)"
        )
        for name in files {
            let text = try BrokenScenarioCorpus.text(of: name)
            #expect(
                !BrokenScenarioCorpus.expectations(in: text).isEmpty,
                "\(name): the first line must be '# expect: <line>:<column>: <message>'")
        }
    }

    @Test(
        "each broken file reports exactly its # expect: diagnostics, in order", arguments: BrokenScenarioCorpus.files())
    func reportsExpectedDiagnostics(name: String) throws {
        let text = try BrokenScenarioCorpus.text(of: name)
        let expected = BrokenScenarioCorpus.expectations(in: text)
        try #require(!expected.isEmpty, "\(name) has no '# expect:' first line")
        let file = "BrokenScenarios/\(name)"
        guard let diagnostics = BrokenScenarioCorpus.diagnostics(of: text, file: file) else {
            Issue.record("\(name) loaded as a valid scenario, expected: \(expected.joined(separator: " | "))")
            return
        }
        #expect(diagnostics.map(BrokenScenarioCorpus.render) == expected)
        #expect(diagnostics.allSatisfy { $0.file == file })
    }

    @Test("no broken file crashes the loader: each is refused with well-formed, sorted diagnostics")
    func everyFileReturnsDiagnostics() throws {
        for name in BrokenScenarioCorpus.files() {
            let text = try BrokenScenarioCorpus.text(of: name)
            let diagnostics = try #require(
                BrokenScenarioCorpus.diagnostics(of: text, file: name), "\(name) loaded, expected diagnostics")
            #expect(!diagnostics.isEmpty, "\(name): refused without a diagnostic")
            #expect(diagnostics == diagnostics.sorted(), "\(name): diagnostics are not sorted by line and column")
            let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
            for diagnostic in diagnostics {
                #expect(
                    diagnostic.line >= 1 && diagnostic.line <= lineCount && diagnostic.column >= 1,
                    "\(name): position out of the file: \(diagnostic)")
                #expect(
                    !diagnostic.message.isEmpty, "\(name): empty message at \(diagnostic.line):\(diagnostic.column)")
            }
        }
    }

    @Test("every truncation of every broken file loads or is refused with positions inside the text, never a crash")
    func truncationsNeverCrash() throws {
        for name in BrokenScenarioCorpus.files() {
            let lines = try BrokenScenarioCorpus.text(of: name).split(separator: "\n", omittingEmptySubsequences: false)
            for count in 0...lines.count {
                let text = lines.prefix(count).joined(separator: "\n")
                guard let diagnostics = BrokenScenarioCorpus.diagnostics(of: text, file: name) else { continue }
                #expect(!diagnostics.isEmpty, "\(name) cut after \(count) lines: refused without a diagnostic")
                for diagnostic in diagnostics {
                    #expect(
                        diagnostic.line >= 1 && diagnostic.line <= max(1, count + 1) && diagnostic.column >= 1,
                        "\(name) cut after \(count) lines: position out of the text: \(diagnostic)")
                }
            }
        }
    }

    @Test("a valid scenario loads: Scenarios/graduated-5-tiers.yaml")
    func validScenarioLoads() throws {
        let url = BrokenScenarioCorpus.repositoryRoot.appendingPathComponent("Scenarios/graduated-5-tiers.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let scenario = try ScenarioLoader.load(yaml: text, file: "Scenarios/graduated-5-tiers.yaml")
        #expect(scenario.name == "graduated-5-tiers")
        #expect(scenario.seed == 42)
        #expect(scenario.catalog.customers.map(\.id) == ["acme", "globex", "initech"])
        #expect(scenario.traffic.map(\.events) == [80_000, 15_000, 5_000])
        #expect(scenario.totalEvents == 100_000)
    }

    @Test("tally check on the whole folder exits 2 and names every broken file with its diagnostics")
    func checkCommandReportsEveryFile() throws {
        guard let tally = BrokenScenarioCorpus.tallyExecutable() else {
            Issue.record(
                """
                the tally executable was not found next to the test bundle (\(Bundle.main.bundleURL.path)); \
                build it first: swift build --product tally (with the same --scratch-path as swift test)
                """)
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tally-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = tally
        process.arguments = ["check", BrokenScenarioCorpus.folder.path]
        // Files, not pipes: a full pipe would block the child while nobody reads it.
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        process.waitUntilExit()

        let stdout = try String(contentsOf: stdoutURL, encoding: .utf8)
        let stderr = try String(contentsOf: stderrURL, encoding: .utf8)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 2, "tally check exited \(process.terminationStatus); stderr:\n\(stderr)")
        let files = BrokenScenarioCorpus.files()
        #expect(stdout.contains("0 passed, \(files.count) failed"), "stdout: \(stdout)")
        for name in files {
            let path = (BrokenScenarioCorpus.folder.path as NSString).appendingPathComponent(name)
            #expect(stderr.contains(path + ":"), "stderr does not name \(path)")
            for expected in BrokenScenarioCorpus.expectations(in: try BrokenScenarioCorpus.text(of: name)) {
                #expect(stderr.contains("\(path):\(expected)"), "stderr lacks \(path):\(expected)")
            }
        }
    }
}
