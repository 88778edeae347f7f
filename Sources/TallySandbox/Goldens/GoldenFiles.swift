import Foundation
import TallyJSON

/// The golden files of a scenario, `Fixtures/<name>/invoices.json` and `rejections.json`.
public struct GoldenFiles: Sendable {
    /// The `Fixtures/` folder.
    public var fixtures: URL

    public init(fixtures: URL) {
        self.fixtures = fixtures
    }

    func folder(_ scenario: String) -> URL { fixtures.appendingPathComponent(scenario, isDirectory: true) }

    /// What a run produced, by golden file name.
    static func documents(of run: ScenarioRun) -> [(name: String, text: String)] {
        [("invoices.json", run.invoicesJSON), ("rejections.json", run.rejectionsJSON)]
            + (run.requestsJSON.map { [("requests.json", $0)] } ?? [])
            + (run.reconciliationJSON.map { [("reconciliation.json", $0)] } ?? [])
    }

    /// How the run differs from its golden files: first the money that moved, per customer
    /// and period, then readable lines naming the file, customer, period and line; empty when
    /// it matches byte for byte.
    ///
    /// Past `limit` lines the list ends with how many more there are and the file holding all
    /// of them (``differences(_:)`` written out), so a long diff never stops silently.
    public func compare(_ run: ScenarioRun, limit: Int = 20) -> [String] {
        let all = differences(run)
        guard all.count > limit else { return all }
        let name = run.scenario.name.map { $0 == "/" ? "_" : $0 }
        let full = FileManager.default.temporaryDirectory.appendingPathComponent("tally-\(String(name))-diff.txt")
        let more = "... and \(all.count - limit) more differences"
        do {
            try Data(all.map { $0 + "\n" }.joined().utf8).write(to: full, options: .atomic)
            return Array(all.prefix(limit)) + ["\(more); all \(all.count) are in \(full.path)"]
        } catch {
            return Array(all.prefix(limit)) + [
                "\(more); writing them to \(full.path) failed: \(error.localizedDescription)"
            ]
        }
    }

    /// Every difference between the run and its golden files, the money summary first (see ``compare(_:limit:)``).
    public func differences(_ run: ScenarioRun) -> [String] {
        moneyDifferences(run).map { "money: \($0.summary)" } + fileDifferences(run).map(\.description)
    }

    /// The differences between the run and its golden files, file by file, as data.
    public func fileDifferences(_ run: ScenarioRun) -> [GoldenDifference] {
        var differences: [GoldenDifference] = []
        for (name, actual) in GoldenFiles.documents(of: run) {
            let url = folder(run.scenario.name).appendingPathComponent(name)
            guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
                differences.append(
                    GoldenDifference(
                        file: name, path: "", expected: nil, actual: nil,
                        description:
                            "\(name): no golden file at \(url.path); run `tally run --update` to create it, then check it by hand"
                    ))
                continue
            }
            guard expected != actual else { continue }
            let structural: [JSONDiff.Difference]
            if let e = try? JSONValue.parse(expected), let a = try? JSONValue.parse(actual) {
                structural = JSONDiff.found(expected: e, actual: a)
            } else {
                structural = []
            }
            if structural.isEmpty {
                differences.append(
                    GoldenDifference(
                        file: name, path: "", expected: nil, actual: nil,
                        description:
                            "\(name): the text differs from the golden file (formatting or key order); run `tally run --update` to rewrite it"
                    ))
            } else {
                differences += structural.map {
                    GoldenDifference(
                        file: name, path: $0.path, expected: $0.expected, actual: $0.actual,
                        description: "\(name): \($0.sentence)")
                }
            }
        }
        return differences
    }

    /// Writes the run's golden files; returns the names of those whose content changed.
    ///
    /// Each file is written to a temporary file and moved into place, so an
    /// interrupted update never leaves a half-written golden file.
    public func update(_ run: ScenarioRun) throws -> [String] {
        let directory = folder(run.scenario.name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var changed: [String] = []
        for (name, text) in GoldenFiles.documents(of: run) {
            let url = directory.appendingPathComponent(name)
            if (try? String(contentsOf: url, encoding: .utf8)) == text { continue }
            try Data(text.utf8).write(to: url, options: .atomic)
            changed.append(name)
        }
        return changed
    }
}

/// One difference between a run and a golden file, as data (`tally run --json`).
public struct GoldenDifference: Sendable, Equatable, CustomStringConvertible {
    /// `invoices.json` or `rejections.json`.
    public var file: String
    /// Where in the file, e.g. `invoices acme period 2026-01-01 lines 'API calls' amount`; empty for the whole file.
    public var path: String
    /// The golden file's value; nil where it has none (or the file is missing).
    public var expected: String?
    /// The run's value; nil where it has none.
    public var actual: String?
    /// The line the run prints: `invoices.json: <path>: expected X, actual Y`.
    public var description: String
}
