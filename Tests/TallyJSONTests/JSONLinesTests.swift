import TallyJSON
import Testing

@Suite struct JSONLinesTests {
    /// Every reported line as (number, value or error description).
    private func collect(_ text: String) -> [(Int, String)] {
        var seen: [(Int, String)] = []
        JSONLines.forEachLine(in: text) { lineNumber, result in
            switch result {
            case .success(let value): seen.append((lineNumber, CanonicalJSON.write(value, pretty: false)))
            case .failure(let error): seen.append((lineNumber, "error " + error.description))
            }
        }
        return seen
    }

    @Test func badMiddleLineDoesNotStopTheOthers() {
        let text = "{\"a\": 1}\n{\"a\": }\r\n\n  \r\n[2]\n3"
        let seen = collect(text)
        // Lines 3 and 4 are blank and skipped but still counted; the last line needs no newline.
        #expect(seen.map(\.0) == [1, 2, 5, 6])
        #expect(
            seen.map(\.1) == [
                "{\"a\":1}\n",
                "error 2:7: unexpected '}', expected a value",
                "[2]\n",
                "3\n",
            ])
    }

    @Test func crlfAndTrailingNewline() {
        #expect(collect("1\r\n2\r\n").map(\.0) == [1, 2])
        #expect(collect("").isEmpty)
        #expect(collect("\n\r\n \t\n").isEmpty)
    }

    @Test func errorsCarryTheFileLine() {
        // Even an error at the end of a line reports the line it is on, not the next.
        #expect(
            collect("1\n2\n[1,\n").map(\.1) == ["1\n", "2\n", "error 3:4: unexpected end of input, expected a value"])
    }

    @Test func byteInputIncludingNonContiguous() {
        let text = "{\"q\": 0.0015}\nnot json\n{\"q\": 2}\n"
        var fromBytes: [Int] = []
        JSONLines.forEachLine(in: Array(text.utf8)) { lineNumber, _ in fromBytes.append(lineNumber) }
        var fromReversed: [(Int, Bool)] = []
        // A reversed view has no contiguous storage, which forces the copying fallback.
        JSONLines.forEachLine(in: Array(text.utf8.reversed()).reversed()) { lineNumber, result in
            if case .success = result {
                fromReversed.append((lineNumber, true))
            } else {
                fromReversed.append((lineNumber, false))
            }
        }
        #expect(fromBytes == [1, 2, 3])
        #expect(fromReversed.map(\.0) == [1, 2, 3])
        #expect(fromReversed.map(\.1) == [true, false, true])
    }
}
