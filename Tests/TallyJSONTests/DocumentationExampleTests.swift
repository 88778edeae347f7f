import TallyJSON
import Testing

/// The example on TallyJSON's DocC landing page (Sources/TallyJSON/TallyJSON.docc/TallyJSON.md), run as written.
@Suite("Documentation: TallyJSON's landing page example")
struct DocumentationExampleTests {
    @Test func numbersStayTextAndOutputIsCanonical() throws {
        let value = try JSONValue.parse(#"{"quantity": 0.0015, "metric": "api_calls"}"#)
        guard case .object(let event) = value, case .number(let text)? = event["quantity"] else {
            Issue.record("expected an object with a number quantity, got \(value)")
            return
        }
        #expect(text == "0.0015")
        // Keys sorted by their UTF-8 bytes, no spaces, one final newline.
        #expect(CanonicalJSON.write(value, pretty: false) == #"{"metric":"api_calls","quantity":0.0015}"# + "\n")
    }
}
