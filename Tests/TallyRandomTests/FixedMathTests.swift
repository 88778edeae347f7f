import Foundation
import Testing

@testable import TallyRandom

/// Value of a Fixed as a Double (tests only: statistical yardstick).
func double(_ x: Fixed) -> Double { Double(x.raw) / 4294967296.0 }

/// The raw Q32.32 value nearest to `x` (tests only).
func nearestRaw(_ x: Double) -> Int64 { Int64((x * 4294967296.0).rounded()) }

@Suite struct FixedTests {
    @Test func decimalConstruction() {
        #expect(Fixed(significand: 25, decimalScale: 1).raw == 10_737_418_240)  // 2.5 · 2^32
        #expect(Fixed(significand: -25, decimalScale: 1).raw == -10_737_418_240)
        // 0.0015 · 2^32 = 6442450.944 → 6442451
        #expect(Fixed(significand: 15, decimalScale: 4).raw == 6_442_451)
        // 0.1 · 2^32 = 429496729.6 → 429496730; −0.1 → −429496730 (ties and roundings symmetric)
        #expect(Fixed(significand: 1, decimalScale: 1).raw == 429_496_730)
        #expect(Fixed(significand: -1, decimalScale: 1).raw == -429_496_730)
        #expect(Fixed(significand: 3, decimalScale: -2) == Fixed(integer: 300))
        #expect(Fixed(significand: 7, decimalScale: 40) == .zero)
        #expect(Fixed(significand: 5, decimalScale: -30) == .max)
        #expect(Fixed(significand: -5, decimalScale: -9) == .min)
        #expect(Fixed(significand: Int64.max, decimalScale: 0) == .max)
        #expect(Fixed(integer: 7).raw == 7 << 32)
        #expect(Fixed(integer: 1 << 40) == .max)
        #expect(Fixed(integer: -(1 << 31)) == .min)
    }

    @Test func decimalOutput() {
        let third = Fixed.one / Fixed(integer: 3)
        #expect(third.raw == 1_431_655_765)  // round(2^32/3)
        #expect(third.decimal(digits: 4) == (3333, 4))
        #expect(Fixed(significand: -15, decimalScale: 1).decimal(digits: 0) == (-2, 0))  // half away from zero
        #expect(Fixed(significand: 15, decimalScale: 1).decimal(digits: 0) == (2, 0))
        #expect(Fixed(significand: 25, decimalScale: 1).decimal(digits: 3) == (2500, 3))
        #expect(Fixed(significand: 15, decimalScale: 4).decimal(digits: 4) == (15, 4))
        #expect(Fixed(significand: 15, decimalScale: 4).decimal(digits: 10) == (15_000_000, 10))
        // raw 1 = 2^−32 = 0.00000000023283064365386962890625
        #expect(Fixed(raw: 1).decimal(digits: 10) == (2, 10))
        #expect(Fixed(raw: 1).decimal(digits: 18) == (232_830_644, 18))
        #expect(Fixed(raw: 1).decimal(digits: 50) == (232_830_644, 18))  // clamped to 18
        #expect(Fixed(raw: 1).decimal(digits: -3) == (0, 0))
        #expect(Fixed.max.decimal(digits: 18).significand == Int64.max)  // saturates
        #expect(Fixed.min.decimal(digits: 18).significand == Int64.min)
        #expect(Fixed.min.decimal(digits: 0) == (-2_147_483_648, 0))
        #expect(Fixed(significand: 25, decimalScale: 1).description == "2.5")
        #expect(Fixed(significand: -15, decimalScale: 4).description == "-0.0015")
        #expect(Fixed(integer: 42).description == "42")
    }

    @Test func saturatingArithmetic() {
        let a = Fixed(significand: 25, decimalScale: 1)
        let b = Fixed(significand: -4, decimalScale: 0)
        #expect(a + b == Fixed(significand: -15, decimalScale: 1))
        #expect(a - b == Fixed(significand: 65, decimalScale: 1))
        #expect(a * b == Fixed(integer: -10))
        #expect(a / b == Fixed(significand: -625, decimalScale: 3))
        #expect(Fixed.max + .one == .max)
        #expect(Fixed.min - .one == .min)
        #expect(Fixed.max * Fixed(integer: 2) == .max)
        #expect(Fixed.max * Fixed(integer: -2) == .min)
        #expect(Fixed.one / .zero == .max)
        #expect(Fixed.one.negated / .zero == .min)
        #expect(Fixed.zero / .zero == .zero)
        #expect(Fixed.min.negated == .max)
        #expect(-a == Fixed(significand: -25, decimalScale: 1))
        #expect(Fixed(integer: 1) < a && b < .zero)
        // Half-way products round away from zero: 2^−32 · 0.5 = half a unit.
        #expect(Fixed(raw: 1) * Fixed(significand: 5, decimalScale: 1) == Fixed(raw: 1))
        #expect(Fixed(raw: -1) * Fixed(significand: 5, decimalScale: 1) == Fixed(raw: -1))
        #expect(Fixed(integer: -7).floor == -7 && Fixed(significand: -71, decimalScale: 1).floor == -8)
    }
}

@Suite struct FixedMathTests {
    // Raw Q32.32 values of the constants, rounded to nearest (by hand: constant · 2^32).
    static let ln2Raw: Int64 = 2_977_044_472  // 0.693147180559945309 · 2^32 = 2977044471.82
    static let eRaw: Int64 = 11_674_931_555  // 2.718281828459045235 · 2^32 = 11674931554.6
    static let sqrt2Raw: Int64 = 6_074_001_000  // 1.414213562373095049 · 2^32 = 6074000999.95

    @Test func knownConstants() {
        #expect(FixedMath.log(Fixed(integer: 2)).raw == Self.ln2Raw)
        #expect(FixedMath.exp(.one).raw == Self.eRaw)
        #expect(FixedMath.sqrt(Fixed(integer: 2)).raw == Self.sqrt2Raw)
        #expect(FixedMath.log(Fixed(integer: 10)).raw == 9_889_527_671)  // 2.302585092994046 · 2^32 = 9889527671.4
        #expect(FixedMath.exp(Fixed(integer: -1)).raw == 1_580_030_169)  // 0.36787944117144233 · 2^32 = 1580030168.7
        #expect(FixedMath.log(.one) == .zero)
        #expect(FixedMath.exp(.zero) == .one)
        #expect(FixedMath.sqrt(Fixed(integer: 9)) == Fixed(integer: 3))
        #expect(FixedMath.sqrt(Fixed(significand: 25, decimalScale: 2)) == Fixed(significand: 5, decimalScale: 1))
        #expect(FixedMath.sin(turns: .zero) == .zero)
        #expect(FixedMath.cos(turns: .zero) == .one)
        #expect(FixedMath.sin(turns: Fixed(significand: 25, decimalScale: 2)) == .one)
        #expect(FixedMath.cos(turns: Fixed(significand: 5, decimalScale: 1)) == Fixed(integer: -1))
        #expect(FixedMath.sin(turns: Fixed(significand: 5, decimalScale: 1)) == .zero)
    }

    @Test func edgeValuesDoNotTrap() {
        #expect(FixedMath.log(.zero) == .min)
        #expect(FixedMath.log(Fixed(integer: -3)) == .min)
        #expect(FixedMath.log(Fixed(raw: 1)).raw == nearestRaw(-32 * Foundation.log(2.0)))
        #expect(FixedMath.log(.max).raw == nearestRaw(31 * Foundation.log(2.0)))
        #expect(FixedMath.exp(Fixed(integer: 30)) == .max)
        #expect(FixedMath.exp(.max) == .max)
        #expect(FixedMath.exp(.min) == .zero)
        #expect(FixedMath.exp(Fixed(integer: -30)) == .zero)
        #expect(FixedMath.sqrt(Fixed(integer: -4)) == .zero)
        #expect(FixedMath.sqrt(.max).raw == 199_032_864_766_430)  // √(2^63 − 1) · 2^16 rounded
    }

    /// Internal Q64 kernels vs Foundation (a yardstick good to ~1e−16): relative error < 1e−12 (log near 1 is limited by
    /// an absolute error of a few 2^−64), far
    /// inside the 1e−8 target; public Fixed results within one raw unit of the true value.
    @Test func accuracyAgainstLibm() {
        var g = PRNG(seed: 2024)
        var worstLog = 0.0
        var worstExp = 0.0
        var worstSin = 0.0
        var worstRawLog: Int64 = 0
        var worstRawExp: Int64 = 0
        for _ in 0..<100_000 {
            // Kernel log over (0, 1] at 64-bit resolution and over integers.
            let x = (g.next() >> 11) << 11 | 1 << 11  // 53 significant bits, so Double(x) is exact
            let got = Double(FixedMath.logQ64(x, fractionBits: 64)) / 0x1p64
            let want = Foundation.log(Double(x) * 0x1p-64)
            worstLog = max(worstLog, abs(got - want) / abs(want))
            // Kernel exp over [−44, 22].
            let y =
                Int128(Int64(bitPattern: g.next()) >> 1) * 66 / Int128(1 << 62) * (Int128(1) << 58) - (Int128(44) << 64)
                + Int128(g.next() >> 6)
            let (m, e) = FixedMath.expParts(y)
            let gotExp = Double(m) * Foundation.pow(2.0, Double(e - 62))
            let wantExp = Foundation.exp(Double(y) / 0x1p64)
            worstExp = max(worstExp, abs(gotExp - wantExp) / wantExp)
            // Public functions: within 1 raw unit.
            let fx = Fixed(raw: Int64(g.next() >> 30) + 1)  // (0, 2^34 raw) = (0, 4)
            worstRawLog = max(worstRawLog, abs(FixedMath.log(fx).raw - nearestRaw(Foundation.log(double(fx)))))
            let ex = Fixed(raw: Int64(bitPattern: g.next()) >> 28)  // about ±8 (Double resolves the raw result)
            worstRawExp = max(worstRawExp, abs(FixedMath.exp(ex).raw - nearestRaw(Foundation.exp(double(ex)))))
            let turns = g.next()
            let (s, c) = FixedMath.sinCosQ62(turnsQ64: turns)
            let angle = 2 * Double.pi * Double(turns) * 0x1p-64
            worstSin = max(
                worstSin, abs(Double(s) * 0x1p-62 - Foundation.sin(angle)),
                abs(Double(c) * 0x1p-62 - Foundation.cos(angle)))
        }
        #expect(worstLog < 1e-12, "log relative error \(worstLog)")
        #expect(worstExp < 1e-14, "exp relative error \(worstExp)")
        #expect(worstSin < 1e-14, "sin/cos absolute error \(worstSin)")
        #expect(worstRawLog <= 1)
        #expect(worstRawExp <= 1)
    }

    @Test func oneMinusExpNegSeries() {
        for y in [1e-12, 1e-8, 1e-4, 0.01, 0.2, 0.26, 0.5, 3.0, 40.0] {
            let q = UInt128(y * 0x1p64)
            let got = Double(FixedMath.oneMinusExpNegQ64(q)) * 0x1p-64
            let want = -Foundation.expm1(-Double(q) * 0x1p-64)
            #expect(abs(got - want) <= 1e-15 * want + 2e-19, "1 − e^−\(y)")
        }
        #expect(FixedMath.oneMinusExpNegQ64(0) == 0)
    }

    /// The four-lane kernels give each lane exactly what the one-at-a-time kernels give.
    @Test func lanesMatchOneAtATime() {
        // Powers of two with no fraction bits reduce to m = 1, s = 0: ln 2^k = k·ln 2 exactly as
        // `ln2TimesQ64` forms it, k · ln2High + ⌊k · ln2Low / 2^64⌋.
        //   k = 1: 0xB172_17F7_D1CF_79AB + 0
        //   k = 3: 3 · 0xB172_17F7_D1CF_79AB + ⌊3 · 0xC9E3_B398_03F2_F6AF / 2^64⌋ = … + 2
        let ln2 = Int128(0xB172_17F7_D1CF_79AB)
        let powers = FixedMath.logQ64(lanes: [1, 2, 8, 3], fractionBits: 0)
        #expect(powers[0] == 0)
        #expect(powers[1] == ln2)
        #expect(powers[2] == 3 * ln2 + 2)
        #expect(powers[3] == FixedMath.logQ64(3, fractionBits: 0))

        var g = PRNG(seed: 77)
        for round in 0..<2_000 {
            var x = InlineArray<4, UInt64>(repeating: 0)
            for lane in x.indices { x[lane] = Swift.max(1, g.next() >> (g.next() % 64)) }
            let bits = round % 2 == 0 ? 64 : 0
            let logs = FixedMath.logQ64(lanes: x, fractionBits: bits)
            for lane in x.indices { #expect(logs[lane] == FixedMath.logQ64(x[lane], fractionBits: bits)) }
        }

        // 1 − e^−y: 0; 2^−64, whose 2-term series gives exactly 1 raw unit
        // (P = 2^63 − ⌊1 · 2^62 / 2^64⌋ = 2^63, and 1 · 2^63 / 2^63 = 1); lanes of different term
        // counts side by side; and values from 1/4 up, which take the `expParts` path.
        let edges: [UInt128] = [0, 1, 1 << 20, 1 << 40, (1 << 61) + 12_345, (1 << 62) - 1, 1 << 62, 1 << 64, 40 << 64]
        #expect(FixedMath.oneMinusExpNegQ64(lanes: [0, 1, 1 << 62, 1 << 20])[0] == 0)
        #expect(FixedMath.oneMinusExpNegQ64(lanes: [0, 1, 1 << 62, 1 << 20])[1] == 1)
        for round in 0..<2_000 {
            var y = InlineArray<4, UInt128>(repeating: 0)
            for lane in y.indices {
                y[lane] =
                    round % 3 == 0 ? edges[Int(g.next() % UInt64(edges.count))] : UInt128(g.next() >> (g.next() % 64))
            }
            let results = FixedMath.oneMinusExpNegQ64(lanes: y)
            for lane in y.indices { #expect(results[lane] == FixedMath.oneMinusExpNegQ64(y[lane]), "y = \(y[lane])") }
        }
    }

    /// Four draws' negative logarithms at once are the next four one at a time, and use up four draws.
    @Test func negativeLogsOfFourDraws() {
        var lanes = PRNG(seed: 5)
        var single = lanes
        for _ in 0..<1_000 {
            let four = lanes.nextNegativeLogsOfOpenClosedUnit()
            for lane in four.indices { #expect(four[lane] == single.nextNegativeLogOfOpenClosedUnit()) }
        }
        #expect(lanes.next() == single.next())
    }
}

@Suite("128-by-64-bit division")
struct WideDivisionTests {
    /// The `divq` path must give exactly the quotient Swift's own full-width division gives.
    @Test func matchesDividingFullWidth() {
        // (0 · 2^64 + 100) / 7 = 14 (7 · 14 = 98, remainder 2).
        #expect(FixedMath.divideWide(high: 0, low: 100, by: 7) == 14)
        // (1 · 2^64 + 0) / 2 = 2^63.
        #expect(FixedMath.divideWide(high: 1, low: 0, by: 2) == 1 << 63)
        // The largest numerator under divisor · 2^64: (d − 1) · 2^64 + (2^64 − 1) over d is 2^64 − 1.
        #expect(FixedMath.divideWide(high: 999, low: .max, by: 1_000) == .max)
        var random = PRNG(seed: 2026, stream: 11)
        for _ in 0..<10_000 {
            let divisor = random.next() | 1
            let high = random.nextInt(below: divisor)
            let low = random.next()
            #expect(
                FixedMath.divideWide(high: high, low: low, by: divisor)
                    == divisor.dividingFullWidth((high: high, low: low)).quotient)
        }
    }
}
