import Foundation
import Testing
import TallyRandom

private func draws<D: SamplingDistribution>(_ d: D, _ n: Int, seed: UInt64 = 42) -> [D.Value] {
    var g = PRNG(seed: seed)
    return (0..<n).map { _ in d.sample(using: &g) }
}

private func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance)
}

/// Regression vectors: the first five samples for seed 42, computed by this implementation and
/// written literally. They are compared with `==` (bit-exact) so any change to an algorithm, to
/// DeterministicMath, or to how many draws a sampler consumes is caught — including after a
/// toolchain upgrade. They are not independent truth; the statistical suite below checks that.
@Suite struct RegressionVectors {
    @Test func continuous() throws {
        #expect(draws(try Uniform(lower: 10, upper: 20), 5) == [
            10.838629710598822, 13.789802506626685, 16.800434110281394, 19.246929453253877, 19.91803914282103,
        ])
        #expect(draws(try Normal(mean: 100, stddev: 15), 5) == [
            89.10671292632821, 103.3243405225539, 106.96265965243711, 122.14374191527622, 115.11729848863091,
        ])
        #expect(draws(try LogNormal(mu: 1, sigma: 0.5), 5) == [
            1.8905928003602195, 3.036821322414345, 3.4283827724657785, 5.686669379854365, 4.499246550884618,
        ])
        #expect(draws(try Pareto(scale: 2, shape: 1.5), 5) == [
            10.438782114310891, 3.81902302304268, 2.5862603257545764, 2.1071638132342208, 2.0110033019902347,
        ])
        #expect(draws(try Exponential(rate: 0.25), 5) == [
            9.914284436234354, 3.8810847373076447, 1.5423945724095627, 0.31317419030888616, 0.03291943316121203,
        ])
    }

    @Test func discrete() throws {
        #expect(draws(try Poisson(lambda: 4), 5) == [5, 7, 6, 3, 5])
        #expect(draws(try Poisson(lambda: 1000), 5) == [947, 1017, 1021, 1025, 1017])
        #expect(draws(try Zipf(n: 1_000_000, s: 1.1), 5) == [1, 17, 849, 114478, 771058])
        #expect(draws(try Discrete(weights: [1, 0, 5, 10, 4]), 5) == [2, 3, 3, 4, 4])
    }
}

/// Statistical sanity on 100k samples; tolerances are about 5 standard errors.
@Suite struct StatisticalSanity {
    let n = 100_000

    @Test func uniform() throws {
        let xs = draws(try Uniform(lower: 10, upper: 20), n, seed: 1)
        let (m, v) = meanAndVariance(xs)
        #expect(abs(m - 15) < 0.05)
        #expect(abs(v - 100.0 / 12.0) < 0.15)
        #expect(xs.allSatisfy { $0 >= 10 && $0 < 20 })
    }

    @Test func normal() throws {
        let (m, v) = meanAndVariance(draws(try Normal(mean: 100, stddev: 15), n, seed: 2))
        #expect(abs(m - 100) < 0.25)
        #expect(abs(v - 225) < 5)
        let z = draws(try Normal(), n, seed: 3)
        let within1 = Double(z.filter { abs($0) < 1 }.count) / Double(n)
        #expect(abs(within1 - 0.6826894921370859) < 0.008)
    }

    @Test func logNormal() throws {
        let xs = draws(try LogNormal(mu: 1, sigma: 0.5), n, seed: 4)
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
        #expect(abs(meanAndVariance(xs).mean - 3.0) < 0.05)  // xm·α/(α−1)
    }

    @Test func exponential() throws {
        let xs = draws(try Exponential(rate: 0.25), n, seed: 6)
        let (m, v) = meanAndVariance(xs)
        #expect(xs.allSatisfy { $0 >= 0 && $0.isFinite })
        #expect(abs(m - 4) < 0.07)
        #expect(abs(v - 16) < 0.8)
    }

    @Test(arguments: [0.5, 4.0, 30.0, 30.5, 100.0, 1000.0, 1e6])
    func poisson(lambda: Double) throws {
        let ks = draws(try Poisson(lambda: lambda), n, seed: 7)
        let (m, v) = meanAndVariance(ks.map(Double.init))
        let se = (lambda / Double(n)).squareRoot()
        #expect(abs(m - lambda) < 5 * se, "mean for λ=\(lambda)")
        #expect(abs(v - lambda) < 5 * lambda * (2.0 / Double(n)).squareRoot() + 5 * se, "variance for λ=\(lambda)")
        #expect(ks.allSatisfy { $0 >= 0 })
        // Frequencies near the mode vs the exact pmf (exercises PTRS acceptance, not just moments).
        let mode = Int(lambda)
        for k in [mode - 1, mode, mode + 1] where k >= 0 {
            let pmf = Foundation.exp(Double(k) * Foundation.log(lambda) - lambda - Foundation.lgamma(Double(k) + 1))
            let freq = Double(ks.filter { $0 == k }.count) / Double(n)
            #expect(abs(freq - pmf) < 5 * (pmf / Double(n)).squareRoot() + 1e-4, "P(X=\(k)) for λ=\(lambda)")
        }
    }

    @Test func poissonZero() throws {
        #expect(draws(try Poisson(lambda: 0), 100).allSatisfy { $0 == 0 })
    }

    @Test func zipfRankOneFrequency() throws {
        let z = try Zipf(n: 1000, s: 1.1)
        let ranks = draws(z, n, seed: 8)
        let harmonic = (1...1000).reduce(0.0) { $0 + Foundation.pow(Double($1), -1.1) }
        let p1 = 1 / harmonic
        #expect(abs(z.probability(ofRank: 1) - p1) < 1e-12)
        let f1 = Double(ranks.filter { $0 == 1 }.count) / Double(n)
        #expect(abs(f1 - p1) < 5 * (p1 * (1 - p1) / Double(n)).squareRoot())
        let p2 = Foundation.pow(2, -1.1) / harmonic
        let f2 = Double(ranks.filter { $0 == 2 }.count) / Double(n)
        #expect(abs(f2 - p2) < 5 * (p2 * (1 - p2) / Double(n)).squareRoot())
        #expect(ranks.allSatisfy { (1...1000).contains($0) })
    }

    @Test func zipfMillionRanksBuildsAndSamples() throws {
        let z = try Zipf(n: 1_000_000, s: 1.0)
        let ranks = draws(z, 10_000, seed: 9)
        #expect(ranks.allSatisfy { (1...1_000_000).contains($0) })
        #expect(z.probability(ofRank: 1) > z.probability(ofRank: 2))
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
        rejects({ _ = try Uniform(lower: -.greatestFiniteMagnitude, upper: .greatestFiniteMagnitude) }, mentioning: "width")
        rejects({ _ = try Uniform(lower: .nan, upper: 1) }, mentioning: "Uniform")
        rejects({ _ = try Normal(mean: 0, stddev: -1) }, mentioning: "stddev")
        rejects({ _ = try Normal(mean: .infinity, stddev: 1) }, mentioning: "mean")
        rejects({ _ = try LogNormal(mu: 0, sigma: .nan) }, mentioning: "sigma")
        rejects({ _ = try Pareto(scale: 0, shape: 1) }, mentioning: "scale")
        rejects({ _ = try Pareto(scale: 1, shape: -2) }, mentioning: "shape")
        rejects({ _ = try Exponential(rate: 0) }, mentioning: "rate")
        rejects({ _ = try Poisson(lambda: -1) }, mentioning: "lambda")
        rejects({ _ = try Poisson(lambda: 1e11) }, mentioning: "lambda")
        rejects({ _ = try Zipf(n: 0, s: 1) }, mentioning: "n must")
        rejects({ _ = try Zipf(n: 10, s: 0) }, mentioning: "s must")
        rejects({ _ = try Discrete(weights: []) }, mentioning: "empty")
        rejects({ _ = try Discrete(weights: [0, 0]) }, mentioning: "> 0")
        rejects({ _ = try Discrete(weights: [UInt64.max, 1]) }, mentioning: "exceeds")
    }

    @Test func degenerateButValidParameters() throws {
        #expect(draws(try Uniform(lower: 3, upper: 3), 3) == [3, 3, 3])
        #expect(draws(try Normal(mean: 7, stddev: 0), 3) == [7, 7, 7])
        // Extreme shapes clamp instead of producing infinity.
        #expect(draws(try Pareto(scale: 1, shape: 1e-3), 1000).allSatisfy { $0.isFinite })
        #expect(draws(try LogNormal(mu: 700, sigma: 10), 1000).allSatisfy { $0.isFinite })
    }
}
