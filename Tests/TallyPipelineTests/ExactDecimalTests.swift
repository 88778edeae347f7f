import Testing

@testable import TallyPipeline

@Suite("Exact decimal money")
struct ExactDecimalTests {
    func d(_ text: String) throws -> ExactDecimal { try ExactDecimal(parsing: text) }

    @Test(
        "parses plain decimal text exactly",
        arguments: [
            ("0.0015", Int128(15), 4), ("-3", Int128(-3), 0), ("1200.50", Int128(120050), 2), ("+7", Int128(7), 0),
            ("000.10", Int128(10), 2),
        ])
    func parses(text: String, significand: Int128, scale: Int) throws {
        let value = try d(text)
        #expect(value.significand == significand)
        #expect(value.scale == scale)
    }

    @Test("keeps every significand bit in its two-word storage, in 24 bytes")
    func storage() throws {
        // Int128 with scale as Int would be 16 + 8, padded to 32 by Int128's 16-byte alignment;
        // two 8-byte words and a 1-byte scale are 17 bytes, 24 with 8-byte alignment.
        #expect(MemoryLayout<ExactDecimal>.stride == 24)
        var limit: Int128 = 1
        for _ in 0..<38 { limit *= 10 }
        limit -= 1  // 38 nines, the widest significand
        for significand in [
            Int128(0), 1, -1, Int128(UInt64.max), -Int128(UInt64.max) - 1, Int128(1) << 64, limit, -limit,
        ] {
            let value = try ExactDecimal(significand: significand, scale: 38)
            #expect(value.significand == significand && value.scale == 38)
        }
        // Arithmetic that carries across the low word: (2^64 - 1) + 1 = 2^64; -(2^64) - 1 = -(2^64 + 1).
        let low = try ExactDecimal(significand: Int128(UInt64.max), scale: 0)
        #expect((try low + 1).significand == Int128(1) << 64)
        #expect((try -(try low + 1) - 1).significand == -((Int128(1) << 64) + 1))
    }

    @Test("aligns scales exactly on both sides of the 64-bit fast path")
    func alignment() throws {
        // -5 + 10^-18 = -4.999999999999999999: -5 widened by 18 digits, the most the fast path takes.
        let a = try ExactDecimal(significand: -5, scale: 0) + (try ExactDecimal(significand: 1, scale: 18))
        #expect(a.significand == -4_999_999_999_999_999_999 && a.scale == 18)
        // Int64.max + 0.1: the widened significand, 92233720368547758070, needs more than 64 bits.
        let b =
            try ExactDecimal(significand: Int128(Int64.max), scale: 0) + (try ExactDecimal(significand: 1, scale: 1))
        #expect(b.significand == Int128(Int64.max) * 10 + 1 && b.scale == 1)
        // 2^64 + 0.1: a significand beyond 64 bits takes the checked 128-bit path.
        let c = try ExactDecimal(significand: Int128(1) << 64, scale: 0) + (try ExactDecimal(significand: 1, scale: 1))
        #expect(c.significand == (Int128(1) << 64) * 10 + 1 && c.scale == 1)
        // 1 + 10^-19: a 19-digit widening also takes the checked path; 10^19 + 1 at scale 19.
        let d = try ExactDecimal(1) + (try ExactDecimal(significand: 1, scale: 19))
        #expect(d.significand == 10_000_000_000_000_000_001 && d.scale == 19)
        #expect(ExactDecimal.zero == 0 && ExactDecimal.one == 1)
    }

    @Test(
        "refuses text that is not a plain decimal",
        arguments: ["", "-", "1e3", "1.2.3", "1.", ".5", "abc", " 1", "1,000", "NaN", "Infinity", "0x10"])
    func refuses(text: String) {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: text) }
    }

    @Test("refuses 40 significant digits but takes 38 and leading zeros")
    func digitLimit() throws {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: String(repeating: "9", count: 40)) }
        _ = try d(String(repeating: "9", count: 38))
        // Leading zeros are not significant: 45 characters, 1 significant digit.
        #expect(try d(String(repeating: "0", count: 44) + "1") == 1)
    }

    @Test("formats canonically")
    func formats() throws {
        #expect(try d("1200.50").description == "1200.5")
        #expect(try d("-0.000").description == "0")
        #expect(try d("0.0015").description == "0.0015")
        #expect(try d("-3").description == "-3")
        #expect(try d("5").formatted(fractionDigits: 2) == "5.00")
        #expect(try d("-0.5").formatted(fractionDigits: 3) == "-0.500")
        // Formatting pads but never rounds: 1.2345 keeps its four digits.
        #expect(try d("1.2345").formatted(fractionDigits: 2) == "1.2345")
    }

    @Test("adds, subtracts and multiplies exactly across scales")
    func arithmetic() throws {
        #expect(try d("0.1") + d("0.2") == d("0.3"))  // no binary 0.30000000000000004
        #expect(try d("1200.50") - d("0.0015") == d("1200.4985"))
        #expect(try d("0.0015") * d("3") == d("0.0045"))
        #expect(try d("-2.5") * d("4") == -10)
        #expect(try d("1.50") == d("1.5"))
        #expect(try d("1.50").hashValue == d("1.5").hashValue)
        #expect(try d("0.0000001") < d("0.000001"))
    }

    @Test("a 12-decimal unit price times 10^9 units is exact")
    func twelveDecimalPrice() throws {
        // 0.000000123456 x 1,000,000,000 = 123.456 exactly.
        let amount = try d("0.000000123456") * d("1000000000")
        #expect(amount == (try d("123.456")))
        // 0.000000000001 x 999,999,999,999 = 0.999999999999: no digit lost.
        #expect(try d("0.000000000001") * d("999999999999") == d("0.999999999999"))
    }

    @Test("rounds half-up (away from zero) to 2, 0 and 3 digits")
    func halfUp() throws {
        #expect(try d("2.345").rounded(toScale: 2, .halfUp) == d("2.35"))  // x.xx5 -> up
        #expect(try d("-2.345").rounded(toScale: 2, .halfUp) == d("-2.35"))  // away from zero
        #expect(try d("2.3449").rounded(toScale: 2, .halfUp) == d("2.34"))
        #expect(try d("2.5").rounded(toScale: 0, .halfUp) == 3)  // JPY
        #expect(try d("1.0005").rounded(toScale: 3, .halfUp) == d("1.001"))  // KWD
        #expect(try d("1.0004999").rounded(toScale: 3, .halfUp) == d("1.000"))
        #expect(Currency(code: "USD")?.minorDigits == 2)
        #expect(Currency(code: "JPY")?.minorDigits == 0)
        #expect(Currency(code: "KWD")?.minorDigits == 3)
        #expect(try Currency(code: "JPY")?.round(d("1234.5")) == 1235)
        #expect(Currency(code: "XYZ") == nil)
    }

    @Test("other rounding modes")
    func modes() throws {
        #expect(try d("2.345").rounded(toScale: 2, .halfEven) == d("2.34"))
        #expect(try d("2.355").rounded(toScale: 2, .halfEven) == d("2.36"))
        #expect(try d("2.349").rounded(toScale: 2, .down) == d("2.34"))
        #expect(try d("2.341").rounded(toScale: 2, .up) == d("2.35"))
        #expect(try d("-2.341").rounded(toScale: 2, .floor) == d("-2.35"))
        #expect(try d("-2.349").rounded(toScale: 2, .ceiling) == d("-2.34"))
    }

    @Test("divides with an explicit scale and rounding")
    func division() throws {
        // 16.5 / 744 = 0.022177419354838709677...; to 6 digits half-up: 0.022177.
        #expect(try d("16.5").divided(by: 744, scale: 6, .halfUp) == d("0.022177"))
        // 2 / 3 = 0.666..., half-up at 2 digits: 0.67; down: 0.66.
        #expect(try d("2").divided(by: 3, scale: 2, .halfUp) == d("0.67"))
        #expect(try d("2").divided(by: 3, scale: 2, .down) == d("0.66"))
        #expect(try d("-1").divided(by: 8, scale: 2, .halfUp) == d("-0.13"))  // -0.125 -> away from zero
        #expect(throws: DecimalError.divisionByZero) { try d("1").divided(by: 0, scale: 2, .halfUp) }
    }

    @Test("overflow is reported, never wrapped or trapped")
    func overflow() throws {
        let big = try d(String(repeating: "9", count: 38))
        // Int128 tops out at 1.7 x 10^38: 38 nines + 1 = 10^38 still fits, twice 38 nines does not.
        #expect(try (big + 1).description == "1" + String(repeating: "0", count: 38))
        #expect(throws: DecimalError.overflow) { try big + big }
        #expect(throws: DecimalError.overflow) { try big * 10 }
        #expect(throws: DecimalError.overflow) { try (-big) - big }
        // Alignment overflow: 10^37 needs 38 digits; at scale 2 it would need 40.
        #expect(throws: DecimalError.overflow) { try d("1" + String(repeating: "0", count: 37)) + d("0.01") }
        // Comparison never overflows, even when alignment would.
        #expect(try d("0.01") < big)
    }
}
