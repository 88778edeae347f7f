import ArgumentParser
import Foundation

/// Finds scenario files: the paths given (files, or folders of .yaml files), or every scenario in `Scenarios/`.
enum ScenarioFiles {
    static func resolve(_ paths: [String]) throws -> [String] {
        let roots = paths.isEmpty ? ["Scenarios"] : paths
        var files: [String] = []
        for root in roots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
                // A missing file is a bad input, exit 2, as an invalid scenario is.
                StandardError.write("error: \(root): no such file or folder\n")
                throw ExitCode(2)
            }
            if isDirectory.boolValue {
                guard let all = try? FileManager.default.contentsOfDirectory(atPath: root) else {
                    StandardError.write("error: \(root): cannot read the folder\n")
                    throw ExitCode(2)
                }
                let names =
                    all
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .sorted()
                files += names.map { (root as NSString).appendingPathComponent($0) }
            } else {
                files.append(root)
            }
        }
        if files.isEmpty {
            StandardError.write("error: no scenario files found in \(roots.joined(separator: ", "))\n")
            throw ExitCode(2)
        }
        return files
    }

    /// The folder holding the scenario's golden folder: `Fixtures/` beside the `Scenarios/` folder
    /// the file is in, with the file's subfolders of `Scenarios/` (Scenarios/x.yaml -> Fixtures/,
    /// Scenarios/eu/x.yaml -> Fixtures/eu/). A file outside any `Scenarios/` folder uses `Fixtures/`
    /// beside its own folder.
    static func fixtures(for file: String, override: String?) -> URL {
        if let override { return URL(fileURLWithPath: override, isDirectory: true) }
        let scenarioFolder = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL
        var subfolders: [String] = []
        var folder = scenarioFolder
        while folder.pathComponents.count > 1 {
            if folder.lastPathComponent == "Scenarios" {
                return subfolders.reversed().reduce(
                    folder.deletingLastPathComponent().appendingPathComponent("Fixtures", isDirectory: true)
                ) {
                    $0.appendingPathComponent($1, isDirectory: true)
                }
            }
            subfolders.append(folder.lastPathComponent)
            folder = folder.deletingLastPathComponent()
        }
        return scenarioFolder.deletingLastPathComponent().appendingPathComponent("Fixtures", isDirectory: true)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
