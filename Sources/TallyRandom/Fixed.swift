/// A signed binary fixed-point number in Q32.32 format: `raw / 2^32`, stored in an `Int64`.
///
/// Format: 1 sign bit, 31 integer bits, 32 fraction bits. The range is
/// [−2^31, 2^31 − 2^−32] ≈ ±2.147e9 and the resolution (one raw unit) is 2^−32 ≈ 2.33e−10.
///
/// Why fixed point: Tally's rule is that binary floating point is never used for generated data,
/// amounts or quantities. Every operation here is integer arithmetic, so results are bit-identical on
/// every platform, compiler and library version. Why Q32.32: it fits one machine word, covers the
/// magnitudes scenario parameters and samples need (rates, prices, counts up to ~2e9) with ten
/// significant decimals after the point, and products and quotients fit exactly in `Int128`
/// intermediates before a single rounding. Math functions (`FixedMath`) work internally with 62 to 64
/// fraction bits and round to this type only at the end.
///
/// Rounding and overflow rules (fixed forever, since generated data depends on them):
/// - Every rounding is to the nearest representable value, ties away from zero ("half-up" on the
///   magnitude), exactly as `decimal(digits:)` rounds.
/// - Nothing traps. Results that do not fit saturate to `Fixed.max` or `Fixed.min`.
/// - Division by zero saturates: `x / 0` is `Fixed.max` for x > 0, `Fixed.min` for x < 0, and zero for x == 0.
public struct Fixed: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The value times 2^32.
    public var raw: Int64

    /// Number of fraction bits (32).
    public static let fractionBits = 32

    /// Zero.
    public static let zero = Fixed(raw: 0)
    /// One (raw 2^32).
    public static let one = Fixed(raw: 1 << 32)
    /// The largest value, 2^31 − 2^−32; also the saturation value for overflow upwards.
    public static let max = Fixed(raw: Int64.max)
    /// The smallest value, −2^31; also the saturation value for overflow downwards.
    public static let min = Fixed(raw: Int64.min)
    /// The smallest positive value, 2^−32.
    public static let leastNonzeroMagnitude = Fixed(raw: 1)

    /// Creates a value from its raw Q32.32 representation (`raw / 2^32`).
    @inlinable
    public init(raw: Int64) {
        self.raw = raw
    }

    /// Creates the integer `integer`, saturating outside [−2^31, 2^31 − 1].
    public init(integer: Int64) {
        raw = Fixed.saturate(Int128(integer) << 32)
    }

    /// Integer literals read as `init(integer:)`, so `Fixed` parameters can be written `2` or `1000`.
    public init(integerLiteral value: Int64) {
        self.init(integer: value)
    }

    /// Creates `significand / 10^decimalScale` rounded to the nearest representable value, ties away
    /// from zero; saturating.
    ///
    /// This is how exact decimal parameters enter: 2.5 is `Fixed(significand: 25, decimalScale: 1)`,
    /// 0.0015 is `Fixed(significand: 15, decimalScale: 4)`. A negative scale multiplies by 10^−scale.
    /// Scales above 30 give zero (|significand · 2^32| < 10^29, so the quotient rounds to 0).
    public init(significand: Int64, decimalScale: Int) {
        if significand == 0 {
            raw = 0
        } else if decimalScale <= 0 {
            let exponent = -decimalScale
            if exponent > 18 {
                raw = significand > 0 ? Int64.max : Int64.min
            } else {
                // |significand · 10^18| < 2^123: no overflow; compare before shifting.
                raw = Fixed.saturate(Fixed.saturateForShift(Int128(significand) * Fixed.powerOfTen(exponent)) << 32)
            }
        } else if decimalScale > 30 {
            raw = 0
        } else {
            raw = Fixed.saturate(Fixed.roundedQuotient(Int128(significand) << 32, Fixed.powerOfTen(decimalScale)))
        }
    }

    /// The value rounded to `digits` decimal places (ties away from zero), exactly, as
    /// `(significand, scale)` meaning `significand / 10^scale`.
    ///
    /// Computed as round(raw · 10^digits / 2^32) in `Int128`, so no precision is lost before the single
    /// rounding. `digits` is clamped to 0...18 (the returned `scale` is the clamped value); a
    /// significand beyond `Int64` saturates to `Int64.max`/`Int64.min`.
    public func decimal(digits: Int) -> (significand: Int64, scale: Int) {
        let scale = Swift.max(0, Swift.min(digits, 18))
        let scaled = Int128(raw) * Fixed.powerOfTen(scale)  // < 2^63 · 2^60
        return (Fixed.saturate(Fixed.roundedShift(scaled, 32)), scale)
    }

    /// −self, saturating (−`Fixed.min` is `Fixed.max`).
    public var negated: Fixed {
        Fixed(raw: raw == Int64.min ? Int64.max : -raw)
    }

    /// The largest integer not greater than the value.
    public var floor: Int64 { raw >> 32 }

    /// Exact decimal text with up to nine fraction digits (rounded ties away from zero), e.g. "2.5", "-0.0015".
    public var description: String {
        let scaled = Fixed.roundedShift(Int128(raw) * 1_000_000_000, 32)
        let magnitude = scaled.magnitude
        let integerPart = magnitude / 1_000_000_000
        var fraction = magnitude % 1_000_000_000
        var text = (scaled < 0 ? "-" : "") + String(integerPart)
        if fraction != 0 {
            var digits = 9
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    // MARK: - Arithmetic (saturating)

    public static func + (lhs: Fixed, rhs: Fixed) -> Fixed {
        let (sum, overflow) = lhs.raw.addingReportingOverflow(rhs.raw)
        if overflow { return rhs.raw > 0 ? .max : .min }
        return Fixed(raw: sum)
    }

    public static func - (lhs: Fixed, rhs: Fixed) -> Fixed {
        let (difference, overflow) = lhs.raw.subtractingReportingOverflow(rhs.raw)
        if overflow { return rhs.raw < 0 ? .max : .min }
        return Fixed(raw: difference)
    }

    /// The product rounded to nearest (ties away from zero) from the exact `Int128` product; saturating.
    public static func * (lhs: Fixed, rhs: Fixed) -> Fixed {
        Fixed(raw: saturate(roundedShift(Int128(lhs.raw) * Int128(rhs.raw), 32)))
    }

    /// The quotient rounded to nearest (ties away from zero); saturating; division by zero as documented on `Fixed`.
    public static func / (lhs: Fixed, rhs: Fixed) -> Fixed {
        if rhs.raw == 0 {
            return lhs.raw > 0 ? .max : (lhs.raw < 0 ? .min : .zero)
        }
        let numerator = Int128(lhs.raw) << 32
        let quotient = roundedQuotient(rhs.raw < 0 ? -numerator : numerator, Int128(rhs.raw.magnitude))
        return Fixed(raw: saturate(quotient))
    }

    public static func += (lhs: inout Fixed, rhs: Fixed) { lhs = lhs + rhs }
    public static func -= (lhs: inout Fixed, rhs: Fixed) { lhs = lhs - rhs }

    public static prefix func - (value: Fixed) -> Fixed { value.negated }

    public static func < (lhs: Fixed, rhs: Fixed) -> Bool { lhs.raw < rhs.raw }

    // MARK: - Integer helpers shared with FixedMath

    /// Clamps an `Int128` into `Int64`.
    @usableFromInline
    static func saturate(_ value: Int128) -> Int64 {
        if value > Int128(Int64.max) { return Int64.max }
        if value < Int128(Int64.min) { return Int64.min }
        return Int64(value)
    }

    /// Clamps so that a following `<< 32` cannot overflow `Int128` (values beyond ±2^64 saturate later anyway).
    static func saturateForShift(_ value: Int128) -> Int128 {
        let limit: Int128 = 1 << 64
        return Swift.max(-limit, Swift.min(value, limit))
    }

    /// value / 2^shift rounded to nearest, ties away from zero (requires |value| < 2^126, 1 <= shift < 127).
    @usableFromInline
    static func roundedShift(_ value: Int128, _ shift: Int) -> Int128 {
        let half = Int128(1) << (shift - 1)
        if value >= 0 { return (value + half) >> shift }
        return -((-value + half) >> shift)
    }

    /// numerator / denominator rounded to nearest, ties away from zero (denominator > 0, |numerator| < 2^126).
    static func roundedQuotient(_ numerator: Int128, _ denominator: Int128) -> Int128 {
        let half = denominator / 2
        if numerator >= 0 { return (numerator + half) / denominator }
        return -((-numerator + half) / denominator)
    }

    /// 10^exponent for exponent in 0...38.
    static func powerOfTen(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
