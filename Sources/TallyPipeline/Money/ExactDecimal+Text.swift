/// Why a piece of text is not a plain decimal number.
public struct DecimalParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the text and what was expected, for an error message.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension ExactDecimal {
    /// Parses plain decimal text: an optional sign, digits, and an optional
    /// fraction (`0.0015`, `-3`, `+1200.50`).
    ///
    /// Exponents, hex, `NaN`, `Infinity`, spaces and grouping separators are
    /// refused: an amount must read exactly as written. At most 38 significant
    /// digits fit; leading zeros do not count.
    public init(parsing text: some StringProtocol) throws(DecimalParseError) {
        var utf8 = Array(text.utf8)
        self = try utf8.withUnsafeMutableBufferPointer { buffer throws(DecimalParseError) in
            try ExactDecimal(utf8: UnsafeBufferPointer(buffer))
        }
    }

    /// Parses plain decimal text from UTF-8 bytes, without building a String.
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(DecimalParseError) {
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var significand: Int128 = 0
        var digits = 0
        var significantDigits = 0
        var scale = 0
        var seenPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                if seenPoint { throw DecimalParseError(message: "a second '.' in a number") }
                if digits == 0 { throw DecimalParseError(message: "a digit is expected before '.'") }
                seenPoint = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
                if significand != 0 || byte != UInt8(ascii: "0") { significantDigits += 1 }
                if significantDigits > 38 {
                    throw DecimalParseError(
                        message: "more than 38 significant digits, which is beyond exact decimal range")
                }
                significand = significand * 10 + Int128(byte - UInt8(ascii: "0"))
                if seenPoint {
                    scale += 1
                    if scale > ExactDecimal.maxScale {
                        throw DecimalParseError(message: "more than \(ExactDecimal.maxScale) fraction digits")
                    }
                }
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                throw DecimalParseError(
                    message: "exponent notation is not allowed, expected plain decimal digits like 1200.50")
            } else {
                throw DecimalParseError(
                    message:
                        "unexpected character '\(Unicode.Scalar(byte))' in a number, expected digits with an optional '.'"
                )
            }
            index += 1
        }
        if digits == 0 { throw DecimalParseError(message: "expected a decimal number like 12 or 0.0015") }
        if seenPoint && bytes[bytes.count - 1] == UInt8(ascii: ".") {
            throw DecimalParseError(message: "a digit is expected after '.'")
        }
        self.init(uncheckedSignificand: negative ? -significand : significand, scale: scale)
    }

    /// Parses text, returning nil for anything that is not a plain decimal.
    public init?(_ text: some StringProtocol) {
        guard let value = try? ExactDecimal(parsing: text) else { return nil }
        self = value
    }
}

extension ExactDecimal: CustomStringConvertible, LosslessStringConvertible {
    /// The canonical text: no trailing fraction zeros, no '+', `0` for zero.
    public var description: String {
        normalized.formatted(fractionDigits: 0)
    }

    /// The number with at least `fractionDigits` digits after the point.
    ///
    /// Pads with zeros; never rounds, so a value with more digits shows them all.
    /// Round first with ``rounded(toScale:_:)`` to get a currency's exact digits.
    public func formatted(fractionDigits: Int) -> String {
        let padded =
            (try? widened(toScale: Swift.max(scale, fractionDigits))).map {
                ExactDecimal(uncheckedSignificand: $0, scale: Swift.max(scale, fractionDigits))
            } ?? self
        let negative = padded.significand < 0
        var digits = String(padded.significand.magnitude)
        if padded.scale > 0 {
            if digits.count <= padded.scale {
                digits = String(repeating: "0", count: padded.scale - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -padded.scale))
        }
        return negative ? "-" + digits : digits
    }
}

extension ExactDecimal: ExpressibleByIntegerLiteral {
    /// Creates a whole number from a literal, so that `let price: ExactDecimal = 5` reads as money.
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}
