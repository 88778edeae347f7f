import TallyCatalogFile
import Yams

extension ScenarioLoader {
    /// The top-level sections a plans-only file borrows from the scenario it re-prices.
    static let borrowedSections = [
        "name", "seed", "start", "periods", "period_length", "anchor", "currency", "tenant", "ingest",
        "metrics", "customers", "discounts", "taxes", "tax_rounding", "credits", "entitlement_cache",
    ]

    /// Loads a what-if catalog for `tally rerate --plans`: a whole scenario, or a file holding only
    /// `plans` (and perhaps `metrics`, `discounts`, ...), completed from the recorded scenario.
    ///
    /// The sections the file lacks are appended after its own text, so every message about the
    /// file's own lines keeps its line and column. The recorded traffic, faults and `expect:` are
    /// not borrowed: re-rating prices recorded events, and expectations were for the old prices.
    public static func load(
        plans text: String, file: String, completingFrom recorded: String
    ) throws(ScenarioErrors)
        -> Scenario
    {
        guard let root = try? YAMLDocument.compose(text, file: file, emptyMessage: ""),
            case .mapping(let mapping) = root,
            root["customers"] == nil,
            let recordedRoot = try? YAMLDocument.compose(recorded, file: file, emptyMessage: "")
        else {
            return try load(yaml: text, file: file)
        }
        let present = Set(mapping.keys.compactMap(\.string))
        let borrowed = borrowedSections.filter { !present.contains($0) }.compactMap { key -> (Node, Node)? in
            recordedRoot[key].map { (Node(key), $0) }
        }
        guard let appended = try? Yams.serialize(node: .mapping(Node.Mapping(borrowed))) else {
            return try load(yaml: text, file: file)
        }
        let separator = text.hasSuffix("\n") ? "" : "\n"
        return try load(yaml: text + separator + "# borrowed from the recorded scenario:\n" + appended, file: file)
    }
}
