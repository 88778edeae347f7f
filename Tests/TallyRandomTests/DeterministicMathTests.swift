import Foundation
import Testing
@testable import TallyRandom

/// Distance in units in the last place between two finite doubles of the same sign.
func ulpDistance(_ a: Double, _ b: Double) -> UInt64 {
    if a == b { return 0 }
    // Map the sign-magnitude bit patterns onto a monotone integer line.
    func ordered(_ x: Double) -> Int64 {
        let bits = Int64(bitPattern: x.bitPattern)
        return bits < 0 ? Int64.min &- bits : bits
    }
    let d = ordered(a) &- ordered(b)
    return d.magnitude
}

@Suite struct DeterministicMathTests {
    @Test func knownValues() {
        #expect(ulpDistance(DeterministicMath.log(2), 0.6931471805599453) <= 1)
        #expect(ulpDistance(DeterministicMath.log(10), 2.302585092994046) <= 1)
        #expect(ulpDistance(DeterministicMath.exp(1), 2.718281828459045) <= 1)
        #expect(ulpDistance(DeterministicMath.exp(-1), 0.36787944117144233) <= 1)
        #expect(ulpDistance(DeterministicMath.sin(1), 0.8414709848078965) <= 1)
        #expect(ulpDistance(DeterministicMath.cos(1), 0.5403023058681398) <= 1)
        #expect(ulpDistance(DeterministicMath.sin(DeterministicMath.pi / 6), 0.49999999999999994) <= 1)
        #expect(DeterministicMath.log(1) == 0)
        #expect(DeterministicMath.exp(0) == 1)
        #expect(DeterministicMath.sin(0) == 0)
        #expect(DeterministicMath.cos(0) == 1)
    }

    @Test func specialValues() {
        #expect(DeterministicMath.log(0) == -.infinity)
        #expect(DeterministicMath.log(-0.0) == -.infinity)
        #expect(DeterministicMath.log(-1).isNaN)
        #expect(DeterministicMath.log(.infinity) == .infinity)
        #expect(DeterministicMath.log(.nan).isNaN)
        #expect(DeterministicMath.exp(800) == .infinity)
        #expect(DeterministicMath.exp(-800) == 0)
        #expect(DeterministicMath.exp(-.infinity) == 0)
        #expect(DeterministicMath.exp(.nan).isNaN)
        #expect(DeterministicMath.sin(.infinity).isNaN)
        #expect(DeterministicMath.cos(.nan).isNaN)
        // Subnormal input and output paths.
        #expect(ulpDistance(DeterministicMath.log(0x1p-1074), -744.4400719213812) <= 1)
        #expect(DeterministicMath.exp(-745) == Foundation.exp(-745.0))
        #expect(ulpDistance(DeterministicMath.exp(709), Foundation.exp(709.0)) <= 1)
    }

    /// Foundation (glibc here) is only a yardstick: both are within ~1 ulp of the true value.
    @Test func agreesWithLibmWithinTwoUlp() {
        var g = PRNG(seed: 2024)
        var worst = (log: UInt64(0), exp: UInt64(0), sin: UInt64(0), cos: UInt64(0))
        for _ in 0..<200_000 {
            // log over many binades, including subnormals.
            let lx = Double(sign: .plus, exponent: Int(g.nextInt(in: -1070...1020)), significand: 1 + g.nextUnitDouble())
            worst.log = max(worst.log, ulpDistance(DeterministicMath.log(lx), Foundation.log(lx)))
            let ex = -745 + 1454.7 * g.nextUnitDouble()
            let expected = Foundation.exp(ex)
            if expected >= 0x1p-1022 {  // subnormal results have absolute, not relative, accuracy
                worst.exp = max(worst.exp, ulpDistance(DeterministicMath.exp(ex), expected))
            }
            let tx = -100 + 200 * g.nextUnitDouble()
            worst.sin = max(worst.sin, ulpDistance(DeterministicMath.sin(tx), Foundation.sin(tx)))
            worst.cos = max(worst.cos, ulpDistance(DeterministicMath.cos(tx), Foundation.cos(tx)))
        }
        #expect(worst.log <= 1)
        #expect(worst.exp <= 1)
        #expect(worst.sin <= 2)
        #expect(worst.cos <= 2)
    }

    @Test func smallArgumentsAndNearMultiplesOfHalfPi() {
        for x in [1e-300, 1e-20, 1e-9, 0.5, 0.785398163397448, 1.5707963267948966, 3.141592653589793, 4.71238898038469, 6.283185307179586, 710.0, 1e5] {
            for v in [x, -x] {
                #expect(ulpDistance(DeterministicMath.sin(v), Foundation.sin(v)) <= 2, "sin(\(v))")
                #expect(ulpDistance(DeterministicMath.cos(v), Foundation.cos(v)) <= 2, "cos(\(v))")
            }
        }
        for x in [1e-300, 1e-17, 1e-9, 0.3, 0.35, 0.5, 1.0, 1.1] {
            #expect(ulpDistance(DeterministicMath.exp(x), Foundation.exp(x)) <= 1, "exp(\(x))")
            #expect(ulpDistance(DeterministicMath.exp(-x), Foundation.exp(-x)) <= 1, "exp(\(-x))")
        }
    }

    @Test func logFactorial() {
        for k in [0, 1, 5, 19, 20, 21, 50, 170] {
            var exact = 0.0
            if k > 1 { for i in 2...k { exact += Foundation.log(Double(i)) } }
            let got = DeterministicMath.logFactorial(Double(k))
            #expect(abs(got - exact) <= 1e-13 * max(1, exact), "ln(\(k)!)")
        }
        #expect(abs(DeterministicMath.logFactorial(1e6) - Foundation.lgamma(1e6 + 1)) <= 1e-15 * 1.3e7)
    }
}
