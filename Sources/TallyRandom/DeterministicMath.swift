/// Elementary functions built only from IEEE-754 +, −, ×, ÷ and integer bit operations.
///
/// Why: libm's `log`/`exp`/`sin` are not required to be correctly rounded, and glibc, musl, Apple's
/// libm and future versions of each may differ in the last bit, which would change generated data.
/// These versions follow the classic fdlibm algorithms (Sun Microsystems, freely redistributable;
/// the same ones musl used) — table-free range reduction plus minimax polynomials — so each result
/// is a fixed sequence of correctly rounded operations and is bit-identical everywhere. Accuracy is
/// below 1 ulp for `log` and `exp` and about 1 ulp for `sin`/`cos` on |x| < 2^19·π.
///
/// Each expression is written exactly as evaluated; Swift does not contract `a * b + c` into an
/// FMA unless asked to, and none of this code asks.
public enum DeterministicMath {
    // ln 2 split so that k * ln2Hi is exact for |k| < 2^11 (the low 32 bits of ln2Hi are zero).
    @usableFromInline static let ln2Hi = Double(bitPattern: 0x3FE6_2E42_FEE0_0000)  // 6.93147180369123816490e-01
    @usableFromInline static let ln2Lo = Double(bitPattern: 0x3DEA_39EF_3579_3C76)  // 1.90821492927058770002e-10
    @usableFromInline static let invLn2 = Double(bitPattern: 0x3FF7_1547_652B_82FE)  // 1.44269504088896338700e+00

    /// The double nearest to π.
    public static let pi = Double(bitPattern: 0x4009_21FB_5444_2D18)

    // MARK: - log

    // Minimax coefficients for (log(1+f) − f + f²/2)/s with s = f/(2+f), from fdlibm e_log.c.
    private static let lg1 = Double(bitPattern: 0x3FE5_5555_5555_5593)  // 6.666666666666735130e-01
    private static let lg2 = Double(bitPattern: 0x3FD9_9999_9997_FA04)  // 3.999999999940941908e-01
    private static let lg3 = Double(bitPattern: 0x3FD2_4924_9422_9359)  // 2.857142874366239149e-01
    private static let lg4 = Double(bitPattern: 0x3FCC_71C5_1D8E_78AF)  // 2.222219843214978396e-01
    private static let lg5 = Double(bitPattern: 0x3FC7_4664_96CB_03DE)  // 1.818357216161805012e-01
    private static let lg6 = Double(bitPattern: 0x3FC3_9A09_D078_C69F)  // 1.531383769920937332e-01
    private static let lg7 = Double(bitPattern: 0x3FC2_F112_DF3E_5244)  // 1.479819860511658591e-01

    /// Natural logarithm; `log(0) = -inf`, `log(x < 0) = nan`, `log(+inf) = +inf`.
    ///
    /// Algorithm (fdlibm): write x = 2^k · (1+f) with 1+f in [√2/2, √2), then
    /// log(1+f) = f − f²/2 + s·(f²/2 + R(s²)) with s = f/(2+f), and add k·ln2 in two parts.
    public static func log(_ x: Double) -> Double {
        var bits = x.bitPattern
        var hx = UInt32(truncatingIfNeeded: bits >> 32)
        var k: Int32 = 0
        if hx < 0x0010_0000 || hx >> 31 != 0 {
            if bits << 1 == 0 { return -.infinity }  // ±0
            if hx >> 31 != 0 { return .nan }  // negative (including -inf)
            // Subnormal: scale into the normal range first (exact).
            k -= 54
            bits = (x * 0x1.0p54).bitPattern
            hx = UInt32(truncatingIfNeeded: bits >> 32)
        } else if hx >= 0x7FF0_0000 {
            return x  // +inf or nan
        } else if bits == 0x3FF0_0000_0000_0000 {
            return 0
        }
        // Reduce x into [√2/2, √2): shift the mantissa so that it lands above 0x3fe6a09e.
        hx &+= 0x3FF0_0000 &- 0x3FE6_A09E
        k += Int32(hx >> 20) - 0x3FF
        hx = (hx & 0x000F_FFFF) &+ 0x3FE6_A09E
        let m = Double(bitPattern: UInt64(hx) << 32 | (bits & 0xFFFF_FFFF))

        let f = m - 1.0
        let hfsq = 0.5 * f * f
        let s = f / (2.0 + f)
        let z = s * s
        let w = z * z
        let t1 = w * (lg2 + w * (lg4 + w * lg6))
        let t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)))
        let r = t2 + t1
        let dk = Double(k)
        return s * (hfsq + r) + dk * ln2Lo - hfsq + f + dk * ln2Hi
    }

    // MARK: - exp

    // Minimax coefficients for the Remez approximation of x·(e^x+1)/(e^x−1) on [−ln2/2, ln2/2], fdlibm e_exp.c.
    private static let p1 = Double(bitPattern: 0x3FC5_5555_5555_553E)  // 1.66666666666666019037e-01
    private static let p2 = Double(bitPattern: 0xBF66_C16C_16BE_BD93)  // -2.77777777770155933842e-03
    private static let p3 = Double(bitPattern: 0x3F11_566A_AF25_DE2C)  // 6.61375632143793436117e-05
    private static let p4 = Double(bitPattern: 0xBEBB_BD41_C5D2_6BF1)  // -1.65339022054652515390e-06
    private static let p5 = Double(bitPattern: 0x3E66_3769_72BE_A4D0)  // 4.13813679705723846039e-08

    /// Exponential e^x; overflows to +inf above ~709.78 and underflows to 0 below ~−745.13.
    ///
    /// Algorithm (fdlibm): x = k·ln2 + r with |r| ≤ ln2/2 (k·ln2 subtracted in two exact-ish parts),
    /// e^r from a rational form with a degree-5 minimax polynomial, then scale by 2^k exactly.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.782712893383973096 { return .infinity }
        if x < -745.13321910194110842 { return 0 }
        let absBitsHigh = UInt32(truncatingIfNeeded: x.bitPattern >> 32) & 0x7FFF_FFFF

        var hi: Double, lo: Double, r: Double
        var k: Int
        if absBitsHigh > 0x3FD6_2E42 {  // |x| > ln2/2
            if absBitsHigh >= 0x3FF0_A2B2 {  // |x| >= 1.5·ln2
                // Round to nearest integer, ties to even: a correctly rounded IEEE operation.
                k = Int((invLn2 * x).rounded(.toNearestOrEven))
            } else {
                k = x < 0 ? -1 : 1
            }
            let dk = Double(k)
            hi = x - dk * ln2Hi  // exact: dk·ln2Hi has at most 43 significant bits
            lo = dk * ln2Lo
            r = hi - lo
        } else if absBitsHigh > 0x3E30_0000 {  // |x| > 2^-28
            k = 0
            hi = x
            lo = 0
            r = x
        } else {
            return 1 + x
        }
        let rr = r * r
        let c = r - rr * (p1 + rr * (p2 + rr * (p3 + rr * (p4 + rr * p5))))
        let y = 1 + (r * c / (2 - c) - lo + hi)
        return k == 0 ? y : scaleByPowerOfTwo(y, k)
    }

    /// Returns y · 2^n exactly (rounded once if the result is subnormal), like C's `scalbn`.
    @usableFromInline
    static func scaleByPowerOfTwo(_ value: Double, _ exponent: Int) -> Double {
        var y = value
        var n = exponent
        if n > 1023 {
            y *= 0x1.0p1023
            n -= 1023
            if n > 1023 {
                y *= 0x1.0p1023
                n -= 1023
                if n > 1023 { n = 1023 }
            }
        } else if n < -1022 {
            // Scale in two steps with the second landing below −53 so rounding happens only once.
            y *= 0x1.0p-1022 * 0x1.0p53
            n += 1022 - 53
            if n < -1022 {
                y *= 0x1.0p-1022 * 0x1.0p53
                n += 1022 - 53
                if n < -1022 { n = -1022 }
            }
        }
        return y * Double(bitPattern: UInt64(0x3FF + n) << 52)
    }

    // MARK: - sin / cos

    // Kernel coefficients from fdlibm k_sin.c / k_cos.c, valid on [−π/4, π/4].
    private static let s1 = Double(bitPattern: 0xBFC5_5555_5555_5549)  // -1.66666666666666324348e-01
    private static let s2 = Double(bitPattern: 0x3F81_1111_1110_F8A6)  // 8.33333333332248946124e-03
    private static let s3 = Double(bitPattern: 0xBF2A_01A0_19C1_61D5)  // -1.98412698298579493134e-04
    private static let s4 = Double(bitPattern: 0x3EC7_1DE3_57B1_FE7D)  // 2.75573137070700676789e-06
    private static let s5 = Double(bitPattern: 0xBE5A_E5E6_8A2B_9CEB)  // -2.50507602534068634195e-08
    private static let s6 = Double(bitPattern: 0x3DE5_D93A_5ACF_D57C)  // 1.58969099521155010221e-10
    private static let c1 = Double(bitPattern: 0x3FA5_5555_5555_554C)  // 4.16666666666666019037e-02
    private static let c2 = Double(bitPattern: 0xBF56_C16C_16C1_5177)  // -1.38888888888741095749e-03
    private static let c3 = Double(bitPattern: 0x3EFA_01A0_19CB_1590)  // 2.48015872894767294178e-05
    private static let c4 = Double(bitPattern: 0xBE92_7E4F_809C_52AD)  // -2.75573143513906633035e-07
    private static let c5 = Double(bitPattern: 0x3E21_EE9E_BDB4_B1C4)  // 2.08757232129817482790e-09
    private static let c6 = Double(bitPattern: 0xBDA8_FAE9_BE88_38D4)  // -1.13596475577881948265e-11

    // π/2 split into 33-bit pieces (Cody–Waite) so n·piece is exact for the multiples we handle.
    private static let invPio2 = Double(bitPattern: 0x3FE4_5F30_6DC9_C883)  // 6.36619772367581382433e-01
    private static let pio2_1 = Double(bitPattern: 0x3FF9_21FB_5440_0000)  // 1.57079632673412561417e+00
    private static let pio2_1t = Double(bitPattern: 0x3DD0_B461_1A62_6331)  // 6.07710050650619224932e-11
    private static let pio2_2 = Double(bitPattern: 0x3DD0_B461_1A60_0000)  // 6.07710050630396597660e-11
    private static let pio2_2t = Double(bitPattern: 0x3BA3_198A_2E03_7073)  // 2.02226624879595063154e-21
    private static let pio2_3 = Double(bitPattern: 0x3BA3_198A_2E00_0000)  // 2.02226624871116645580e-21
    private static let pio2_3t = Double(bitPattern: 0x397B_839A_2520_49C1)  // 8.47842766036889956997e-32

    /// sin on [−π/4, π/4] of the double-double x + y.
    private static func kernelSin(_ x: Double, _ y: Double) -> Double {
        let z = x * x
        let w = z * z
        let r = s2 + z * (s3 + z * s4) + z * w * (s5 + z * s6)
        let v = z * x
        return x - ((z * (0.5 * y - v * r) - y) - v * s1)
    }

    /// cos on [−π/4, π/4] of the double-double x + y.
    private static func kernelCos(_ x: Double, _ y: Double) -> Double {
        let z = x * x
        let w = z * z
        let r = z * (c1 + z * (c2 + z * c3)) + w * w * (c4 + z * (c5 + z * c6))
        let hz = 0.5 * z
        let v = 1.0 - hz
        return v + (((1.0 - v) - hz) + (z * r - x * y))
    }

    /// Reduces x to n·π/2 + (hi + lo) with |hi + lo| ≲ π/4, using up to three Cody–Waite rounds.
    ///
    /// Exact-enough for |x| < 2^19·π; beyond that it stays deterministic but loses accuracy, which is
    /// fine because Tally only takes sines of time-of-day phases (|x| ≤ 2π).
    private static func reduce(_ x: Double) -> (n: Int, hi: Double, lo: Double) {
        let fn = (x * invPio2).rounded(.toNearestOrEven)
        var r = x - fn * pio2_1
        var w = fn * pio2_1t
        var y0 = r - w
        let ex = Int(x.exponentBitPattern)
        if ex - Int(y0.exponentBitPattern) > 16 {
            // Cancellation: x is close to a multiple of π/2, so carry more bits of π/2.
            var t = r
            w = fn * pio2_2
            r = t - w
            w = fn * pio2_2t - ((t - r) - w)
            y0 = r - w
            if ex - Int(y0.exponentBitPattern) > 49 {
                t = r
                w = fn * pio2_3
                r = t - w
                w = fn * pio2_3t - ((t - r) - w)
                y0 = r - w
            }
        }
        let y1 = (r - y0) - w
        // Clamp keeps the Int conversion total for absurd inputs; the result is then merely inaccurate.
        let n = fn.magnitude < 0x1.0p62 ? Int(fn) : 0
        return (n, y0, y1)
    }

    /// Sine; nan for ±inf or nan.
    public static func sin(_ x: Double) -> Double {
        if !x.isFinite { return .nan }
        if x.magnitude <= 0x1.921FB54442D18p-1 {  // |x| <= π/4
            return kernelSin(x, 0)
        }
        let (n, hi, lo) = reduce(x)
        switch n & 3 {
        case 0: return kernelSin(hi, lo)
        case 1: return kernelCos(hi, lo)
        case 2: return -kernelSin(hi, lo)
        default: return -kernelCos(hi, lo)
        }
    }

    /// Cosine; nan for ±inf or nan.
    public static func cos(_ x: Double) -> Double {
        if !x.isFinite { return .nan }
        if x.magnitude <= 0x1.921FB54442D18p-1 {
            return kernelCos(x, 0)
        }
        let (n, hi, lo) = reduce(x)
        switch n & 3 {
        case 0: return kernelCos(hi, lo)
        case 1: return -kernelSin(hi, lo)
        case 2: return -kernelCos(hi, lo)
        default: return kernelSin(hi, lo)
        }
    }

    // MARK: - log-factorial

    /// ln(k!) for an integer-valued double k ≥ 0 (callers guarantee it): exact table below 20, Stirling above.
    ///
    /// Below 20, k! is exactly representable (its factors of two keep it within 53 bits), so only
    /// `log` rounds. At k ≥ 20 the Stirling series truncated after the k⁻⁷ term errs by < 2e-15.
    static func logFactorial(_ k: Double) -> Double {
        if k < 20 {
            return logFactorialTable[Int(k)]
        }
        let inv = 1.0 / k
        let inv2 = inv * inv
        // 1/(12k) − 1/(360k³) + 1/(1260k⁵) − 1/(1680k⁷)
        let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0))))
        return (k + 0.5) * log(k) - k + halfLog2Pi + series
    }

    // 0.5·ln(2π), the double nearest to 0.91893853320467274178.
    private static let halfLog2Pi = 0.91893853320467274178

    private static let logFactorialTable: [Double] = {
        var table: [Double] = []
        var factorial: UInt64 = 1
        for k in 0..<20 {
            if k > 0 { factorial *= UInt64(k) }
            table.append(log(Double(factorial)))
        }
        return table
    }()
}
