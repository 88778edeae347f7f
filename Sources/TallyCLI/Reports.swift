import ArgumentParser
import Foundation
import TallyJSON
import TallyPipeline
import TallySandbox

/// `--json`: one object with every scenario's status, duration, messages and differences as data,
/// described by `Schemas/run-summary.schema.json`.
enum JSONSummary {
    static func json(_ results: [ScenarioResult], passed: Int, failed: Int) -> JSONValue {
        object([
            ("passed", .number(String(passed))),
            ("failed", .number(String(failed))),
            ("scenarios", .array(results.map(scenario))),
        ])
    }

    static func scenario(_ result: ScenarioResult) -> JSONValue {
        // Only a scenario with a gateway in front of its pipeline has requests to count.
        guard let requests = result.requests, case .object(var members) = scenarioWithoutRequests(result) else {
            return scenarioWithoutRequests(result)
        }
        members.members.append((key: "requests", value: gateway(requests.counts)))
        return .object(members)
    }

    /// The gateway's decisions: requests, allowed, refused by reason and flagged by flag (every code, 0 or more).
    static func gateway(_ counts: AccessCounts) -> JSONValue {
        object([
            ("requests", .number(String(counts.requests))),
            ("allowed", .number(String(counts.allowed))),
            (
                "refused",
                object(AccessRefusal.allCases.sorted().map { ($0.rawValue, .number(String(counts.count($0)))) })
            ),
            ("flagged", object(AccessFlags.codes.map { ($0.code, .number(String(counts.count($0.flag)))) })),
        ])
    }

    static func scenarioWithoutRequests(_ result: ScenarioResult) -> JSONValue {
        object([
            ("name", .string(result.name)),
            ("file", .string(result.file)),
            ("status", .string(result.status.rawValue)),
            ("events", .number(String(result.events))),
            ("seconds", .number(String(format: "%.3f", result.seconds))),
            ("accepted_outside_periods", .number(String(result.outsidePeriods))),
            ("messages", .array(result.messages.map { .string($0) })),
            ("expect_failures", .array(result.expectationFailures.map { .string($0) })),
            (
                "money",
                .array(
                    result.moneyDifferences.map { money in
                        object([
                            ("customer", .string(money.customer)),
                            ("period", .string(money.period)),
                            ("expected_total", text(money.expectedTotal)),
                            ("actual_total", text(money.actualTotal)),
                            ("expected_amount_due", text(money.expectedAmountDue)),
                            ("actual_amount_due", text(money.actualAmountDue)),
                            (
                                "lines",
                                .array(
                                    money.lines.map { line in
                                        object([
                                            ("name", .string(line.name)), ("expected", text(line.expected)),
                                            ("actual", text(line.actual)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
            (
                "differences",
                .array(
                    result.goldenDifferences.map { difference in
                        object([
                            ("file", .string(difference.file)),
                            ("path", .string(difference.path)),
                            ("expected", text(difference.expected)),
                            ("actual", text(difference.actual)),
                            ("message", .string(difference.description)),
                        ])
                    })
            ),
        ])
    }

    static func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }
}

/// `--junit FILE`: the JUnit XML that CI systems read, one test case per scenario.
///
/// The `jenkins` dialect validates against the common Jenkins JUnit schema (junit-4.xsd): a test case
/// carries only `classname`, `name` and `time`. GitLab links a test case to its file through a `file`
/// attribute that schema does not allow, so the `gitlab` dialect adds it.
enum JUnitReport {
    enum Dialect: String, ExpressibleByArgument, CaseIterable {
        case jenkins, gitlab
    }

    static func xml(_ results: [ScenarioResult], dialect: Dialect = .jenkins) -> String {
        let failures = results.filter { $0.status == .failed }.count
        let errors = results.filter { $0.status == .invalid }.count
        let total = String(format: "%.3f", results.reduce(0.0) { $0 + $1.seconds })
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"tally\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(total)\">\n"
        xml +=
            "  <testsuite name=\"tally\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(total)\">\n"
        for result in results {
            let file = dialect == .gitlab ? " file=\"\(escape(result.file))\"" : ""
            xml +=
                "    <testcase classname=\"scenarios\" name=\"\(escape(result.name))\"\(file) time=\"\(String(format: "%.3f", result.seconds))\""
            switch result.status {
            case .passed, .updated:
                xml += "/>\n"
            case .failed, .invalid:
                let tag = result.status == .failed ? "failure" : "error"
                let summary =
                    result.status == .failed
                    ? "differs from its golden files or expect: checks" : "invalid scenario file"
                xml +=
                    ">\n      <\(tag) message=\"\(summary)\">\(escape(result.messages.joined(separator: "\n")))</\(tag)>\n"
                xml += "      <system-out>\(escape(result.file))</system-out>\n    </testcase>\n"
            }
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even escaped.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" {
                    out += "?"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Progress on standard error for runs of 100,000 events or more: a bar redrawn in place on a
/// terminal, or, without one (CI logs), a line every 10 seconds with the events so far and the rate.
///
/// The bar has no colour, so `NO_COLOR` leaves it as it is. `TALLY_PROGRESS_SECONDS` sets the
/// interval between lines (for tests).
final class ProgressBar {
    enum Mode { case off, bar, lines }

    let label: String
    let total: Int
    let mode: Mode
    let interval: TimeInterval
    let started = Date()
    var lastDraw: Date
    var drawn = false

    init(label: String, total: Int) {
        self.label = label
        self.total = total
        let environment = ProcessInfo.processInfo.environment
        if total < 100_000 {
            mode = .off
        } else if isatty(2) == 1 && environment["TERM"] != "dumb" {
            mode = .bar
        } else {
            mode = .lines
        }
        interval = mode == .bar ? 0.2 : environment["TALLY_PROGRESS_SECONDS"].flatMap(TimeInterval.init) ?? 10
        lastDraw = mode == .bar ? .distantPast : started
    }

    func update(_ done: Int) {
        guard mode != .off else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        if mode == .lines {
            StandardError.write(
                "\(label): \(Self.grouped(done)) of \(Self.grouped(total)) events (\(Int(fraction * 100))%), \(Self.compact(rate)) events/s\n"
            )
            return
        }
        let left = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        StandardError.write(
            "\r\u{1B}[2K\(label) [\(bar)] \(Int(fraction * 100))% \(Self.compact(rate)) events/s, \(Int(left.rounded())) s left"
        )
        drawn = true
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ count: Int) -> String {
        let digits = String(count)
        return String(
            digits.enumerated().flatMap { index, digit in
                index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
            })
    }

    func finish() {
        if drawn { StandardError.write("\r\u{1B}[2K") }
    }

    static func compact(_ rate: Double) -> String {
        rate >= 1_000_000
            ? String(format: "%.1fM", rate / 1_000_000)
            : rate >= 1_000 ? String(format: "%.0fK", rate / 1_000) : String(format: "%.0f", rate)
    }
}
