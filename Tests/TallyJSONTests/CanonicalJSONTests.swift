import TallyJSON
import Testing

@Suite struct CanonicalJSONTests {
    @Test func keysSortByUTF8Bytes() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": 2, "B": 3, "aa": 4}"#)
        // Uppercase letters sort before lowercase in ASCII, and a prefix sorts before its extensions.
        #expect(CanonicalJSON.write(value, pretty: false) == #"{"B":3,"a":2,"aa":4,"b":1}"# + "\n")
    }

    @Test func nonASCIIKeysSortByBytesNotUTF16() {
        // U+FF61 is EF BD A1 in UTF-8 but sorts after U+10000 (D800 DC00) in UTF-16 order.
        let value = object(("\u{10000}", .null), ("\u{FF61}", .null), ("é", .null), ("z", .null))
        #expect(
            CanonicalJSON.write(value, pretty: false)
                == "{\"z\":null,\"é\":null,\"\u{FF61}\":null,\"\u{10000}\":null}\n")
    }

    @Test func exactPrettyOutput() throws {
        let value = try JSONValue.parse(
            """
            {"usage": {"quantity": 0.0015, "meter": "api_calls"}, "amount": -3, "tags": ["x", "y"],
             "empty": [], "none": {}, "ok": true, "note": null, "rate": 1e999, "matrix": [[1, 2], []]}
            """)
        let expected = """
            {
              "amount": -3,
              "empty": [],
              "matrix": [
                [
                  1,
                  2
                ],
                []
              ],
              "none": {},
              "note": null,
              "ok": true,
              "rate": 1e999,
              "tags": [
                "x",
                "y"
              ],
              "usage": {
                "meter": "api_calls",
                "quantity": 0.0015
              }
            }

            """
        #expect(CanonicalJSON.write(value) == expected)
    }

    @Test func exactCompactOutput() throws {
        let value = try JSONValue.parse(
            #"{"usage": {"quantity": 0.0015, "meter": "api_calls"}, "tags": ["x", []], "none": {}}"#)
        #expect(
            CanonicalJSON.write(value, pretty: false)
                == #"{"none":{},"tags":["x",[]],"usage":{"meter":"api_calls","quantity":0.0015}}"# + "\n")
    }

    @Test func scalarsAtTopLevel() {
        #expect(CanonicalJSON.write(.number("1e999")) == "1e999\n")
        #expect(CanonicalJSON.write(.string("")) == "\"\"\n")
        #expect(CanonicalJSON.write(.null, pretty: false) == "null\n")
        #expect(CanonicalJSON.write(.array([])) == "[]\n")
    }

    @Test func stringEscapingIsMinimal() {
        let text = "\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1}\u{1F} é😀\u{7F}"
        // Short escapes where JSON has them, lowercase \u00XX for other control characters, '/' and non-ASCII as is.
        #expect(CanonicalJSON.write(.string(text)) == #""\"\\/\b\f\n\r\t\u0000\u0001\u001f é😀"# + "\u{7F}\"\n")
    }

    @Test func escapedInputIsWrittenCanonically() throws {
        // Different spellings of the same string produce the same output.
        #expect(try CanonicalJSON.write(JSONValue.parse(#""\u00e9\/\u000A""#)) == #""é/\n""# + "\n")
        #expect(try CanonicalJSON.write(JSONValue.parse(#""é/\n""#)) == #""é/\n""# + "\n")
    }

    @Test(arguments: [
        #"{"b": 1, "a": [true, false, null, -0, 1.5e-7, "x\ty"], "c": {"z": {}, "y": []}}"#,
        #"[{"é": "\ud83d\ude00", "e\u0301": "\u0000"}, 0.0015, 1e999, "\\\"/"]"#,
        #""just a string""#,
        "[[[[[]]]]]",
        "-0",
    ])
    func roundTrip(text: String) throws {
        let value = try JSONValue.parse(text)
        for pretty in [true, false] {
            let written = CanonicalJSON.write(value, pretty: pretty)
            #expect(try JSONValue.parse(written) == value)
            // Writing is idempotent: canonical output re-parsed and re-written is byte-identical.
            #expect(try CanonicalJSON.write(JSONValue.parse(written), pretty: pretty) == written)
        }
    }
}
