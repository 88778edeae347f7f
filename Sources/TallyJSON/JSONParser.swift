extension JSONValue {
    /// Parses one complete JSON text (RFC 8259, strict) from UTF-8 bytes.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice`, `UnsafeBufferPointer`,
    /// `String.UTF8View`) are read in place; any other collection is copied once.
    /// Nesting deeper than 512 arrays/objects, duplicate keys, lone surrogates,
    /// invalid UTF-8 and anything after the value except whitespace are errors.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let result =
            bytes.withContiguousStorageIfAvailable { buffer in
                var parser = JSONParser(buffer)
                return parser.parseDocument(in: 0..<buffer.count)
            }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in
                var parser = JSONParser(buffer)
                return parser.parseDocument(in: 0..<buffer.count)
            }
        return try result.get()
    }

    /// Parses one complete JSON text from a string's UTF-8.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in
            var parser = JSONParser(buffer)
            return parser.parseDocument(in: 0..<buffer.count)
        }.get()
    }
}

/// ASCII bytes the grammar is written in.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let one: UInt8 = 0x31
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let upperE: UInt8 = 0x45
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowerB: UInt8 = 0x62
    static let lowerE: UInt8 = 0x65
    static let lowerF: UInt8 = 0x66
    static let lowerN: UInt8 = 0x6E
    static let lowerR: UInt8 = 0x72
    static let lowerT: UInt8 = 0x74
    static let lowerU: UInt8 = 0x75
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// A strict RFC 8259 parser over a contiguous UTF-8 buffer.
///
/// It works on bytes and offsets, never `Character`s, because per-character
/// `String` building is what makes naive parsers slow: strings are created from
/// whole byte slices, and only strings containing escapes are assembled in a
/// reusable scratch buffer. Containers start with room for 8 elements so a
/// typical usage event costs one allocation per container, not a regrowth per
/// member. One parser can parse many documents (JSON Lines) and reuses its
/// scratch buffer.
struct JSONParser {
    /// Deep enough for any real document, shallow enough that recursion cannot exhaust the stack.
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var start = 0
    private var end = 0
    private var pos = 0
    private var firstLine = 1
    private var depth = 0
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.end = bytes.count
    }

    /// Parses `bytes[range]` as one whole document whose first byte lies on line `firstLine`.
    ///
    /// `range` must lie within the buffer; callers are internal and derive it from the buffer's count.
    mutating func parseDocument(in range: Range<Int>, firstLine: Int = 1) -> Result<JSONValue, JSONError> {
        start = max(0, range.lowerBound)
        end = min(bytes.count, range.upperBound)
        pos = start
        self.firstLine = firstLine
        depth = 0
        do throws(JSONError) {
            skipWhitespace()
            let value = try parseValue()
            skipWhitespace()
            if pos < end { throw unexpected(expected: "end of input") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard pos < end else { throw unexpected(expected: "a value") }
        switch bytes[pos] {
        case ASCII.quote:
            return .string(try parseString())
        case ASCII.openBrace:
            return try parseObject()
        case ASCII.openBracket:
            return try parseArray()
        case ASCII.lowerT:
            try parseLiteral("true")
            return .bool(true)
        case ASCII.lowerF:
            try parseLiteral("false")
            return .bool(false)
        case ASCII.lowerN:
            try parseLiteral("null")
            return .null
        case ASCII.minus, ASCII.zero...ASCII.nine:
            return .number(try parseNumber())
        default:
            throw unexpected(expected: "a value")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONError) {
        let text = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for (offset, byte) in text.enumerated() {
            guard pos + offset < end, bytes[pos + offset] == byte else {
                throw unexpected(at: pos + offset, expected: "'\(literal)'")
            }
        }
        pos += text.count
    }

    private mutating func enterContainer() throws(JSONError) {
        depth += 1
        if depth > Self.maxDepth {
            throw fail(at: pos, "nesting too deep, expected at most \(Self.maxDepth) nested arrays and objects")
        }
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        pos += 1
        skipWhitespace()
        if pos < end, bytes[pos] == ASCII.closeBracket {
            pos += 1
            depth -= 1
            return .array([])
        }
        var elements: [JSONValue] = []
        elements.reserveCapacity(8)
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard pos < end else { throw unexpected(expected: "',' or ']'") }
            if bytes[pos] == ASCII.closeBracket {
                pos += 1
                break
            }
            guard bytes[pos] == ASCII.comma else { throw unexpected(expected: "',' or ']'") }
            pos += 1
            skipWhitespace()
            if pos < end, bytes[pos] == ASCII.closeBracket {
                throw fail(at: pos, "unexpected ']' after ',', expected a value (trailing commas are not allowed)")
            }
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        pos += 1
        skipWhitespace()
        if pos < end, bytes[pos] == ASCII.closeBrace {
            pos += 1
            depth -= 1
            return .object(JSONObject())
        }
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(8)
        var keyIndex: Set<UTF8Key>? = nil
        while true {
            guard pos < end, bytes[pos] == ASCII.quote else { throw unexpected(expected: "a string key") }
            let keyStart = pos
            let key = try parseString()
            if isDuplicate(key, in: members, index: &keyIndex) {
                throw fail(
                    at: keyStart, "duplicate key \(quotedForMessage(key)), expected each key at most once per object")
            }
            skipWhitespace()
            guard pos < end, bytes[pos] == ASCII.colon else { throw unexpected(expected: "':' after the key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key: key, value: value))
            skipWhitespace()
            guard pos < end else { throw unexpected(expected: "',' or '}'") }
            if bytes[pos] == ASCII.closeBrace {
                pos += 1
                break
            }
            guard bytes[pos] == ASCII.comma else { throw unexpected(expected: "',' or '}'") }
            pos += 1
            skipWhitespace()
            if pos < end, bytes[pos] == ASCII.closeBrace {
                throw fail(at: pos, "unexpected '}' after ',', expected a string key (trailing commas are not allowed)")
            }
        }
        depth -= 1
        return .object(JSONObject(members))
    }

    /// Whether `key` is already among `members`.
    ///
    /// Small objects are scanned linearly, which beats hashing for the handful
    /// of keys in a usage event; from 16 members on, a byte-keyed set keeps a
    /// hostile object with many keys from costing quadratic time.
    private func isDuplicate(
        _ key: String, in members: [(key: String, value: JSONValue)], index: inout Set<UTF8Key>?
    ) -> Bool {
        if members.count < 16 {
            for member in members where utf8Equal(member.key, key) {
                return true
            }
            return false
        }
        if index == nil {
            index = Set(members.map { UTF8Key(string: $0.key) })
        }
        return index?.insert(UTF8Key(string: key)).inserted == false
    }

    // MARK: Numbers

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` and returns its text unchanged.
    private mutating func parseNumber() throws(JSONError) -> String {
        let numberStart = pos
        if bytes[pos] == ASCII.minus {
            pos += 1
        }
        guard pos < end else { throw unexpected(expected: "a digit after '-'") }
        let first = bytes[pos]
        if first == ASCII.zero {
            pos += 1
            if pos < end, isDigit(bytes[pos]) {
                throw unexpected(
                    expected: "'.', 'e' or the end of the number after a leading '0' (leading zeros are not allowed)")
            }
        } else if first >= ASCII.one && first <= ASCII.nine {
            pos += 1
            skipDigits()
        } else {
            throw unexpected(expected: "a digit after '-'")
        }
        if pos < end, bytes[pos] == ASCII.dot {
            pos += 1
            try requireDigits(after: "'.'")
        }
        if pos < end, bytes[pos] == ASCII.lowerE || bytes[pos] == ASCII.upperE {
            pos += 1
            if pos < end, bytes[pos] == ASCII.plus || bytes[pos] == ASCII.minus {
                pos += 1
            }
            try requireDigits(after: "the exponent")
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[numberStart..<pos]), as: UTF8.self)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= ASCII.zero && byte <= ASCII.nine
    }

    private mutating func skipDigits() {
        while pos < end, isDigit(bytes[pos]) {
            pos += 1
        }
    }

    private mutating func requireDigits(after what: String) throws(JSONError) {
        guard pos < end, isDigit(bytes[pos]) else { throw unexpected(expected: "a digit after \(what)") }
        skipDigits()
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONError) -> String {
        let open = pos
        let contentStart = pos + 1
        var i = contentStart
        while i < end {
            let byte = bytes[i]
            if byte == ASCII.quote {
                pos = i + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[contentStart..<i]), as: UTF8.self)
            } else if byte == ASCII.backslash {
                return try parseEscapedString(open: open, contentStart: contentStart, firstEscape: i)
            } else if byte < ASCII.space {
                throw controlCharacter(at: i)
            } else if byte < 0x80 {
                i += 1
            } else {
                i = try validateUTF8Sequence(at: i)
            }
        }
        throw unterminatedString(openedAt: open)
    }

    /// The slow path, taken only once a backslash appears: decodes into the scratch buffer.
    private mutating func parseEscapedString(open: Int, contentStart: Int, firstEscape: Int) throws(JSONError) -> String
    {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<firstEscape]))
        var i = firstEscape
        while i < end {
            let byte = bytes[i]
            if byte == ASCII.quote {
                pos = i + 1
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == ASCII.backslash {
                i = try decodeEscape(at: i)
            } else if byte < ASCII.space {
                throw controlCharacter(at: i)
            } else {
                // Appending whole runs, not single bytes, keeps escaped strings near fast-path speed.
                let runStart = i
                while i < end {
                    let b = bytes[i]
                    if b == ASCII.quote || b == ASCII.backslash || b < ASCII.space { break }
                    if b < 0x80 {
                        i += 1
                    } else {
                        i = try validateUTF8Sequence(at: i)
                    }
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            }
        }
        throw unterminatedString(openedAt: open)
    }

    /// Decodes the escape whose backslash is at `i` into the scratch buffer and returns the offset after it.
    private mutating func decodeEscape(at i: Int) throws(JSONError) -> Int {
        guard i + 1 < end else { throw unexpected(at: i + 1, expected: "an escape character after '\\'") }
        let decoded: UInt8
        switch bytes[i + 1] {
        case ASCII.quote: decoded = ASCII.quote
        case ASCII.backslash: decoded = ASCII.backslash
        case ASCII.slash: decoded = ASCII.slash
        case ASCII.lowerB: decoded = 0x08
        case ASCII.lowerF: decoded = 0x0C
        case ASCII.lowerN: decoded = ASCII.newline
        case ASCII.lowerR: decoded = ASCII.carriageReturn
        case ASCII.lowerT: decoded = ASCII.tab
        case ASCII.lowerU:
            return try decodeUnicodeEscape(at: i)
        default:
            throw unexpected(at: i + 1, expected: #"one of \" \\ \/ \b \f \n \r \t \uXXXX after '\'"#)
        }
        scratch.append(decoded)
        return i + 2
    }

    /// Decodes `\uXXXX`, or a `\uD8xx\uDCxx` surrogate pair, starting at the backslash at `i`.
    private mutating func decodeUnicodeEscape(at i: Int) throws(JSONError) -> Int {
        let unit = try hex4(at: i + 2)
        var scalarValue = UInt32(unit)
        var next = i + 6
        if (0xDC00...0xDFFF).contains(unit) {
            throw fail(
                at: i,
                "unpaired low surrogate \\u\(hexByte(UInt8(unit >> 8)))\(hexByte(UInt8(unit & 0xFF))), expected it only after a high surrogate \\uD800-\\uDBFF"
            )
        }
        if (0xD800...0xDBFF).contains(unit) {
            // UTF-16 needs two escapes for one scalar above U+FFFF; a high half alone is not text.
            guard next + 1 < end, bytes[next] == ASCII.backslash, bytes[next + 1] == ASCII.lowerU else {
                throw fail(
                    at: next,
                    "unpaired high surrogate \\u\(hexByte(UInt8(unit >> 8)))\(hexByte(UInt8(unit & 0xFF))), expected a low surrogate escape \\uDC00-\\uDFFF right after it"
                )
            }
            let low = try hex4(at: next + 2)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw fail(
                    at: next,
                    "unpaired high surrogate \\u\(hexByte(UInt8(unit >> 8)))\(hexByte(UInt8(unit & 0xFF))), expected a low surrogate escape \\uDC00-\\uDFFF right after it"
                )
            }
            scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            next += 6
        }
        appendUTF8(scalarValue)
        return next
    }

    /// Appends a scalar value (never a surrogate, at most U+10FFFF) as UTF-8.
    private mutating func appendUTF8(_ value: UInt32) {
        switch value {
        case 0..<0x80:
            scratch.append(UInt8(value))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(value >> 6))
            scratch.append(0x80 | UInt8(value & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(value >> 12))
            scratch.append(0x80 | UInt8((value >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(value & 0x3F))
        default:
            scratch.append(0xF0 | UInt8((value >> 18) & 0x07))
            scratch.append(0x80 | UInt8((value >> 12) & 0x3F))
            scratch.append(0x80 | UInt8((value >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(value & 0x3F))
        }
    }

    private func hex4(at offset: Int) throws(JSONError) -> UInt16 {
        var value: UInt16 = 0
        for p in offset..<(offset + 4) {
            guard p < end else { throw unexpected(at: p, expected: "4 hex digits after '\\u'") }
            let byte = bytes[p]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw unexpected(at: p, expected: "4 hex digits after '\\u'")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// Checks the multi-byte UTF-8 sequence starting at `i` and returns the offset after it.
    ///
    /// Follows the well-formed byte table of Unicode §3.9 (Table 3-7), so
    /// overlong forms, encoded surrogates and values above U+10FFFF are rejected.
    private func validateUTF8Sequence(at i: Int) throws(JSONError) -> Int {
        let lead = bytes[i]
        let continuationCount: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: continuationCount = 1
        case 0xE0:
            continuationCount = 2
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuationCount = 2
        case 0xED:
            continuationCount = 2
            high = 0x9F
        case 0xF0:
            continuationCount = 3
            low = 0x90
        case 0xF1...0xF3: continuationCount = 3
        case 0xF4:
            continuationCount = 3
            high = 0x8F
        default:
            throw fail(at: i, "invalid UTF-8 byte 0x\(hexByte(lead)) in string, expected valid UTF-8")
        }
        var j = i + 1
        for k in 0..<continuationCount {
            guard j < end else {
                throw fail(at: j, "unexpected end of input inside a UTF-8 sequence, expected a continuation byte")
            }
            let byte = bytes[j]
            let range = k == 0 ? low...high : 0x80...0xBF
            guard range.contains(byte) else {
                throw fail(
                    at: j,
                    "invalid UTF-8 byte 0x\(hexByte(byte)) in string, expected a continuation byte in 0x\(hexByte(range.lowerBound))-0x\(hexByte(range.upperBound))"
                )
            }
            j += 1
        }
        return j
    }

    // MARK: Whitespace and errors

    private mutating func skipWhitespace() {
        while pos < end {
            switch bytes[pos] {
            case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab:
                pos += 1
            default:
                return
            }
        }
    }

    /// An error at byte `offset`; the line and column are computed only now, since errors are rare.
    private func fail(at offset: Int, _ message: String) -> JSONError {
        var line = firstLine
        var lineStart = start
        var i = start
        while i < min(offset, end) {
            if bytes[i] == ASCII.newline {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return JSONError(line: line, column: offset - lineStart + 1, message: message)
    }

    private func unexpected(at offset: Int? = nil, expected: String) -> JSONError {
        let offset = offset ?? pos
        return fail(at: offset, "unexpected \(describeByte(at: offset)), expected \(expected)")
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < end else { return "end of input" }
        let byte = bytes[offset]
        if byte >= ASCII.space && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(hexByte(byte))"
    }

    private func controlCharacter(at offset: Int) -> JSONError {
        fail(
            at: offset,
            "unescaped control character 0x\(hexByte(bytes[offset])) in string, expected an escape such as \\n or \\u00\(hexByte(bytes[offset]).lowercased())"
        )
    }

    private func unterminatedString(openedAt open: Int) -> JSONError {
        let opened = fail(at: open, "")
        return fail(
            at: end,
            "unexpected end of input, expected '\"' to close the string opened at \(opened.line):\(opened.column)")
    }

    /// A key as it would appear in JSON, cut short so a huge key cannot flood the message.
    private func quotedForMessage(_ key: String) -> String {
        let shown = key.count > 40 ? String(key.prefix(40)) + "..." : key
        return CanonicalJSON.quoted(shown)
    }
}
