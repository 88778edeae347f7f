import Foundation
import TallyCatalogFile
import TallyPipeline
import TallyRandom
import Testing

@testable import TallySandbox

/// A seeded mutation fuzzer over the bundled scenarios and the broken-scenario corpus (see Docs/Fuzzing.md).
///
/// Each input is a scenario file with one to four mutations: byte flips, deleted, duplicated and
/// swapped tokens and lines, huge and negative numbers, control characters, anchors and alias
/// bombs, deep nesting, long values. Each goes through what `tally check` does (the loader) and,
/// when it loads and is small, through `tally run`'s runner. In process, not in a child: the inputs
/// are many and small, and a child per input would cost more than the work. A crash kills the
/// test runner, which fails the run; the input being tried is always on disk at
/// `lastInputPath`, so the crash can be reproduced with `tally check` on that file.
///
/// `TALLY_FUZZ_INPUTS` (default 20,000) and `TALLY_FUZZ_SEED` (default 18) set the run.
enum ScenarioFuzzer {
    static let defaultInputs = 20_000
    static let defaultSeed: UInt64 = 18
    /// An input taking more CPU time than this is a finding (the issue's "hang"). CPU time, not wall-clock
    /// time, so that a long run at low priority on a busy machine finds only what is slow itself.
    static let slowInput: Duration = .seconds(5)
    /// The wall-clock time after which the watchdog ends the process: twice ``slowInput``, or
    /// `TALLY_FUZZ_HANG_SECONDS` for a run at low priority that other work can hold up for longer.
    static var hangLimit: Duration {
        ProcessInfo.processInfo.environment["TALLY_FUZZ_HANG_SECONDS"].flatMap(Int.init).map { .seconds($0) }
            ?? slowInput * 2
    }
    /// Scenarios that load are run when they send at most this many events.
    static let runnableEvents = 5_000
    static let lastInputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
        "tally-fuzz-last-input.yaml"
    ).path

    static var inputs: Int {
        ProcessInfo.processInfo.environment["TALLY_FUZZ_INPUTS"].flatMap(Int.init) ?? defaultInputs
    }
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["TALLY_FUZZ_SEED"].flatMap(UInt64.init) ?? defaultSeed
    }

    /// The bundled scenarios, each also with its traffic shrunk to 100 events so that more mutants run,
    /// and the broken-scenario corpus.
    static func corpus() throws -> [String] {
        let scenarios = BrokenScenarioCorpus.repositoryRoot.appendingPathComponent("Scenarios")
        var texts: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: scenarios.path).sorted()
        where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: scenarios.appendingPathComponent(name), encoding: .utf8)
            texts.append(text)
            texts.append(text.replacing(/events: [0-9]+/, with: "events: 100"))
        }
        for name in BrokenScenarioCorpus.files() { texts.append(try BrokenScenarioCorpus.text(of: name)) }
        return texts
    }

    static let numbers = [
        "0", "-1", "-0", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
        "99999999999999999999999999999999999999999", "0.00000000000000000000000000000000000000001",
        "1e308", ".5", "5.", "1_000", "0x10", "NaN", "-.inf", "106751991167d", "3652425d", "3652426d",
        "0ms", "9999-12-31T23:59:59.999Z", "0000-01-01", "10000-01-01", "2026-02-30", "120", "121",
    ]
    static let fragments = [
        "\u{0}", "\u{1}", "\u{7F}", "\u{FEFF}", "\u{2028}", "\u{202E}", "\t", "\r", "\r\n", "\u{85}",
        "&a ", "*a", "*undefined", "<<: *a", "&a [x, x]", "? ", ": ", "- ", "|", ">", "{", "}", "[", "]",
        "#", "\"", "'", "!!binary ", "!custom ", "---\n", "\n...\n", "%YAML 1.1\n", "~", "null", "é", "💸",
    ]

    /// One mutant of `text`, drawn from `random`: bytes, as a file holds them (not always UTF-8).
    static func mutate(_ text: String, using random: inout PRNG) -> [UInt8] {
        var bytes = Array(text.utf8)
        let mutations = 1 + Int(random.nextInt(below: 4))
        for _ in 0..<mutations { mutateOnce(&bytes, using: &random) }
        return bytes
    }

    private static func pick<T>(_ items: [T], _ random: inout PRNG) -> T {
        items[Int(random.nextInt(below: UInt64(items.count)))]
    }

    /// The start and end of the token (a run of non-blank bytes) or line at a random place.
    private static func span(in bytes: [UInt8], lines: Bool, _ random: inout PRNG) -> Range<Int> {
        guard !bytes.isEmpty else { return 0..<0 }
        let at = Int(random.nextInt(below: UInt64(bytes.count)))
        let isEdge: (UInt8) -> Bool = lines ? { $0 == 10 } : { $0 == 10 || $0 == 32 || $0 == 44 }
        var start = at
        var end = at
        while start > 0 && !isEdge(bytes[start - 1]) { start -= 1 }
        while end < bytes.count && !isEdge(bytes[end]) { end += 1 }
        if lines && end < bytes.count { end += 1 }
        return start..<end
    }

    private static func mutateOnce(_ bytes: inout [UInt8], using random: inout PRNG) {
        let at = bytes.isEmpty ? 0 : Int(random.nextInt(below: UInt64(bytes.count + 1)))
        switch random.nextInt(below: 12) {
        case 0:  // flip a bit
            if !bytes.isEmpty { bytes[Swift.min(at, bytes.count - 1)] ^= UInt8(1 << random.nextInt(below: 8)) }
        case 1:  // delete a token
            bytes.removeSubrange(span(in: bytes, lines: false, &random))
        case 2:  // duplicate a token
            let token = span(in: bytes, lines: false, &random)
            bytes.insert(contentsOf: Array(bytes[token]) + [32], at: token.lowerBound)
        case 3:  // delete a line
            bytes.removeSubrange(span(in: bytes, lines: true, &random))
        case 4:  // duplicate a line
            let line = span(in: bytes, lines: true, &random)
            bytes.insert(contentsOf: Array(bytes[line]), at: line.lowerBound)
        case 5:  // swap two lines
            let first = span(in: bytes, lines: true, &random)
            let second = span(in: bytes, lines: true, &random)
            guard first.upperBound <= second.lowerBound else { return }
            let (a, b) = (Array(bytes[first]), Array(bytes[second]))
            bytes.replaceSubrange(second, with: a)
            bytes.replaceSubrange(first, with: b)
        case 6, 7:  // a token becomes a hostile number, duration or date
            let token = span(in: bytes, lines: false, &random)
            bytes.replaceSubrange(token, with: Array(pick(numbers, &random).utf8))
        case 8:  // a control character, YAML punctuation, an anchor or an alias
            bytes.insert(contentsOf: Array(pick(fragments, &random).utf8), at: at)
        case 9:  // an alias bomb of 4 to 8 levels of 10 aliases each, as a key or a value
            let levels = 4 + Int(random.nextInt(below: 5))
            var bomb = "\nz0: &z0 [x,x,x,x,x,x,x,x,x,x]\n"
            for level in 1..<levels {
                bomb +=
                    "z\(level): &z\(level) [" + Array(repeating: "*z\(level - 1)", count: 10).joined(separator: ",")
                    + "]\n"
            }
            bomb += random.nextInt(below: 2) == 0 ? "? *z\(levels - 1)\n: 1\n" : "customers: *z\(levels - 1)\n"
            bytes.insert(contentsOf: Array(bomb.utf8), at: at)
        case 10:  // deep nesting
            let depth = 900 + Int(random.nextInt(below: 300))
            let open = random.nextInt(below: 2) == 0 ? "[" : "{a: "
            bytes.insert(contentsOf: Array((String(repeating: open, count: depth)).utf8), at: at)
        default:  // invalid UTF-8 or a long value
            if random.nextInt(below: 4) == 0 {
                bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "x"), count: 100_000), at: at)
            } else {
                bytes.insert(
                    contentsOf: pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]], &random), at: at)
            }
        }
    }

    /// What is wrong with one refusal's diagnostics, or nil: each must be `file:line:column: message`
    /// on one line, inside the text.
    static func malformed(_ diagnostics: [Diagnostic], file: String, text: String) -> String? {
        guard !diagnostics.isEmpty else { return "refused without a diagnostic" }
        // Lines as libyaml counts them (a lone "\r" is a break too): an upper bound is what is checked.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        for diagnostic in diagnostics {
            let rendered = diagnostic.description
            if diagnostic.file != file || diagnostic.line < 1 || diagnostic.line > lines + 1 || diagnostic.column < 1 {
                return "position outside the text: \(rendered.prefix(300))"
            }
            if diagnostic.message.isEmpty || rendered.contains(where: { $0.isNewline })
                || rendered.unicodeScalars.contains(where: { $0.value < 0x20 })
            {
                return "not one line: \(rendered.debugDescription.prefix(300))"
            }
        }
        return nil
    }

    /// What the fuzzer saw over a run.
    struct Tally {
        var inputs = 0, refused = 0, loaded = 0, ran = 0
        var findings: [String] = []
        var slowest: Duration = .zero
        var slowestCPU: Duration = .zero
    }

    /// The CPU time this thread has used.
    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// Tries `inputs` mutants from `seed`; a watchdog ends the process if one input takes longer than
    /// ``slowInput`` twice over (a true hang would otherwise stall CI until its own time limit).
    static func run(inputs: Int, seed: UInt64) throws -> Tally {
        let corpus = try corpus()
        var random = PRNG(seed: seed, stream: 18)
        var tally = Tally()
        let watchdog = Watchdog(limit: hangLimit)
        defer { watchdog.stop() }
        let clock = ContinuousClock()
        for index in 0..<inputs {
            let bytes = mutate(pick(corpus, &random), using: &random)
            let text = String(decoding: bytes, as: UTF8.self)
            // On disk before it is tried: after a crash, this is the input that caused it.
            _ = FileManager.default.createFile(atPath: lastInputPath, contents: Data(bytes))
            watchdog.started(input: index)
            let findingsBefore = tally.findings.count
            let started = clock.now
            let startedCPU = threadCPUTime()
            let file = "fuzz-\(seed)-\(index).yaml"
            do {
                let scenario = try ScenarioLoader.load(contents: bytes, file: file)
                tally.loaded += 1
                if scenario.totalEvents <= runnableEvents {
                    tally.ran += 1
                    do { _ = try ScenarioRunner.run(scenario) } catch {
                        // Only what no check can foresee (an amount past exact range, found when billing)
                        // may stop a run, and then with the file's position first.
                        if !error.message.hasPrefix(file + ":") {
                            tally.findings.append(
                                "input \(index): loaded, then run refused it: \(error.message.prefix(300))")
                        }
                    }
                }
            } catch {
                tally.refused += 1
                if let problem = malformed(error.diagnostics, file: file, text: text) {
                    tally.findings.append("input \(index): \(problem)")
                }
            }
            let took = clock.now - started
            let cpu = threadCPUTime() - startedCPU
            tally.slowest = Swift.max(tally.slowest, took)
            tally.slowestCPU = Swift.max(tally.slowestCPU, cpu)
            if cpu > slowInput {
                tally.findings.append("input \(index): took \(cpu) of CPU time, more than \(slowInput)")
            }
            if tally.findings.count > findingsBefore {
                // Kept for the report: the finding names this file.
                let kept = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "tally-fuzz-\(seed)-\(index).yaml")
                _ = FileManager.default.createFile(atPath: kept.path, contents: Data(bytes))
                tally.findings[tally.findings.count - 1] += " (input kept at \(kept.path))"
            }
            tally.inputs += 1
        }
        return tally
    }

    /// Ends the process when one input runs past its limit, naming the file that holds it.
    final class Watchdog: @unchecked Sendable {
        private let lock = NSLock()
        private var input = -1
        private var since = ContinuousClock.now
        private var running = true

        init(limit: Duration) {
            Thread.detachNewThread { [self] in
                while true {
                    Thread.sleep(forTimeInterval: 0.5)
                    let (input, since, running) = lock.withLock { (self.input, self.since, self.running) }
                    guard running else { return }
                    if input >= 0 && ContinuousClock.now - since > limit {
                        let message =
                            "fuzz: input \(input) ran past \(limit), a hang: \(ScenarioFuzzer.lastInputPath)\n"
                        FileHandle.standardError.write(Data(message.utf8))
                        exit(3)
                    }
                }
            }
        }

        func started(input: Int) { lock.withLock { (self.input, since) = (input, .now) } }
        func stop() { lock.withLock { running = false } }
    }
}

@Suite("Fuzzing: mutated scenarios end in a pass or positioned errors, never a crash or a hang")
struct ScenarioFuzzTests {
    @Test("seeded mutants of every bundled scenario (TALLY_FUZZ_INPUTS, TALLY_FUZZ_SEED)")
    func mutatedScenarios() throws {
        let (inputs, seed) = (ScenarioFuzzer.inputs, ScenarioFuzzer.seed)
        let tally = try ScenarioFuzzer.run(inputs: inputs, seed: seed)
        print(
            "fuzz: seed \(seed): \(tally.inputs) inputs, \(tally.refused) refused, \(tally.loaded) loaded, \(tally.ran) run; "
                + "slowest \(tally.slowest) (\(tally.slowestCPU) of CPU); \(tally.findings.count) findings")
        #expect(tally.inputs == inputs)
        for finding in tally.findings.prefix(20) { Issue.record("fuzz seed \(seed): \(finding)") }
    }

    @Test("the mutator is deterministic: the same seed gives the same inputs")
    func mutatorIsSeeded() throws {
        let text = try ScenarioFuzzer.corpus()[0]
        var first = PRNG(seed: 7, stream: 18)
        var second = PRNG(seed: 7, stream: 18)
        let a = (0..<50).map { _ in ScenarioFuzzer.mutate(text, using: &first) }
        let b = (0..<50).map { _ in ScenarioFuzzer.mutate(text, using: &second) }
        #expect(a == b)
        #expect(Set(a).count > 40, "mutants should differ from one another")
    }
}
