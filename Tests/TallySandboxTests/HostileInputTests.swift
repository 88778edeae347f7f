import Foundation
import TallyPipeline
import Testing

@testable import TallySandbox

/// Issue 18's reproducers that load (the ones refused are in `BrokenScenarios/`): each must run to
/// its end in bounded memory, and what `run` would refuse, loading refuses with a position.
@Suite("Hostile input: scenarios that load must run, without a crash and in bounded memory")
struct HostileInputTests {
    static func load(_ text: String) throws -> Scenario {
        try ScenarioLoader.load(yaml: text, file: "hostile.yaml")
    }

    static let catalog = """
        name: hostile
        seed: 1
        start: 2026-01-01
        currency: USD
        metrics: [{ key: c, aggregation: count }]
        plans: [{ id: p, charges: [{ name: C, metric: c, model: per_unit, unit_price: 1 }] }]
        customers: [{ id: a, plan: p }]

        """

    @Test("the longest durations at once: saturated timestamps are rejected, not a crash (finding 1 audit)")
    func longestDurationsRun() throws {
        let scenario = try Self.load(
            Self.catalog + """
                ingest: { max_age: 3652425d }
                traffic: [{ metric: c, events: 40 }]
                faults:
                  - { kind: too_old, count: 10, offset: 3652425d }
                  - { kind: late, count: 10, offset: 3652425d }
                  - { kind: clock_skew, count: 10, offset: 3652425d }
                """)
        let run = try ScenarioRunner.run(scenario)
        // 40 sent, no ingest delay. Too old: received - 10,000 y - 10,000 y, 20,000 years behind, past max_age: rejected.
        // Skewed: 10,000 years ahead, past the default 5 min max_future: rejected. Late: 10,000 years
        // back, exactly max_age and not past it: accepted, like the 10 plain ones. 20 + 20.
        #expect(run.counts.received == 40)
        #expect(run.counts.rejected == 20)
        #expect(run.counts.accepted == 20)
    }

    @Test("a run too big for the machine is refused before it starts, at its traffic (finding 2)")
    func tooBigForMemoryIsRefused() throws {
        let big = try Self.load(Self.catalog + "traffic: [{ metric: c, events: 10000000 }]\n")
        // The issue's 858,993,460 events, all inside the default 90-day window of one month:
        // 858,993,460 x 5/4 = 1,073,741,825 slots, rounded up to 2^31, at 16 bytes = 32 GiB.
        var huge = big
        huge.traffic[0].events = 858_993_460
        #expect(huge.dedupKeysAtOnce == 858_993_460)
        #expect(Meter.dedupTableBytes(forKeys: huge.dedupKeysAtOnce) == 1 << 35)
        let problem = try #require(huge.memoryProblem(availableBytes: 16 << 30))
        #expect(problem.hasPrefix("up to 858993460 events can be inside the dedup window (ingest.max_age 90d) at once"))
        #expect(problem.contains("takes 32.0 GiB, more than the 12.0 GiB a run may use of this machine's 16.0 GiB"))
        // 10M events: 12.5M slots -> 2^24 = 16,777,216 x 16 bytes = 256 MiB, within 3/4 of 16 GiB.
        #expect(big.memoryProblem(availableBytes: 16 << 30) == nil)
        #expect(Meter.dedupTableBytes(forKeys: big.dedupKeysAtOnce) == 256 << 20)

        // Through the loader, on a machine with less than 43 GiB (32 GiB is 3/4 of 42.7): the position is the traffic's.
        guard MachineMemory.bytes < 42 << 30 else { return }
        let text = Self.catalog + "traffic: [{ metric: c, events: 858993460 }]\n"
        let diagnostics = BrokenScenarioCorpus.diagnostics(of: text, file: "hostile.yaml") ?? []
        #expect(diagnostics.map { "\($0.line):\($0.column)" } == ["8:10"])
    }

    @Test("a small dedup window sizes the table from the window, not the run (findings 2 and 4)")
    func smallWindowKeepsASmallTable() throws {
        // Issue 18, finding 4's reproducer: 100,000 events over January with max_age 1s took 11.3 s.
        let scenario = try Self.load(
            Self.catalog + """
                ingest: { max_age: 1s }
                traffic: [{ metric: c, events: 100000 }]
                """)
        // One period: all 100,000 events can be in one period's reach, so that is the up-front size.
        #expect(scenario.dedupKeysAtOnce == 100_000)
        let (run, meter) = try ScenarioRunner.runKeepingMeter(scenario, threads: 1, observer: nil, progress: nil)
        #expect(run.counts.accepted == 100_000)
        // Events are 26.8 s apart on average (31 days / 100,000), so a 1 s window keeps one or two keys,
        // and the sweeps shrank the table from 2^17 slots (125,000 rounded up) to at most 64 slots of 16 bytes.
        #expect(meter.rememberedKeys <= 2)
        #expect(meter.dedupTableBytes <= 64 * 16)
    }

    @Test("with twelve monthly periods and a 1-day window, the table is sized for about one month, not the year")
    func windowedSizing() throws {
        let scenario = try Self.load(
            Self.catalog + """
                periods: 12
                ingest: { max_age: 1d }
                traffic: [{ metric: c, events: 365000 }]
                """)
        // 365,000 events over 365 days: 1,000 a day, so January (31 days) has 31,000 events, February 28,000.
        // The reach (1 d + 3 h + 5 min + 1 s) from any period's end touches the next period only:
        // the most is July + August = 31,000 + 31,000 = 62,000 (and December + January cannot: January is first).
        #expect(scenario.dedupKeysAtOnce == 62_000)
    }

    /// The diagnostics of `text` as `line:column: message`.
    static func rendered(_ text: String) -> [String] {
        (BrokenScenarioCorpus.diagnostics(of: text, file: "hostile.yaml") ?? []).map(BrokenScenarioCorpus.render)
    }

    @Test("a control character is one line at its own position, shown escaped (finding 7)")
    func controlCharacter() {
        // printf 'name: m\nseed: \x01\n': the \x01 is line 2, column 7.
        #expect(
            Self.rendered("name: m\nseed: \u{1}\n")
                == [
                    "2:7: YAML syntax error: control characters are not allowed (found \\u{1}), expected printable UTF-8 text"
                ])
    }

    @Test("a newline inside a value is shown as \\n, so each problem stays on one line (finding 7)")
    func newlineInValue() {
        let messages = Self.rendered("name: \"a\\nb\"\nseed: 1\n")
        #expect(
            messages.contains(
                "1:7: name 'a\\nb' must use only letters, digits, '-', '_' and '.', since it names a folder"))
        #expect(messages.allSatisfy { !$0.contains("\n") })
    }

    @Test("nesting past libyaml's 1000 levels is said in Tally's words, not a C function's name (finding 7)")
    func deepNesting() {
        let text = "name: " + String(repeating: "[", count: 1_200) + String(repeating: "]", count: 1_200) + "\n"
        let messages = Self.rendered(text)
        #expect(messages.count == 1)
        #expect(
            messages.first?.hasSuffix(
                "YAML syntax error: lists and mappings nested more than 1000 deep, expected at most 1000 levels")
                == true)
        #expect(messages.allSatisfy { !$0.contains("yaml_") })
    }

    @Test("a 10 MB value for an enum key is refused at once, shown cut short (finding 5)")
    func hugeEnumValue() {
        let huge = String(repeating: "x", count: 10_000_000)
        let messages = Self.rendered(Self.catalog + "traffic: [{ metric: c, events: 1, arrival: \(huge) }]\n")
        // The value is longer than 4 x the longest arrival name + 4, so no did-you-mean is worked out;
        // the message shows its first 60 characters and an ellipsis.
        #expect(
            messages == [
                "8:44: arrival '\(String(repeating: "x", count: 60))…' is not known, expected one of: uniform, poisson, diurnal, burst"
            ])
    }

    @Test("bytes that are not UTF-8 are refused at the first bad one")
    func invalidUTF8() {
        // "seed: " is 6 characters, so the 0xFF byte is line 2, column 7.
        let bytes = Array("name: m\nseed: ".utf8) + [0xFF] + Array("1\n".utf8)
        do {
            _ = try ScenarioLoader.load(contents: bytes, file: "hostile.yaml")
            Issue.record("bytes that are not UTF-8 loaded")
        } catch {
            #expect(
                error.diagnostics.map(BrokenScenarioCorpus.render) == [
                    "2:7: the file is not UTF-8 text here, expected UTF-8"
                ])
        }
    }

    @Test("an amount past exact decimal range, found only when billing, is reported at the plan (finding 7)")
    func billingOverflowIsPositioned() throws {
        // 10 events x a unit price of 38 nines is 10^39 - 10: 39 digits, past the 38 an exact decimal holds.
        let text =
            Self.catalog.replacingOccurrences(
                of: "unit_price: 1 ", with: "unit_price: \(String(repeating: "9", count: 38)) ")
            + "traffic: [{ metric: c, events: 10 }]\n"
        let scenario = try Self.load(text)
        do {
            _ = try ScenarioRunner.run(scenario)
            Issue.record("a run past exact decimal range succeeded")
        } catch {
            // The plans line is line 6 and its one item opens at column 9.
            #expect(
                error.message.hasPrefix(
                    "hostile.yaml:6:9: hostile: billing failed in rating for customer 'a' in period 0"))
            #expect(error.message.contains("(customer's plan 'p'), expected amounts within exact decimal range"))
        }
    }

    @Test("a lone carriage return is a line break, as libyaml counts lines (fuzz seed 2, input 38520)")
    func carriageReturnCountsAsALine() {
        // "name: m\r" ends line 1, "seed: 1\n" is line 2, and the 0xFF opens line 3.
        let bytes = Array("name: m\rseed: 1\n".utf8) + [0xFF]
        do {
            _ = try ScenarioLoader.load(contents: bytes, file: "hostile.yaml")
            Issue.record("bytes that are not UTF-8 loaded")
        } catch {
            #expect(
                error.diagnostics.map(BrokenScenarioCorpus.render) == [
                    "3:1: the file is not UTF-8 text here, expected UTF-8"
                ])
        }
    }

    /// ``catalog`` without its customers, which each test gives on line 7.
    static let countCatalog = catalog.replacingOccurrences(of: "customers: [{ id: a, plan: p }]\n", with: "")

    @Test("a count item's ids are the prefix and 1 ... count, zero-padded, across every carry (finding 5)")
    func numberedIDs() throws {
        let scenario = try Self.load(Self.countCatalog + "customers: [{ count: 1000, id_prefix: c-, plan: p }]\n")
        let ids = scenario.catalog.customers.map(\.id)
        #expect(ids.count == 1000)
        // 1000 has four digits, so every id has four: c-0001, and the carries 9 -> 10, 99 -> 100, 999 -> 1000.
        #expect(Array(ids.prefix(2)) == ["c-0001", "c-0002"])
        #expect(Array(ids[8...10]) == ["c-0009", "c-0010", "c-0011"])
        #expect(Array(ids[98...100]) == ["c-0099", "c-0100", "c-0101"])
        #expect(Array(ids[998...]) == ["c-0999", "c-1000"])
        #expect(ids == (1...1000).map { "c-" + String(repeating: "0", count: 4 - String($0).count) + String($0) })
        #expect(scenario.catalog.customerIndex("c-0500") == 499)
        // count: 3 gives one digit, with the default prefix.
        let three = try Self.load(Self.countCatalog + "customers: [{ count: 3, plan: p }]\n")
        #expect(three.catalog.customers.map(\.id) == ["customer-1", "customer-2", "customer-3"])
    }

    @Test("a million customers on an unknown plan are one error, not a million (finding 5)")
    func countItemWithAnUnknownPlan() {
        #expect(
            Self.rendered(Self.countCatalog + "customers: [{ count: 1000000, plan: nope }]\n") == [
                "7:37: unknown plan 'nope', expected one of: p"
            ])
    }

    @Test("two count items that repeat 500 ids: the first 100 duplicates listed, the rest counted (finding 5)")
    func repeatedCountItems() {
        let messages = Self.rendered(
            Self.countCatalog + "customers: [{ count: 500, plan: p }, { count: 500, plan: p }]\n")
        // Item 2 (line 7, column 38) repeats all 500 ids of item 1: 100 listed, 400 counted in one line.
        #expect(messages.count == 101)
        #expect(messages.contains("7:38: duplicate customer 'customer-001', expected each id once"))
        #expect(messages.contains("7:38: duplicate customer 'customer-100', expected each id once"))
        #expect(messages.contains("7:38: 400 more duplicate customer ids from here on, expected each id once"))
        #expect(!messages.contains("7:38: duplicate customer 'customer-101', expected each id once"))
    }

    @Test("ten million customers, the most a scenario may have, load as one entry, their traffic too (finding 5)")
    func tenMillionCustomers() throws {
        let scenario = try Self.load(
            Self.countCatalog + "customers: [{ count: 10000000, plan: p }]\n"
                + "traffic: [{ metric: c, events: 1000 }]\n")
        // 10,000,000 has 8 digits: customer-00000001 ... customer-10000000, none of them spelled out to load.
        #expect(scenario.catalog.customers.count == 10_000_000)
        #expect(scenario.catalog.customers[9_999_999].id == "customer-10000000")
        #expect(scenario.catalog.customerIndex("customer-05000000") == 4_999_999)
        #expect(scenario.traffic.first?.customers.count == 10_000_000)
        #expect(scenario.traffic.first?.customers[41] == "customer-00000042")
    }

    @Test("runs with different prefixes that make the same ids, and a listed id among them (finding 5)")
    func overlappingRuns() {
        let messages = Self.rendered(
            Self.countCatalog + "customers:\n"
                + "  - { count: 5000, plan: p }\n"  // line 8: customer-0001 ... customer-5000
                + "  - { id: customer-0012, plan: p }\n"  // line 9: repeats number 12 (reported at the id, column 11)
                + "  - { count: 500, id_prefix: customer-0, plan: p }\n"  // line 10: customer-0001 ... customer-0500
                + "  - { count: 400, id_prefix: customer-9, plan: p }\n")  // line 11: customer-9001 ... customer-9400
        // Line 9 repeats one id and line 10 all 500 of line 8's first 500: 501 duplicates, 100 listed (1 + 99
        // on line 10, customer-0001 ... customer-0099), 401 counted. Line 11's ids are new (line 8 stops at 5000).
        #expect(messages.count == 101)
        #expect(messages.contains("9:11: duplicate customer 'customer-0012', expected each id once"))
        #expect(messages.contains("10:5: duplicate customer 'customer-0099', expected each id once"))
        #expect(!messages.contains("10:5: duplicate customer 'customer-0100', expected each id once"))
        #expect(messages.contains("10:5: 401 more duplicate customer ids from here on, expected each id once"))
        #expect(!messages.contains { $0.hasPrefix("11:") })
    }
}
