import Foundation
import Testing

@testable import TallyRandom

private func draws<D: SamplingDistribution>(_ d: D, _ n: Int, seed: UInt64 = 42) -> [D.Value] {
    var g = PRNG(seed: seed)
    return (0..<n).map { _ in d.sample(using: &g) }
}

private func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance)
}

/// Decimal shorthand for tests: dec(25, 1) = 2.5.
private func dec(_ significand: Int64, _ scale: Int) -> Fixed { Fixed(significand: significand, decimalScale: scale) }

/// Regression vectors: the first five samples for seed 42, computed by this implementation and written
/// literally as raw Q32.32 values (e.g. 46551560140 / 2^32 = 10.83862971). They are compared with `==` (bit-exact) so any change to an
/// algorithm, to FixedMath, or to how many draws a sampler consumes is caught — including after a
/// toolchain upgrade. They are not independent truth; the statistical suite below checks that.
@Suite struct RegressionVectors {
    @Test func continuous() throws {
        #expect(
            draws(try Uniform(lower: 10, upper: 20), 5).map(\.raw) == [
                46_551_560_140, 59_226_750_784, 72_157_315_062, 82_664_932_550, 85_547_326_718,
            ])
        #expect(
            draws(try Normal(mean: 100, stddev: 15), 5).map(\.raw) == [
                382_710_417_890, 443_774_663_426, 459_401_125_122, 524_603_376_982, 494_425_032_177,
            ])
        #expect(
            draws(try LogNormal(mu: 1, sigma: dec(5, 1)), 5).map(\.raw) == [
                8_120_034_249, 13_043_048_264, 14_724_791_888, 24_424_059_018, 19_324_116_787,
            ])
        #expect(
            draws(try Pareto(scale: 2, shape: dec(15, 1)), 5).map(\.raw) == [
                44_834_227_791, 16_402_578_987, 11_107_903_518, 9_050_199_665, 8_637_193_414,
            ])
        #expect(
            draws(try Exponential(rate: dec(25, 2)), 5).map(\.raw) == [
                42_581_527_417, 16_669_132_020, 6_624_534_246, 1_345_072_905, 141_387_889,
            ])
    }

    @Test func discrete() throws {
        #expect(draws(try Poisson(lambda: 4), 5) == [5, 7, 6, 3, 5])
        #expect(draws(try Poisson(lambda: 1000), 5) == [977, 1007, 1015, 1047, 1032])
        #expect(draws(try Zipf(n: 1_000_000, s: dec(11, 1)), 5) == [1, 17, 849, 114478, 771058])
        #expect(draws(try Discrete(weights: [1, 0, 5, 10, 4]), 5) == [2, 3, 3, 4, 4])
    }
}

/// Statistical sanity on 100k samples; tolerances are about 5 standard errors. Doubles appear only
/// here, as a yardstick.
@Suite struct StatisticalSanity {
    let n = 100_000

    @Test func uniform() throws {
        let xs = draws(try Uniform(lower: 10, upper: 20), n, seed: 1)
        let (m, v) = meanAndVariance(xs.map(double))
        #expect(abs(m - 15) < 0.05)
        #expect(abs(v - 100.0 / 12.0) < 0.15)
        #expect(xs.allSatisfy { $0 >= 10 && $0 < 20 })
    }

    @Test func normal() throws {
        let (m, v) = meanAndVariance(draws(try Normal(mean: 100, stddev: 15), n, seed: 2).map(double))
        #expect(abs(m - 100) < 0.25)
        #expect(abs(v - 225) < 5)
        let z = draws(try Normal(), n, seed: 3).map(double)
        let within1 = Double(z.filter { abs($0) < 1 }.count) / Double(n)
        #expect(abs(within1 - 0.6826894921370859) < 0.008)
        let beyond3 = Double(z.filter { abs($0) > 3 }.count) / Double(n)
        #expect(abs(beyond3 - 0.0026997960632601866) < 0.0009)
        let (mz, vz) = meanAndVariance(z)
        #expect(abs(mz) < 0.016 && abs(vz - 1) < 0.02)
    }

    @Test func logNormal() throws {
        let xs = draws(try LogNormal(mu: 1, sigma: dec(5, 1)), n, seed: 4).map(double)
        let (m, _) = meanAndVariance(xs.map { Foundation.log($0) })
        #expect(abs(m - 1) < 0.01)
        #expect(abs(meanAndVariance(xs).mean - Foundation.exp(1.125)) < 0.03)
    }

    @Test func pareto() throws {
        let xs = draws(try Pareto(scale: 2, shape: 3), n, seed: 5)
        #expect(xs.allSatisfy { $0 >= 2 })
        // Tail: P(X > 2·xm) = 2^-alpha = 0.125.
        let tail = Double(xs.filter { $0 > 4 }.count) / Double(n)
        #expect(abs(tail - 0.125) < 0.006)
        #expect(abs(meanAndVariance(xs.map(double)).mean - 3.0) < 0.05)  // xm·α/(α−1)
    }

    @Test func exponential() throws {
        let xs = draws(try Exponential(rate: dec(25, 2)), n, seed: 6)
        let (m, v) = meanAndVariance(xs.map(double))
        #expect(xs.allSatisfy { $0 >= 0 })
        #expect(abs(m - 4) < 0.07)
        #expect(abs(v - 16) < 0.8)
    }

    /// λ = 0.5 … 256 exercise Knuth's method (exact), above it the normal approximation.
    @Test(arguments: [dec(5, 1), 4, 10, 30, dec(305, 1), 100, 256, 257, 1000, 1_000_000] as [Fixed])
    func poisson(lambda: Fixed) throws {
        let lambdaValue = double(lambda)
        let ks = draws(try Poisson(lambda: lambda), n, seed: 7)
        let (m, v) = meanAndVariance(ks.map(Double.init))
        let se = (lambdaValue / Double(n)).squareRoot()
        #expect(abs(m - lambdaValue) < 5 * se, "mean for λ=\(lambda)")
        #expect(
            abs(v - lambdaValue) < 5 * lambdaValue * (2.0 / Double(n)).squareRoot() + 5 * se, "variance for λ=\(lambda)"
        )
        #expect(ks.allSatisfy { $0 >= 0 })
        // Frequencies near the mode vs the exact pmf.
        let mode = Int(lambdaValue)
        for k in [mode - 1, mode, mode + 1] where k >= 0 {
            let pmf = Foundation.exp(
                Double(k) * Foundation.log(lambdaValue) - lambdaValue - Foundation.lgamma(Double(k) + 1))
            let freq = Double(ks.filter { $0 == k }.count) / Double(n)
            #expect(abs(freq - pmf) < 5 * (pmf / Double(n)).squareRoot() + 1e-4, "P(X=\(k)) for λ=\(lambda)")
        }
    }

    @Test func poissonZero() throws {
        #expect(draws(try Poisson(lambda: 0), 100).allSatisfy { $0 == 0 })
    }

    @Test func zipfRankFrequencies() throws {
        let z = try Zipf(n: 1000, s: dec(11, 1))
        let ranks = draws(z, n, seed: 8)
        let s = double(z.s)  // 1.1 rounded to Q32.32
        let harmonic = (1...1000).reduce(0.0) { $0 + Foundation.pow(Double($1), -s) }
        // The integer weights are round(k^−s · 2^54), so the model matches to ~1e−15.
        for rank in [1, 2, 10, 1000] {
            let p = Foundation.pow(Double(rank), -s) / harmonic
            let model = Double(z.weight(ofRank: rank)) / Double(z.totalWeight)
            #expect(abs(model - p) < 1e-12, "model P(\(rank))")
            #expect(abs(double(z.probability(ofRank: rank)) - p) < 3e-10)
        }
        for rank in [1, 2, 3] {
            let p = Foundation.pow(Double(rank), -s) / harmonic
            let f = Double(ranks.filter { $0 == rank }.count) / Double(n)
            #expect(abs(f - p) < 5 * (p * (1 - p) / Double(n)).squareRoot(), "rank \(rank)")
        }
        #expect(ranks.allSatisfy { (1...1000).contains($0) })
        #expect(z.weight(ofRank: 0) == 0 && z.weight(ofRank: 1001) == 0)
    }

    /// The guide table only narrows the binary search; every draw must land on the rank a
    /// search of the whole cumulative table finds.
    @Test(arguments: [Zipf.guideThreshold, 1_000, 100_003, 1_000_000])
    func zipfGuideFindsTheSameRankAsAFullSearch(n: Int) throws {
        let z = try Zipf(n: n, s: dec(11, 1))
        var guided = PRNG(seed: 77, stream: 3)
        var plain = guided
        for _ in 0..<20_000 {
            let draw = plain.nextInt(below: z.totalWeight)
            let expected = Swift.min(firstIndex(in: z.cumulative, above: draw), n - 1) + 1
            #expect(z.sample(using: &guided) == expected)
        }
    }

    /// Draws on either side of every rank's cumulative weight (exponent 3 leaves the tail's
    /// weights 0, so many ranks share one) land where a search of the whole table does.
    @Test(arguments: [(100_003, dec(11, 1)), (300_000, dec(3, 0)), (Zipf.guideThreshold, dec(2, 0))])
    func zipfRankAtEveryCumulativeBoundary(n: Int, s: Fixed) throws {
        let z = try Zipf(n: n, s: s)
        var misses: [UInt64] = []
        for boundary in z.cumulative {
            for draw in [boundary &- 1, boundary]
            where draw < z.totalWeight
                && z.rank(drawn: draw) != Swift.min(firstIndex(in: z.cumulative, above: draw), n - 1) + 1
            {
                misses.append(draw)
            }
        }
        let firstMisses = Array(misses.prefix(5))
        #expect(firstMisses.isEmpty, "\(misses.count) draws land elsewhere")
        #expect(z.rank(drawn: 0) == 1)
    }

    /// A sample is its draw then that draw's rank, so a caller may draw ahead and find ranks
    /// later; prefetching a draw's table line changes nothing.
    @Test func zipfSampleIsADrawThenItsRank() throws {
        let z = try Zipf(n: 100_003, s: dec(11, 1))
        var sampled = PRNG(seed: 12, stream: 4)
        var split = sampled
        for _ in 0..<5_000 {
            let draw = z.draw(using: &split)
            z.prefetch(drawn: draw)
            #expect(z.sample(using: &sampled) == z.rank(drawn: draw))
        }
        #expect(sampled.next() == split.next())
        // Without a guide (fewer ranks than its threshold), prefetching does nothing.
        try Zipf(n: 10, s: 1).prefetch(drawn: 0)
    }

    @Test func zipfMillionRanksBuildsAndSamples() throws {
        let z = try Zipf(n: 1_000_000, s: 1)
        let ranks = draws(z, 10_000, seed: 9)
        #expect(ranks.allSatisfy { (1...1_000_000).contains($0) })
        #expect(z.probability(ofRank: 1) > z.probability(ofRank: 2))
        // Extreme exponents: all mass on rank 1, no trap.
        #expect(draws(try Zipf(n: 10, s: 1000), 100).allSatisfy { $0 == 1 })
    }

    @Test func discreteFrequencies() throws {
        let weights: [UInt64] = [1, 0, 5, 10, 4]
        let idx = draws(try Discrete(weights: weights), n, seed: 10)
        for (i, w) in weights.enumerated() {
            let p = Double(w) / 20
            let f = Double(idx.filter { $0 == i }.count) / Double(n)
            #expect(abs(f - p) < 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-9, "index \(i)")
        }
        // Weights summing to exactly UInt64.max are accepted.
        let edge = try Discrete(weights: [UInt64.max - 1, 1])
        #expect(edge.total == UInt64.max)
        #expect(draws(edge, 10).allSatisfy { $0 == 0 || $0 == 1 })
    }
}

@Suite struct ParameterValidation {
    private func rejects(_ body: () throws -> Void, mentioning word: String) {
        do {
            try body()
            Issue.record("expected a ParameterError mentioning \(word)")
        } catch let error as ParameterError {
            #expect(error.message.contains(word), "\(error.message)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func invalidParametersThrowReadableErrors() {
        rejects({ _ = try Uniform(lower: 2, upper: 1) }, mentioning: "Uniform")
        rejects({ _ = try Normal(mean: 0, stddev: -1) }, mentioning: "stddev")
        rejects({ _ = try LogNormal(mu: 0, sigma: dec(-1, 3)) }, mentioning: "-0.001")
        rejects({ _ = try Pareto(scale: 0, shape: 1) }, mentioning: "scale")
        rejects({ _ = try Pareto(scale: 1, shape: -2) }, mentioning: "shape")
        rejects({ _ = try Exponential(rate: 0) }, mentioning: "rate")
        rejects({ _ = try Poisson(lambda: -1) }, mentioning: "lambda")
        rejects({ _ = try Poisson(lambda: Fixed(integer: 1_000_000_001)) }, mentioning: "lambda")
        rejects({ _ = try Zipf(n: 0, s: 1) }, mentioning: "n must")
        rejects({ _ = try Zipf(n: 10, s: 0) }, mentioning: "s must")
        rejects({ _ = try Discrete(weights: []) }, mentioning: "empty")
        rejects({ _ = try Discrete(weights: [0, 0]) }, mentioning: "> 0")
        rejects({ _ = try Discrete(weights: [UInt64.max, 1]) }, mentioning: "exceeds")
    }

    @Test func degenerateAndExtremeParameters() throws {
        #expect(draws(try Uniform(lower: 3, upper: 3), 3) == [3, 3, 3])
        #expect(draws(try Uniform(lower: .min, upper: .max), 1000).allSatisfy { $0 < .max })
        #expect(draws(try Normal(mean: 7, stddev: 0), 3) == [7, 7, 7])
        // Extreme parameters saturate instead of trapping.
        #expect(draws(try Normal(mean: .max, stddev: .max), 1000).allSatisfy { $0 >= .min })
        #expect(draws(try Pareto(scale: 1, shape: Fixed(raw: 1)), 100).allSatisfy { $0 == .max })
        #expect(draws(try Pareto(scale: .max, shape: .max), 100).allSatisfy { $0 == .max })
        #expect(draws(try LogNormal(mu: 700, sigma: 10), 100).allSatisfy { $0 == .max })
        #expect(draws(try LogNormal(mu: -700, sigma: 1), 100).allSatisfy { $0 == .zero })
        #expect(draws(try Exponential(rate: Fixed(raw: 1)), 100).allSatisfy { $0 > 1_000_000 })
        #expect(draws(try Exponential(rate: .max), 100).allSatisfy { $0 >= 0 && $0 < dec(1, 7) })
        #expect(draws(try Poisson(lambda: Poisson.maximumLambda), 100).allSatisfy { abs($0 - 1_000_000_000) < 300_000 })
    }
}
