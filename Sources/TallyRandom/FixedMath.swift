internal import CIntrinsics

/// Deterministic elementary functions in fixed-point integer arithmetic.
///
/// Why: generated data must be bit-identical everywhere, and Tally never uses binary floating point
/// for it. Everything here is integer arithmetic (64- and 128-bit), so the results depend on nothing
/// but the inputs. The public functions take and return `Fixed` (Q32.32); internally they carry
/// 62 to 64 fraction bits (Q64 values in `Int128`/`UInt64`, Q62 in `Int64`) and round once at the end,
/// so every public result is within one raw unit (2^−32) of the true value, and the internal kernels
/// used by the samplers have absolute errors of a few 2^−64 (relative error far below 1e−15).
///
/// Algorithms:
/// - `log`: x = 2^e · m with m in [√2/2, √2); ln m = 2·atanh(s) with s = (m − 1)/(m + 1), |s| < 0.172,
///   by its odd power series through s^25 (truncation error < 2^−67); plus e·ln 2 with ln 2 to 128 bits.
/// - `exp`: y = k·ln 2 + r with |r| ≲ ln2/2, e^r by its Taylor series through r^16 in Q62
///   (truncation error < 2^−64), then scaled by 2^k with a shift.
/// - `sqrt`: integer Newton iteration on the raw value (floor square root), then rounded to nearest.
/// - `sin`/`cos` of a fraction of a turn: the turn splits exactly into octants by its top bits,
///   then Taylor series on [0, π/4] through x^19 / x^20.
public enum FixedMath {
    // MARK: - Constants (hex literals computed with 100-digit decimal arithmetic)

    /// ln 2 · 2^128 split into two 64-bit words: ln 2 = (ln2High + ln2Low / 2^64) / 2^64.
    static let ln2High: UInt64 = 0xB172_17F7_D1CF_79AB
    static let ln2Low: UInt64 = 0xC9E3_B398_03F2_F6AF
    /// √2 · 2^63, rounded down.
    static let sqrt2Q63: UInt64 = 0xB504_F333_F9DE_6484
    /// π/4 · 2^64, rounded to nearest.
    static let quarterPiQ64: UInt64 = 0xC90F_DAA2_2168_C235
    /// 2π · 2^64, rounded to nearest (67 bits).
    static let twoPiQ64: UInt128 = 0x6_487E_D511_0B46_11A6

    /// ⌊2^64/(2i+1)⌋ for i = 1...12: coefficients of the atanh series.
    static let atanhCoefficients: [UInt64] = [
        0x5555_5555_5555_5555, 0x3333_3333_3333_3333, 0x2492_4924_9249_2492, 0x1C71_C71C_71C7_1C71,
        0x1745_D174_5D17_45D1, 0x13B1_3B13_B13B_13B1, 0x1111_1111_1111_1111, 0x0F0F_0F0F_0F0F_0F0F,
        0x0D79_435E_50D7_9435, 0x0C30_C30C_30C3_0C30, 0x0B21_642C_8590_B216, 0x0A3D_70A3_D70A_3D70,
    ]

    /// round(2^62/n!) for n = 0...16: Taylor coefficients of e^r in Q62.
    static let inverseFactorialsQ62: [Int64] = [
        0x4000_0000_0000_0000, 0x4000_0000_0000_0000, 0x2000_0000_0000_0000, 0x0AAA_AAAA_AAAA_AAAB,
        0x02AA_AAAA_AAAA_AAAB, 0x0088_8888_8888_8889, 0x0016_C16C_16C1_6C17, 0x0003_4034_0340_3403,
        0x0000_6806_8068_0680, 0x0000_0B8E_F1D2_AB64, 0x0000_0127_E4FB_778A, 0x0000_001A_E645_67F5,
        0x0000_0002_3DDB_1DFF, 0x0000_0000_2C24_8C27, 0x0000_0000_0327_2E95, 0x0000_0000_0035_CFE8,
        0x0000_0000_0003_5CFE,
    ]

    /// min(13, ⌊64/e⌋ + 1) for e = 0...64 (0 and 1 unused): the terms `oneMinusExpNegQ64` sums for
    /// y < 2^−e. A table, because dividing by e would sit on the critical path of every call.
    static let seriesTerms: [UInt8] = (0...64).map { UInt8(Swift.min(13, 64 / Swift.max($0, 1) + 1)) }

    /// round(2^63/n!) for n = 0...20: Taylor coefficients in Q63 for sin, cos and 1 − e^−y.
    static let inverseFactorialsQ63: [UInt64] = [
        0x8000_0000_0000_0000, 0x8000_0000_0000_0000, 0x4000_0000_0000_0000, 0x1555_5555_5555_5555,
        0x0555_5555_5555_5555, 0x0111_1111_1111_1111, 0x002D_82D8_2D82_D82E, 0x0006_8068_0680_6807,
        0x0000_D00D_00D0_0D01, 0x0000_171D_E3A5_56C7, 0x0000_024F_C9F6_EF14, 0x0000_0035_CC8A_CFEB,
        0x0000_0004_7BB6_3BFE, 0x0000_0000_5849_184F, 0x0000_0000_064E_5D2A, 0x0000_0000_006B_9FD0,
        0x0000_0000_0006_B9FD, 0x0000_0000_0000_654B, 0x0000_0000_0000_05A1, 0x0000_0000_0000_004C,
        0x0000_0000_0000_0004,
    ]

    // MARK: - Public functions on Fixed

    /// Natural logarithm, rounded to the nearest raw unit; for x <= 0 (undefined) returns `Fixed.min`.
    ///
    /// `Fixed.min` (−2^31) stands in for −∞ so callers never trap; valid inputs give |ln x| < 22.2.
    public static func log(_ x: Fixed) -> Fixed {
        guard x.raw > 0 else { return .min }
        return Fixed(raw: Fixed.saturate(Fixed.roundedShift(logQ64(UInt64(x.raw), fractionBits: 32), 32)))
    }

    /// e^x rounded to the nearest raw unit; saturates to `Fixed.max` for x > ~21.49 and is 0 below ~−22.87.
    public static func exp(_ x: Fixed) -> Fixed {
        if x.raw > 22 << 32 { return .max }
        if x.raw < -23 << 32 { return .zero }
        let (mantissa, exponent) = expParts(Int128(x.raw) << 32)
        return Fixed(raw: scaleQ62(Int128(mantissa), exponent: exponent, fractionBits: 32))
    }

    /// √x rounded to the nearest raw unit (exact integer square root of raw · 2^32); 0 for x <= 0.
    public static func sqrt(_ x: Fixed) -> Fixed {
        guard x.raw > 0 else { return .zero }
        let n = UInt128(x.raw) << 32
        let root = squareRoot(n)
        // Round to nearest: √n >= root + 1/2  ⇔  n >= root² + root + 1/4  ⇔  n > root² + root.
        let rounded = n - root * root > root ? root + 1 : root
        return Fixed(raw: Int64(rounded))
    }

    /// sin(2π · turns), rounded to the nearest raw unit. The reduction modulo one turn is exact.
    public static func sin(turns: Fixed) -> Fixed {
        Fixed(
            raw: Int64(
                Fixed.roundedShift(Int128(sinCosQ62(turnsQ64: UInt64(truncatingIfNeeded: turns.raw) << 32).sin), 30)))
    }

    /// cos(2π · turns), rounded to the nearest raw unit. The reduction modulo one turn is exact.
    public static func cos(turns: Fixed) -> Fixed {
        Fixed(
            raw: Int64(
                Fixed.roundedShift(Int128(sinCosQ62(turnsQ64: UInt64(truncatingIfNeeded: turns.raw) << 32).cos), 30)))
    }

    // MARK: - Internal kernels (Q62/Q64)

    /// High 64 bits of the 128-bit product: the Q64 product of two values in [0, 1).
    @inline(__always)
    static func mulHigh(_ a: UInt64, _ b: UInt64) -> UInt64 {
        a.multipliedFullWidth(by: b).high
    }

    /// ln(x · 2^−fractionBits) as a Q64 value (ln · 2^64) in `Int128`, for x > 0 (callers guarantee it).
    ///
    /// The result is exact to a few units of 2^−64; inputs with 64 significant bits lose their two
    /// lowest bits in the reduction to Q62.
    static func logQ64(_ x: UInt64, fractionBits: Int) -> Int128 {
        let argument = LogArgument(x, fractionBits: fractionBits)
        let z = mulHigh(argument.s, argument.s)
        let coefficients = atanhCoefficients
        var p = coefficients[11]
        var i = 10
        while i >= 0 {
            p = coefficients[i] &+ mulHigh(z, p)
            i -= 1
        }
        return argument.logarithm(z: z, series: p)
    }

    /// ``logQ64(_:fractionBits:)`` of four values, worked out side by side: each lane's result is
    /// the same as one at a time.
    ///
    /// Why lanes: one logarithm is a chain of a division and a dozen multiplications, each
    /// waiting for the one before, so the CPU sits idle between them. Stepping four values
    /// through the chain together gives it independent work for those waits.
    static func logQ64(lanes x: InlineArray<4, UInt64>, fractionBits: Int) -> InlineArray<4, Int128> {
        let arguments = InlineArray<4, LogArgument> { LogArgument(x[$0], fractionBits: fractionBits) }
        var z = InlineArray<4, UInt64>(repeating: 0)
        for lane in z.indices { z[lane] = mulHigh(arguments[lane].s, arguments[lane].s) }
        let coefficients = atanhCoefficients
        var p = InlineArray<4, UInt64>(repeating: coefficients[11])
        var i = 10
        while i >= 0 {
            let coefficient = coefficients[i]
            for lane in p.indices { p[lane] = coefficient &+ mulHigh(z[lane], p[lane]) }
            i -= 1
        }
        var result = InlineArray<4, Int128>(repeating: 0)
        for lane in result.indices { result[lane] = arguments[lane].logarithm(z: z[lane], series: p[lane]) }
        return result
    }

    /// A logarithm's argument x · 2^−fractionBits reduced to 2^e · m with m in [√2/2, √2), and
    /// s = (m − 1)/(m + 1): then ln x = e·ln 2 + 2·atanh(s), by a series in z = s².
    struct LogArgument {
        /// |s| in Q64; `negative` is its sign (m < 1).
        let s: UInt64
        let negative: Bool
        let exponent: Int

        @inline(__always)
        init(_ x: UInt64, fractionBits: Int) {
            let top = 63 - x.leadingZeroBitCount
            let normalized = x << UInt64(63 - top)  // m · 2^63 with m in [1, 2)
            var exponent = top - fractionBits
            let m62: UInt64
            if normalized > sqrt2Q63 {
                m62 = normalized >> 2  // m/2 in [√2/2, 1)
                exponent += 1
            } else {
                m62 = normalized >> 1
            }
            let one62: UInt64 = 1 << 62
            negative = m62 < one62
            let numerator = negative ? one62 - m62 : m62 - one62
            // s = |m − 1|/(m + 1) in Q64; numerator < denominator < 2^64, so the quotient fits.
            s = divideWide(high: numerator, low: 0, by: m62 + one62)
            self.exponent = exponent
        }

        /// ln x in Q64, given z = s² and P = Σ z^(i−1)/(2i+1) by Horner over `atanhCoefficients`.
        @inline(__always)
        func logarithm(z: UInt64, series p: UInt64) -> Int128 {
            // ln m = 2·(s + s·z·P).
            let t = Int128(s) + Int128(mulHigh(s, mulHigh(z, p)))
            let lnM = negative ? -2 * t : 2 * t
            return lnM + ln2TimesQ64(exponent)
        }
    }

    /// ⌊(high · 2^64 + low) / divisor⌋ with one `divq` where the quotient fits 64 bits, as the callers on
    /// the per-event path guarantee; otherwise `dividingFullWidth`, which traps on an overflowing quotient.
    @inline(__always)
    static func divideWide(high: UInt64, low: UInt64, by divisor: UInt64) -> UInt64 {
        guard high < divisor else { return divisor.dividingFullWidth((high: high, low: low)).quotient }
        return tally_divide_wide(high, low, divisor)
    }

    /// k · ln 2 in Q64, using 128 bits of ln 2 (error < 2^−64 for |k| < 2^60).
    static func ln2TimesQ64(_ k: Int) -> Int128 {
        let k128 = Int128(k)
        return k128 * Int128(ln2High) + ((k128 * Int128(ln2Low)) >> 64)
    }

    /// e^y for a Q64 value y, as (mantissa, exponent) with e^y ≈ mantissa · 2^(exponent − 62) and
    /// mantissa (Q62) in about [2^61.5, 2^62.5].
    ///
    /// |y| is clamped to 2^20 first (far beyond anything that does not saturate or vanish), which keeps
    /// k = round(y/ln 2) and k·ln 2 small.
    static func expParts(_ y: Int128) -> (mantissa: Int64, exponent: Int) {
        let limit: Int128 = 1 << 84
        let clamped = Swift.max(-limit, Swift.min(y, limit))
        let ln2 = Int128(ln2High)
        // k = ⌊(y + ln2/2) / ln2⌋ (floor division for negative y too).
        let shifted = clamped + ln2 / 2
        var k = shifted / ln2
        if shifted < 0 && k * ln2 != shifted { k -= 1 }
        let exponent = Int(k)
        let r = clamped - ln2TimesQ64(exponent)  // |r| <= ln2/2 + 2^−63
        let r62 = Int64(r >> 2)
        let coefficients = inverseFactorialsQ62
        var p = coefficients[16]
        var n = 15
        while n >= 0 {
            p = coefficients[n] &+ Int64((Int128(r62) * Int128(p)) >> 62)
            n -= 1
        }
        return (p, exponent)
    }

    /// mantissa · 2^(exponent − 62) as a raw value with `fractionBits` fraction bits, rounded to
    /// nearest (ties away from zero), saturating to `Int64.max`. `mantissa` is non-negative and < 2^126.
    static func scaleQ62(_ mantissa: Int128, exponent: Int, fractionBits: Int) -> Int64 {
        let shift = exponent - 62 + fractionBits
        if shift >= 0 {
            if shift >= 64 || mantissa >= (Int128(Int64.max) >> shift) + 1 { return mantissa == 0 ? 0 : Int64.max }
            return Int64(mantissa << shift)
        }
        if -shift >= 127 { return 0 }
        return Fixed.saturate(Fixed.roundedShift(mantissa, -shift))
    }

    /// 1 − e^−y for y >= 0 in Q64 (`UInt128`), as a Q64 `UInt64` in [0, 1) (1 itself reads as 1 − 2^−64).
    ///
    /// For y < 1/4 the alternating series y − y²/2! + y³/3! − … is used directly (no cancellation,
    /// full relative precision for tiny y), with just enough terms for a truncation error below 2^−64:
    /// if y < 2^−e, N = min(13, ⌊64/e⌋ + 1) terms. Larger y go through `expParts`.
    static func oneMinusExpNegQ64(_ y: UInt128) -> UInt64 {
        if y == 0 { return 0 }
        guard y < 1 << 62 else { return oneMinusExpNegQ64Large(y) }
        let y64 = UInt64(y)
        let terms = Int(seriesTerms[y64.leadingZeroBitCount])  // y < 2^−e, e >= 2
        let coefficients = inverseFactorialsQ63
        var p = coefficients[terms]
        var n = terms - 1
        while n >= 1 {
            p = coefficients[n] - mulHigh(y64, p)
            n -= 1
        }
        return seriesProduct(y64, p)
    }

    /// ``oneMinusExpNegQ64(_:)`` of four values, their series worked out side by side (see
    /// ``logQ64(lanes:fractionBits:)`` for why): each lane's result is the same as one at a time.
    static func oneMinusExpNegQ64(lanes y: InlineArray<4, UInt128>) -> InlineArray<4, UInt64> {
        // The lanes the series serves get their y and term count; the others keep 0 terms.
        var small = InlineArray<4, UInt64>(repeating: 0)
        var terms = InlineArray<4, Int>(repeating: 0)
        var mostTerms = 0
        for lane in y.indices where y[lane] != 0 && y[lane] < 1 << 62 {
            small[lane] = UInt64(y[lane])
            terms[lane] = Int(seriesTerms[small[lane].leadingZeroBitCount])
            mostTerms = Swift.max(mostTerms, terms[lane])
        }
        // Horner from each lane's own last term down.
        let coefficients = inverseFactorialsQ63
        var p = InlineArray<4, UInt64>(repeating: 0)
        var term = mostTerms
        while term >= 1 {
            let coefficient = coefficients[term]
            for lane in p.indices {
                // A lane's sum starts over at its own last term, so what it held before does not
                // matter. Past that it never wraps: each partial sum is below its coefficient.
                p[lane] = term == terms[lane] ? coefficient : coefficient &- mulHigh(small[lane], p[lane])
            }
            term -= 1
        }
        var result = InlineArray<4, UInt64>(repeating: 0)
        for lane in result.indices {
            if terms[lane] > 0 {
                result[lane] = seriesProduct(small[lane], p[lane])
            } else if y[lane] != 0 {
                result[lane] = oneMinusExpNegQ64Large(y[lane])
            }
        }
        return result
    }

    /// y · P as a Q64 value, for the series 1 − e^−y = y · P with P in Q63.
    @inline(__always)
    private static func seriesProduct(_ y: UInt64, _ p: UInt64) -> UInt64 {
        let product = y.multipliedFullWidth(by: p)  // Q127
        return product.high << 1 | product.low >> 63
    }

    /// ``oneMinusExpNegQ64(_:)`` for y >= 1/4, through `expParts`.
    private static func oneMinusExpNegQ64Large(_ y: UInt128) -> UInt64 {
        let (mantissa, exponent) = expParts(-Int128(y))
        // e^−y = mantissa · 2^(exponent − 62) < 0.78, so as Q64 it is mantissa · 2^(exponent + 2) < 2^64.
        let shift = exponent + 2
        let expQ64: UInt64
        if shift >= 0 {
            expQ64 = UInt64(mantissa) << UInt64(shift)
        } else {
            expQ64 = -shift >= 64 ? 0 : UInt64(mantissa) >> UInt64(-shift)
        }
        return expQ64 == 0 ? UInt64.max : 0 &- expQ64
    }

    /// Floor of the square root of n, by Newton's iteration from an initial value above the root.
    static func squareRoot(_ n: UInt128) -> UInt128 {
        if n < 2 { return n }
        let bits = 128 - n.leadingZeroBitCount
        var x = UInt128(1) << ((bits + 1) / 2)  // >= √n
        while true {
            let next = (x + n / x) >> 1
            if next >= x { return x }
            x = next
        }
    }

    /// (sin, cos) of 2π · turns, with turns a Q64 fraction of a turn (the whole turn wraps exactly); Q62 results.
    ///
    /// The top three bits pick the octant; the rest is an angle x in [0, π/4), and each octant is
    /// expressed as j·π/2 ± y with y in [0, π/4] so only the two kernels on [0, π/4] are needed.
    static func sinCosQ62(turnsQ64: UInt64) -> (sin: Int64, cos: Int64) {
        let octant = Int(turnsQ64 >> 61)
        let withinOctant = turnsQ64 << 3  // Q64 fraction of the octant
        var x = mulHigh(withinOctant, quarterPiQ64)  // angle in [0, π/4), Q64
        let quadrant: Int
        let negate: Bool
        if octant & 1 == 0 {
            quadrant = octant / 2
            negate = false
        } else {
            quadrant = (octant + 1) / 2
            x = quarterPiQ64 - x  // angle = quadrant·π/2 − x
            negate = true
        }
        let (s63, c63) = kernelSinCosQ63(x)
        let s = Int64(s63 >> 1) * (negate ? -1 : 1)
        let c = Int64(c63 >> 1)
        switch quadrant & 3 {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }

    /// (sin x, cos x) in Q63 for x in [0, π/4] given in Q64, by Taylor series in z = x² (Horner).
    static func kernelSinCosQ63(_ x: UInt64) -> (UInt64, UInt64) {
        let z = mulHigh(x, x)
        let c = inverseFactorialsQ63
        // sin x = x · Σ (−1)^k z^k/(2k+1)!, k = 0...9
        var ps = c[19]
        var k = 8
        while k >= 0 {
            ps = c[2 * k + 1] - mulHigh(z, ps)
            k -= 1
        }
        // cos x = Σ (−1)^k z^k/(2k)!, k = 0...10
        var pc = c[20]
        k = 9
        while k >= 0 {
            pc = c[2 * k] - mulHigh(z, pc)
            k -= 1
        }
        let sinQ63 = mulHigh(x, ps)  // Q64 · Q63 / 2^64 = Q63
        return (sinQ63, pc)
    }
}
