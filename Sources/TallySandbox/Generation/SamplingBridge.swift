import TallyPipeline
import TallyRandom

/// The seam between exact scenario parameters and the sampling distributions.
enum Sampled {
    static func normal(mean: ExactDecimal, stddev: ExactDecimal, using random: inout PRNG) -> Double {
        let distribution = (try? Normal(mean: mean.samplingValue, stddev: stddev.samplingValue)) ?? (try? Normal())
        return distribution?.sample(using: &random) ?? 0
    }

    static func logNormal(mu: ExactDecimal, sigma: ExactDecimal, using random: inout PRNG) -> Double {
        (try? LogNormal(mu: mu.samplingValue, sigma: sigma.samplingValue))?.sample(using: &random) ?? 0
    }

    static func pareto(scale: ExactDecimal, shape: ExactDecimal, using random: inout PRNG) -> Double {
        (try? Pareto(scale: scale.samplingValue, shape: shape.samplingValue))?.sample(using: &random) ?? 0
    }

    /// A drawn value as an exact decimal with `decimals` digits, half-up; negative draws become 0.
    static func decimal(_ value: Double, _ decimals: Int) -> ExactDecimal {
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let steps = (value * scale).rounded(.toNearestOrAwayFromZero)
        guard steps > 0 else { return .zero }
        let clamped = steps < 9.2e18 ? Int64(steps) : Int64.max
        return ExactDecimal.steps(clamped, decimals)
    }
}

extension ExactDecimal {
    /// This value as a sampling parameter.
    var samplingValue: Double { Double(description) ?? 0 }
}
