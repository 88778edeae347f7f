import TallyPipeline
import TallyRandom

/// The seam between exact scenario parameters and the fixed-point sampling distributions.
///
/// Scenario parameters arrive as exact decimals and become `Fixed` (Q32.32)
/// values; a draw becomes an exact decimal again by rounding half-up to the
/// traffic's `decimals` digits, in integer arithmetic. No binary floating
/// point is involved anywhere, so a generated quantity is the same on every
/// machine and compiler.
enum Sampled {
    static func normal(mean: ExactDecimal, stddev: ExactDecimal, using random: inout PRNG) -> Fixed {
        (try? Normal(mean: mean.fixed, stddev: stddev.fixed))?.sample(using: &random) ?? .zero
    }

    static func logNormal(mu: ExactDecimal, sigma: ExactDecimal, using random: inout PRNG) -> Fixed {
        (try? LogNormal(mu: mu.fixed, sigma: sigma.fixed))?.sample(using: &random) ?? .zero
    }

    static func pareto(scale: ExactDecimal, shape: ExactDecimal, using random: inout PRNG) -> Fixed {
        (try? Pareto(scale: scale.fixed, shape: shape.fixed))?.sample(using: &random) ?? .zero
    }

    /// A draw as an exact decimal with `decimals` digits, half-up; negative draws become 0 (usage is never negative).
    static func decimal(_ value: Fixed, _ decimals: Int) -> ExactDecimal {
        guard value > .zero else { return .zero }
        let (significand, scale) = value.decimal(digits: decimals)
        return ExactDecimal.steps(significand, scale)
    }
}

extension ExactDecimal {
    /// This value as a Q32.32 sampling parameter, rounded to the nearest 2^-32 (saturating).
    var fixed: Fixed {
        let value = normalized
        guard let significand = Int64(exactly: value.significand) else { return value.isNegative ? .min : .max }
        return Fixed(significand: significand, decimalScale: value.scale)
    }
}
