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
    }

    /// How the run differs from its golden files: readable lines naming the file,
    /// customer, period and line; empty when it matches byte for byte.
    public func compare(_ run: ScenarioRun, limit: Int = 20) -> [String] {
        var differences: [String] = []
        for (name, actual) in GoldenFiles.documents(of: run) {
            let url = folder(run.scenario.name).appendingPathComponent(name)
            guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
                differences.append("\(name): no golden file at \(url.path); run `tally run --update` to create it, then check it by hand")
                continue
            }
            guard expected != actual else { continue }
            let structural: [String]
            if let e = try? JSONValue.parse(expected), let a = try? JSONValue.parse(actual) {
                structural = JSONDiff.differences(expected: e, actual: a)
            } else {
                structural = []
            }
            if structural.isEmpty {
                differences.append("\(name): the text differs from the golden file (formatting or key order); run `tally run --update` to rewrite it")
            } else {
                differences += structural.map { "\(name): \($0)" }
            }
        }
        if differences.count > limit {
            return Array(differences.prefix(limit)) + ["... and \(differences.count - limit) more differences"]
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
