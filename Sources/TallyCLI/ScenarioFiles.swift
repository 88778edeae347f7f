import Foundation

/// Finds scenario files: the paths given (files, or folders of .yaml files), or every scenario in `Scenarios/`.
enum ScenarioFiles {
    static func resolve(_ paths: [String]) throws -> [String] {
        let roots = paths.isEmpty ? ["Scenarios"] : paths
        var files: [String] = []
        for root in roots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
                throw CLIError("\(root): no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: root)
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .sorted()
                files += names.map { (root as NSString).appendingPathComponent($0) }
            } else {
                files.append(root)
            }
        }
        if files.isEmpty { throw CLIError("no scenario files found in \(roots.joined(separator: ", "))") }
        return files
    }

    /// The Fixtures/ folder beside the scenario's folder (Scenarios/x.yaml -> Fixtures/).
    static func fixtures(for file: String, override: String?) -> URL {
        if let override { return URL(fileURLWithPath: override, isDirectory: true) }
        let scenarioFolder = URL(fileURLWithPath: file).deletingLastPathComponent()
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
