extension CanonicalJSON {
    /// Emits `text` as a canonical JSON string literal, quotes included, one byte at a time.
    ///
    /// The one definition of how Tally escapes a string: `"` and `\` get a backslash,
    /// the usual control characters their short escapes (`\n`, `\r`, `\t`, `\b`, `\f`),
    /// the other ones below U+0020 a lowercase `\u00xx`; every other byte stands as
    /// itself. Writers that keep their own buffers (golden files, `tally generate`'s
    /// lines, the ledger's rows) all call this, so they cannot drift apart.
    @inlinable
    public static func emitString(_ text: String, _ emit: (UInt8) -> Void) {
        emit(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                emit(UInt8(ascii: "\\"))
                emit(byte)
            case UInt8(ascii: "\n"):
                emit(UInt8(ascii: "\\"))
                emit(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                emit(UInt8(ascii: "\\"))
                emit(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"):
                emit(UInt8(ascii: "\\"))
                emit(UInt8(ascii: "t"))
            case 0x08:
                emit(UInt8(ascii: "\\"))
                emit(UInt8(ascii: "b"))
            case 0x0C:
                emit(UInt8(ascii: "\\"))
                emit(UInt8(ascii: "f"))
            case 0..<0x20:
                for literal in "\\u00".utf8 { emit(literal) }
                emit(hexDigit(byte >> 4))
                emit(hexDigit(byte & 0xF))
            default:
                emit(byte)
            }
        }
        emit(UInt8(ascii: "\""))
    }

    /// Appends `text` as a canonical JSON string literal to `bytes` (see ``emitString(_:_:)``).
    @inlinable
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        emitString(text) { bytes.append($0) }
    }

    /// Lowercase, because canonical output must pick one spelling of `\u001f`.
    @inlinable
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
