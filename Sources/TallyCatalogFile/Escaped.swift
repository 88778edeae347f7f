/// Input text as a message shows it: on one line, control characters escaped, and cut short when long.
///
/// A message is one line in a CI log (`file:line:column: ...`), so a newline, a terminal escape
/// or a megabyte typed into a value must not reach it as written.
package struct Escaped: CustomStringConvertible {
    package let text: Substring
    /// Characters shown before the text is cut with `…`.
    package let limit: Int

    package init(_ text: some StringProtocol, limit: Int = 60) {
        self.text = Substring(text)
        self.limit = limit
    }

    package var description: String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return shown + "…" }
            count += 1
            switch scalar {
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            case _
            where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || [0x2028, 0x2029, 0xFEFF].contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value):
                shown += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }
}
