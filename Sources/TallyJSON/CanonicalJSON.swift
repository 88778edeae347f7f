/// Deterministic JSON output: the same value always produces the same bytes.
///
/// Object keys are sorted by their UTF-8 bytes (never by `Dictionary` or
/// Unicode order), arrays keep their order, numbers are written as their
/// stored text, and strings escape only `"`, `\` and control characters
/// below U+0020, so two equal values always serialize identically and the
/// output can be diffed, hashed or signed.
public enum CanonicalJSON {
    /// Writes `value` as canonical JSON text ending in a single newline.
    ///
    /// With `pretty: true` (the default) containers are indented by two spaces
    /// and keys are followed by `": "`; empty containers are `[]` and `{}`.
    /// With `pretty: false` the output has no spaces or line breaks except the
    /// final newline, so it is exactly one JSON Lines record.
    ///
    /// Members with duplicate keys (possible only in objects built in code) are
    /// all written, in their relative order.
    public static func write(_ value: JSONValue, pretty: Bool = true) -> String {
        var writer = Writer(pretty: pretty)
        writer.write(value, indent: 0)
        writer.out.append(ASCII.newline)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// A string as a canonical JSON string literal, for error messages.
    static func quoted(_ string: String) -> String {
        var writer = Writer(pretty: false)
        writer.writeString(string)
        return String(decoding: writer.out, as: UTF8.self)
    }
}

private struct Writer {
    let pretty: Bool
    var out: [UInt8] = []

    init(pretty: Bool) {
        self.pretty = pretty
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text):
            out.append(contentsOf: text.utf8)
        case .string(let text):
            writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(ASCII.openBracket)
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(ASCII.comma) }
                breakLine(indent: indent + 1)
                write(element, indent: indent + 1)
            }
            breakLine(indent: indent)
            out.append(ASCII.closeBracket)
        case .object(let object):
            guard !object.members.isEmpty else {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(ASCII.openBrace)
            for (position, index) in object.sortedMemberIndices().enumerated() {
                if position > 0 { out.append(ASCII.comma) }
                breakLine(indent: indent + 1)
                let member = object.members[index]
                writeString(member.key)
                out.append(ASCII.colon)
                if pretty { out.append(ASCII.space) }
                write(member.value, indent: indent + 1)
            }
            breakLine(indent: indent)
            out.append(ASCII.closeBrace)
        }
    }

    private mutating func breakLine(indent: Int) {
        guard pretty else { return }
        out.append(ASCII.newline)
        out.append(contentsOf: repeatElement(ASCII.space, count: 2 * indent))
    }

    /// Escapes only what JSON requires, using the short forms where they exist, so output is minimal and unique.
    mutating func writeString(_ text: String) {
        CanonicalJSON.appendString(text, to: &out)
    }
}
