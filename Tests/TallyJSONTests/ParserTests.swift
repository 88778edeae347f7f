import TallyJSON
import Testing

@Suite struct ParserTests {
    @Test func literalsAndWhitespace() throws {
        #expect(try JSONValue.parse(" \t\r\n true \n") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("[ ]") == .array([]))
        #expect(try JSONValue.parse("{ }") == .object(JSONObject()))
        // Form feed and vertical tab are not JSON whitespace.
        #expect(parseError("\u{0C}1")?.description == "1:1: unexpected byte 0x0C, expected a value")
    }

    @Test func nestedDocumentKeepsMemberOrder() throws {
        let value = try JSONValue.parse(#"{"b": [1, "x", null], "a": {"c": true}}"#)
        guard case .object(let root) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(root.members.map(\.key) == ["b", "a"])
        #expect(root["b"] == .array([.number("1"), .string("x"), .null]))
        #expect(root["a"] == object(("c", .bool(true))))
        #expect(root["missing"] == nil)
    }

    @Test func everyEscape() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u0041\u00e9\u00E9\u20ac""#) == .string("Aéé€"))
        // NUL is a legal character once escaped.
        #expect(try JSONValue.parse(#""a\u0000b""#) == .string("a\u{0}b"))
        // Escapes in the middle of plain and non-ASCII text keep the text around them.
        #expect(try JSONValue.parse(#""prix: 5€\ttotal""#) == .string("prix: 5€\ttotal"))
    }

    @Test func badEscapes() {
        #expect(
            parseError(#""\x""#)?.description
                == #"1:3: unexpected 'x', expected one of \" \\ \/ \b \f \n \r \t \uXXXX after '\'"#)
        #expect(parseError(#""\u12G4""#)?.description == #"1:6: unexpected 'G', expected 4 hex digits after '\u'"#)
        // A raw line break must be escaped inside a string.
        #expect(
            parseError("\"a\nb\"")?.description
                == #"1:3: unescaped control character 0x0A in string, expected an escape such as \n or \u000a"#)
    }

    @Test func surrogatePairs() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""\uD834\uDD1E!""#) == .string("𝄞!"))
        // Raw 4-byte UTF-8 needs no escaping at all.
        #expect(try JSONValue.parse("\"😀\"") == .string("😀"))
    }

    @Test func loneSurrogatesAreErrors() {
        #expect(
            parseError(#""\ud83d""#)?.description
                == #"1:8: unpaired high surrogate \uD83D, expected a low surrogate escape \uDC00-\uDFFF right after it"#
        )
        #expect(parseError(#""\ud83dx""#)?.column == 8)
        // A second escape that is not a low surrogate does not complete the pair.
        #expect(parseError(#""\ud83d\u0041""#)?.column == 8)
        #expect(parseError(#""\ud83d\ud83d""#)?.column == 8)
        #expect(
            parseError(#""\ude00""#)?.description
                == #"1:2: unpaired low surrogate \uDE00, expected it only after a high surrogate \uD800-\uDBFF"#)
    }

    @Test(arguments: ["0", "-0", "0.5", "-3", "1e999", "1E+2", "1e-2", "-0.0", "0.0015", "123.456e789", "-1.5E-0"])
    func numbersKeepTheirText(text: String) throws {
        #expect(try JSONValue.parse(text) == .number(text))
        #expect(try JSONValue.parse("[\(text)]") == .array([.number(text)]))
    }

    @Test func numbersAreNotNormalized() throws {
        // Text equality: 1.0 and 1 are different literals, so a rescaled amount is visible.
        #expect(try JSONValue.parse("1.0") != JSONValue.parse("1"))
        #expect(try JSONValue.parse("1e2") != JSONValue.parse("100"))
    }

    @Test(arguments: [
        ("01", 2), ("-01", 3), ("1.", 3), (".5", 1), ("+1", 1), ("--1", 2), ("-", 2),
        ("1e", 3), ("1e+", 4), ("1.e5", 3), ("NaN", 1), ("Infinity", 1), ("-Infinity", 2), ("0x10", 2), ("1 2", 3),
    ])
    func malformedNumbersAreRejectedWithPosition(text: String, column: Int) {
        let error = parseError(text)
        #expect(error?.line == 1)
        #expect(error?.column == column)
    }

    @Test func numberErrorMessages() {
        #expect(
            parseError("01")?.description
                == "1:2: unexpected '1', expected '.', 'e' or the end of the number after a leading '0' (leading zeros are not allowed)"
        )
        #expect(parseError("1.")?.description == "1:3: unexpected end of input, expected a digit after '.'")
        #expect(parseError(".5")?.description == "1:1: unexpected '.', expected a value")
        #expect(parseError("+1")?.description == "1:1: unexpected '+', expected a value")
        #expect(parseError("--1")?.description == "1:2: unexpected '-', expected a digit after '-'")
        #expect(parseError("1e+x")?.description == "1:4: unexpected 'x', expected a digit after the exponent")
    }

    @Test func nestingDepthLimit() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try JSONValue.parse(deepest) != .null)
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(
            parseError(tooDeep)?.description
                == "1:513: nesting too deep, expected at most 512 nested arrays and objects")
        // Objects count towards the same limit as arrays.
        let mixed = String(repeating: #"{"a":["#, count: 257) + "1" + String(repeating: "]}", count: 257)
        #expect(parseError(mixed)?.message.hasPrefix("nesting too deep") == true)
        // A hostile input far deeper than the limit fails fast instead of exhausting the stack.
        #expect(parseError(String(repeating: "[", count: 1_000_000))?.column == 513)
    }

    @Test func duplicateKeysAreRejected() throws {
        #expect(
            parseError(#"{"a": 1, "a": 2}"#)?.description
                == #"1:10: duplicate key "a", expected each key at most once per object"#)
        // An escaped spelling of the same key is still the same key.
        #expect(parseError(#"{"a": 1, "\u0061": 2}"#)?.column == 10)
        // Past 16 members duplicates are found through a hash set; the result must not change.
        let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        #expect(try JSONValue.parse("{\(many)}") != .null)
        #expect(parseError("{\(many), \"k7\": 0}")?.message.hasPrefix(#"duplicate key "k7""#) == true)
        // The same key in different objects is fine.
        #expect(try JSONValue.parse(#"[{"a": 1}, {"a": 2}, {"x": {"a": 3}, "a": 4}]"#) != .null)
        // Keys are compared as bytes: precomposed and decomposed é are different keys.
        #expect(try JSONValue.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}") != .null)
    }

    @Test func trailingCommasAreRejectedWithPosition() {
        #expect(
            parseError("[1, 2,]")?.description
                == "1:7: unexpected ']' after ',', expected a value (trailing commas are not allowed)")
        #expect(
            parseError("{\n  \"a\": 1,\n}")?.description
                == "3:1: unexpected '}' after ',', expected a string key (trailing commas are not allowed)")
    }

    @Test func structuralErrors() {
        #expect(parseError(#"{"amount": 1, "currency": }"#)?.description == "1:27: unexpected '}', expected a value")
        #expect(parseError("[1 2]")?.description == "1:4: unexpected '2', expected ',' or ']'")
        #expect(parseError(#"{"a" 1}"#)?.description == "1:6: unexpected '1', expected ':' after the key")
        #expect(parseError("{a: 1}")?.description == "1:2: unexpected 'a', expected a string key")
        #expect(parseError("[1]]")?.description == "1:4: unexpected ']', expected end of input")
        #expect(parseError("{} x")?.description == "1:4: unexpected 'x', expected end of input")
        #expect(parseError("trux")?.description == "1:4: unexpected 'x', expected 'true'")
        // A byte-order mark is not JSON whitespace in strict mode.
        #expect(
            parseError(bytes: [0xEF, 0xBB, 0xBF, 0x31])?.description == "1:1: unexpected byte 0xEF, expected a value")
    }

    @Test func truncatedInput() {
        #expect(parseError("")?.description == "1:1: unexpected end of input, expected a value")
        #expect(parseError("  \n ")?.description == "2:2: unexpected end of input, expected a value")
        #expect(parseError("[")?.description == "1:2: unexpected end of input, expected a value")
        #expect(parseError("[1")?.description == "1:3: unexpected end of input, expected ',' or ']'")
        #expect(parseError(#"{"a""#)?.description == "1:5: unexpected end of input, expected ':' after the key")
        #expect(parseError(#"{"a":"#)?.description == "1:6: unexpected end of input, expected a value")
        #expect(parseError(#"{"a":1"#)?.description == "1:7: unexpected end of input, expected ',' or '}'")
        #expect(parseError("nul")?.description == "1:4: unexpected end of input, expected 'null'")
        #expect(parseError("-")?.description == "1:2: unexpected end of input, expected a digit after '-'")
        #expect(
            parseError("[\n  \"abc")?.description
                == #"2:7: unexpected end of input, expected '"' to close the string opened at 2:3"#)
        #expect(
            parseError(#""\"#)?.description == #"1:3: unexpected end of input, expected an escape character after '\'"#)
        #expect(
            parseError(#""\u12"#)?.description == #"1:6: unexpected end of input, expected 4 hex digits after '\u'"#)
    }

    @Test func invalidUTF8IsAnError() throws {
        let quote: UInt8 = 0x22
        // 0xC3 must be followed by a continuation byte, not '('.
        #expect(
            parseError(bytes: [quote, 0xC3, 0x28, quote])?.description
                == "1:3: invalid UTF-8 byte 0x28 in string, expected a continuation byte in 0x80-0xBF")
        // Overlong encoding of '/'.
        #expect(parseError(bytes: [quote, 0xC0, 0xAF, quote])?.column == 2)
        // An encoded UTF-16 surrogate (U+D800) is not valid UTF-8.
        #expect(parseError(bytes: [quote, 0xED, 0xA0, 0x80, quote])?.column == 3)
        // Above U+10FFFF.
        #expect(parseError(bytes: [quote, 0xF4, 0x90, 0x80, 0x80, quote])?.column == 3)
        #expect(
            parseError(bytes: [quote, 0xFF, quote])?.description
                == "1:2: invalid UTF-8 byte 0xFF in string, expected valid UTF-8")
        #expect(
            parseError(bytes: [quote, 0xE2, 0x82])?.description
                == "1:4: unexpected end of input inside a UTF-8 sequence, expected a continuation byte")
        // Invalid UTF-8 after an escape goes through the slow path and is caught there too.
        #expect(parseError(bytes: [quote, 0x5C, 0x6E, 0x80, quote])?.column == 4)
        // Valid 2-, 3- and 4-byte sequences pass unchanged.
        #expect(try JSONValue.parse(Array("\"é€😀\"".utf8)) == .string("é€😀"))
    }

    @Test func columnsCountBytes() {
        // "é" is two bytes, so '1' is the 7th byte of the line though the 6th character.
        #expect(parseError("[\"é\" 1]")?.column == 7)
    }

    @Test func tenKilobyteStrings() throws {
        let plain = String(repeating: "abcdefghij", count: 1024)
        #expect(try JSONValue.parse("\"\(plain)\"") == .string(plain))
        // The same size with escapes throughout exercises the scratch-buffer path.
        let escaped = String(repeating: #"abc\"def\n€"#, count: 1024)
        let decoded = String(repeating: "abc\"def\n€", count: 1024)
        #expect(try JSONValue.parse("\"\(escaped)\"") == .string(decoded))
    }

    @Test func acceptsAnyByteCollection() throws {
        let text = #"{"quantity": 0.0015}"#
        let expected = object(("quantity", .number("0.0015")))
        #expect(try JSONValue.parse(Array(text.utf8)) == expected)
        #expect(try JSONValue.parse(Array(("xx" + text).utf8).dropFirst(2)) == expected)
        #expect(try JSONValue.parse(text.utf8) == expected)
        // A reversed view has no contiguous storage, which forces the copying fallback.
        let reversedTwice = Array(text.utf8.reversed()).reversed()
        #expect(try JSONValue.parse(reversedTwice) == expected)
    }

    @Test func objectEqualityIgnoresMemberOrder() throws {
        #expect(try JSONValue.parse(#"{"a": 1, "b": [2]}"#) == JSONValue.parse(#"{"b": [2], "a": 1}"#))
        #expect(try JSONValue.parse(#"{"a": 1, "b": 2}"#) != JSONValue.parse(#"{"a": 1, "c": 2}"#))
        #expect(try JSONValue.parse(#"{"a": 1}"#) != JSONValue.parse(#"{"a": 1, "b": 2}"#))
        // Strings compare by bytes, not by Unicode canonical equivalence as String.== would.
        #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
    }
}
