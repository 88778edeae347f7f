import ArgumentParser
import Foundation
import TallyCatalogFile
import TallySandbox

/// `tally check`: validates scenario files without running them.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate scenario files without running them.",
        discussion:
            "Every problem is printed as file:line:column: message, and likely unit mistakes (a tax rate of 0.0725) as warnings. Exits 2 when any file is invalid; warnings alone exit 0."
    )

    @Argument(help: "Scenario files or folders (default: Scenarios/).")
    var paths: [String] = []

    func run() throws {
        var valid = 0
        var invalid = 0
        for file in try ScenarioFiles.resolve(paths) {
            switch ScenarioSource.load(file) {
            case .success(let scenario):
                valid += 1
                print("ok \(file) (\(scenario.name): \(scenario.totalEvents) events)")
                let text = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? ""
                for warning in ScenarioWarnings.warnings(yaml: text, file: file) {
                    StandardError.write(warning.description + "\n")
                }
            case .failure(let errors):
                invalid += 1
                StandardError.write(errors.description + "\n")
            }
        }
        print("\(valid) passed, \(invalid) failed")
        if invalid > 0 { throw ExitCode(2) }
    }
}

/// Reads and loads one scenario file.
enum ScenarioSource {
    static func load(_ file: String) -> Result<Scenario, ScenarioErrors> {
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure(
                ScenarioErrors(diagnostics: [
                    Diagnostic(file: file, line: 1, column: 1, message: "cannot read the file")
                ]))
        }
        do { return .success(try ScenarioLoader.load(contents: [UInt8](data), file: file)) } catch {
            return .failure(error)
        }
    }

    /// The scenario, or its problems on standard error and exit code 2, for commands that take one scenario.
    static func loadOrExit(_ file: String) throws -> Scenario {
        switch load(file) {
        case .success(let scenario): return scenario
        case .failure(let errors):
            StandardError.write(errors.description + "\n")
            throw ExitCode(2)
        }
    }
}
