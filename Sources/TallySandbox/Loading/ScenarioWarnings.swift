import TallyCatalogFile
import TallyPipeline
import Yams

/// Likely mistakes in a valid scenario: values that load but are probably not what was meant.
///
/// `tally check` prints them beside the errors; they never stop a run, since a tax of 0.5% is legal.
public enum ScenarioWarnings {
    /// Each warning as `file:line:column: warning: ...`, in file order.
    public static func warnings(yaml text: String, file: String) -> [Diagnostic] {
        guard let root = try? Yams.compose(yaml: text) else { return [] }
        var found: [Diagnostic] = []
        // Rates and percents are percent: 7.25 means 7.25%, so 0.0725 is most likely a fraction.
        let percents: [(section: String, key: String, what: String)] = [
            ("taxes", "rate", "tax rate"), ("discounts", "percent", "discount percent"),
        ]
        for (section, key, what) in percents {
            for item in root[section]?.sequence ?? [] {
                guard let node = item[key], let text = node.scalar?.string, let value = ExactDecimal(text),
                    !value.isZero, !value.isNegative, value < .one,
                    let percent = try? value * ExactDecimal(100)
                else { continue }
                found.append(
                    Diagnostic(
                        file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1,
                        message: "warning: \(what) \(text) is \(text)%; did you mean \(percent.normalized)? "
                            + "(rates are percent: 7.25 means 7.25%)"
                    ))
            }
        }
        return found.sorted()
    }
}
