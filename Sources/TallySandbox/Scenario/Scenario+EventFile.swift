import Foundation
import TallyGateways

extension Scenario {
    /// The scenario billing one event file instead of its own traffic, events, faults and files
    /// (`tally run SCENARIO --events FILE`): its catalog, periods and ingest windows, no `expect:` checks.
    ///
    /// - Parameters:
    ///   - format: nil to tell by the file's extension: `.csv` is CSV, anything else Tally's JSON Lines.
    ///   - mapping: for a gateway format, nil for the gateway's default mapping.
    public func billing(file: String, format: RecordFormat? = nil, mapping: GatewayMapping? = nil) -> Scenario {
        var scenario = self
        let format = format ?? (file.hasSuffix(".csv") ? .csv : .jsonl)
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        scenario.traffic = []
        scenario.events = []
        scenario.faults = []
        scenario.inputs = [
            EventFileInput(path: path, name: file, format: format, mapping: mapping ?? format.gateway?.defaultMapping)
        ]
        scenario.expectations = Expectations()
        return scenario
    }
}
