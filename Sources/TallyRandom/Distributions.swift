// Distributions as small immutable value types: validate once in a throwing initializer, then
// `sample(using:)` is total (never traps) and consumes generator output in a documented, fixed way.
// Every sampler uses only `PRNG` draws, IEEE +, −, ×, ÷, sqrt and `DeterministicMath`.

/// A distribution that draws values from a `PRNG` deterministically.
public protocol SamplingDistribution: Sendable {
    /// The type of value drawn (`Double` for continuous distributions, `Int` for counts and ranks).
    associatedtype Value
    /// Draws one value, advancing `generator` by a number of steps that depends only on its state.
    func sample(using generator: inout PRNG) -> Value
}

/// Continuous uniform distribution on [lower, upper).
///
/// Algorithm: `lower + (upper − lower) · u` with `u = nextUnitDouble()` (one draw). Rounding can land
/// exactly on `upper`; that case returns `upper.nextDown` so the interval stays half-open.
public struct Uniform: SamplingDistribution, Hashable {
    public let lower: Double
    public let upper: Double

    /// Throws unless both bounds are finite, `lower <= upper` and `upper − lower` is finite.
    public init(lower: Double, upper: Double) throws(ParameterError) {
        guard lower.isFinite, upper.isFinite, lower <= upper, (upper - lower).isFinite else {
            throw ParameterError("Uniform: need finite lower <= upper with a finite width, got lower=\(lower), upper=\(upper)")
        }
        self.lower = lower
        self.upper = upper
    }

    public func sample(using generator: inout PRNG) -> Double {
        let x = lower + (upper - lower) * generator.nextUnitDouble()
        if x < upper || lower == upper { return x }
        return upper.nextDown
    }
}

/// Normal (Gaussian) distribution with the given mean and standard deviation.
///
/// Algorithm: Marsaglia's polar method. Draw u, v uniform in [−1, 1) until s = u² + v² is in (0, 1),
/// then return `mean + stddev · u · sqrt(−2·ln(s)/s)`. The method yields two independent normals;
/// the second (`v · …`) is deliberately discarded, so a sample never depends on a cached value and
/// the generator position alone determines the result. Expected draws per sample: 2 · 4/π ≈ 2.55.
public struct Normal: SamplingDistribution, Hashable {
    public let mean: Double
    public let stddev: Double

    /// Throws unless `mean` is finite and `stddev` is finite and `>= 0`.
    public init(mean: Double = 0, stddev: Double = 1) throws(ParameterError) {
        guard mean.isFinite else { throw ParameterError("Normal: mean must be finite, got \(mean)") }
        guard stddev.isFinite, stddev >= 0 else {
            throw ParameterError("Normal: stddev must be finite and >= 0, got \(stddev)")
        }
        self.mean = mean
        self.stddev = stddev
    }

    public func sample(using generator: inout PRNG) -> Double {
        mean + stddev * Normal.standardSample(using: &generator)
    }

    /// One standard normal value by the polar method (second value discarded), as described on `Normal`.
    public static func standardSample(using generator: inout PRNG) -> Double {
        while true {
            let u = 2.0 * generator.nextUnitDouble() - 1.0
            let v = 2.0 * generator.nextUnitDouble() - 1.0
            let s = u * u + v * v
            if s < 1.0 && s > 0.0 {
                return u * (-2.0 * DeterministicMath.log(s) / s).squareRoot()
            }
        }
    }
}

/// Log-normal distribution: `exp(N(mu, sigma))`.
///
/// Algorithm: `exp(mu + sigma · z)` with z from `Normal.standardSample`. A result that would overflow
/// is clamped to `Double.greatestFiniteMagnitude` so downstream sums never see infinity.
public struct LogNormal: SamplingDistribution, Hashable {
    public let mu: Double
    public let sigma: Double

    /// Throws unless `mu` is finite and `sigma` is finite and `>= 0`.
    public init(mu: Double, sigma: Double) throws(ParameterError) {
        guard mu.isFinite else { throw ParameterError("LogNormal: mu must be finite, got \(mu)") }
        guard sigma.isFinite, sigma >= 0 else {
            throw ParameterError("LogNormal: sigma must be finite and >= 0, got \(sigma)")
        }
        self.mu = mu
        self.sigma = sigma
    }

    public func sample(using generator: inout PRNG) -> Double {
        let z = Normal.standardSample(using: &generator)
        return min(DeterministicMath.exp(mu + sigma * z), .greatestFiniteMagnitude)
    }
}

/// Pareto (type I) distribution with scale `xm` (the minimum) and shape `alpha`: P(X > x) = (xm/x)^alpha.
///
/// Algorithm: inverse CDF, `xm · u^(−1/alpha)` computed as `xm · exp(−ln(u)/alpha)` with u in (0, 1]
/// (one draw, `nextOpenClosedUnitDouble`). Results are >= xm; overflow clamps to the largest finite double.
public struct Pareto: SamplingDistribution, Hashable {
    public let scale: Double
    public let shape: Double

    /// Throws unless `scale` and `shape` are finite and `> 0`.
    public init(scale: Double, shape: Double) throws(ParameterError) {
        guard scale.isFinite, scale > 0 else { throw ParameterError("Pareto: scale (xm) must be finite and > 0, got \(scale)") }
        guard shape.isFinite, shape > 0 else { throw ParameterError("Pareto: shape (alpha) must be finite and > 0, got \(shape)") }
        self.scale = scale
        self.shape = shape
    }

    public func sample(using generator: inout PRNG) -> Double {
        let u = generator.nextOpenClosedUnitDouble()
        let x = scale * DeterministicMath.exp((0.0 - DeterministicMath.log(u)) / shape)
        return min(x, .greatestFiniteMagnitude)
    }
}

/// Exponential distribution with the given rate (mean 1/rate), e.g. Poisson-process arrival gaps.
///
/// Algorithm: inverse CDF, `−ln(u)/rate` with u in (0, 1] (one draw), so the result is finite and >= 0.
public struct Exponential: SamplingDistribution, Hashable {
    public let rate: Double

    /// Throws unless `rate` is finite and `> 0`.
    public init(rate: Double) throws(ParameterError) {
        guard rate.isFinite, rate > 0 else { throw ParameterError("Exponential: rate must be finite and > 0, got \(rate)") }
        self.rate = rate
    }

    public func sample(using generator: inout PRNG) -> Double {
        // 0 − ln(u) rather than −ln(u): gives +0.0, not −0.0, when u == 1.
        (0.0 - DeterministicMath.log(generator.nextOpenClosedUnitDouble())) / rate
    }
}

/// Poisson distribution: the number of events in a unit interval at mean rate `lambda`.
///
/// Algorithms (both exact, chosen by `lambda` alone):
/// - `lambda <= 30`: Knuth's multiplication method — multiply uniforms until the product falls to
///   `exp(−lambda)` or below; the count of factors minus one is the sample (lambda + 1 draws expected).
/// - `lambda > 30`: PTRS, Hörmann (1993) "The transformed rejection method for generating Poisson random
///   variables", the same variant NumPy uses: two draws per attempt, ~1.1 attempts on average, with
///   the acceptance test using `DeterministicMath.log` and a Stirling-series ln(k!).
/// `lambda` is capped at 1e10: above that the acceptance test's cancellation (terms ~ lambda·ln lambda)
/// would erode its accuracy; use `Normal(mean: λ, stddev: √λ)` for such rates.
public struct Poisson: SamplingDistribution, Hashable {
    public let lambda: Double
    /// The largest accepted `lambda`.
    public static let maximumLambda = 1e10

    // Precomputed constants; which ones are used depends on the method.
    private let expNegLambda: Double
    private let sqrtLambda: Double
    private let logLambda: Double
    private let b: Double
    private let a: Double
    private let logInvAlpha: Double
    private let vr: Double

    /// Throws unless `0 <= lambda <= 1e10`.
    public init(lambda: Double) throws(ParameterError) {
        guard lambda.isFinite, lambda >= 0, lambda <= Poisson.maximumLambda else {
            throw ParameterError("Poisson: lambda must be finite and in 0...\(Poisson.maximumLambda), got \(lambda)")
        }
        self.lambda = lambda
        expNegLambda = DeterministicMath.exp(-lambda)
        sqrtLambda = lambda.squareRoot()
        logLambda = DeterministicMath.log(lambda)
        b = 0.931 + 2.53 * sqrtLambda
        a = -0.059 + 0.02483 * b
        logInvAlpha = DeterministicMath.log(1.1239 + 1.1328 / (b - 3.4))
        vr = 0.9277 - 3.6224 / (b - 2.0)
    }

    public func sample(using generator: inout PRNG) -> Int {
        if lambda <= 30 {
            var count = 0
            var product = 1.0
            while true {
                product *= generator.nextUnitDouble()
                if product <= expNegLambda { return count }
                count += 1
            }
        }
        while true {
            let u = generator.nextUnitDouble() - 0.5
            let v = generator.nextUnitDouble()
            let us = 0.5 - u.magnitude
            // us == 0 gives k = −inf, rejected below; the 2^62 bound keeps Int(k) total.
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return Int(k) }
            if !(k >= 0 && k < 0x1.0p62) || (us < 0.013 && v > us) { continue }
            let lhs = DeterministicMath.log(v) + logInvAlpha - DeterministicMath.log(a / (us * us) + b)
            let rhs = -lambda + k * logLambda - DeterministicMath.logFactorial(k)
            if lhs <= rhs { return Int(k) }
        }
    }
}

/// Zipf distribution over ranks 1...n with exponent s: P(rank = r) ∝ r^(−s).
///
/// Algorithm: the unnormalized cumulative weights Σ r^(−s) are built once at init (r^(−s) computed as
/// `exp(−s·ln r)`, summed in rank order); a sample draws `u · total` (one draw) and binary-searches for
/// the first rank whose cumulative weight exceeds it. O(n) memory and setup, O(log n) per sample.
/// Copies share the table (copy-on-write array), so build it once and pass it around.
public struct Zipf: SamplingDistribution, Hashable {
    public let n: Int
    public let s: Double
    /// The largest accepted `n` (an 80 MB table).
    public static let maximumN = 10_000_000
    private let cumulative: [Double]

    /// Throws unless `1 <= n <= 10_000_000` and `s` is finite and `> 0`.
    public init(n: Int, s: Double) throws(ParameterError) {
        guard n >= 1, n <= Zipf.maximumN else { throw ParameterError("Zipf: n must be in 1...\(Zipf.maximumN), got \(n)") }
        guard s.isFinite, s > 0 else { throw ParameterError("Zipf: s must be finite and > 0, got \(s)") }
        self.n = n
        self.s = s
        var table = [Double]()
        table.reserveCapacity(n)
        var sum = 0.0
        for rank in 1...n {
            sum += DeterministicMath.exp(-s * DeterministicMath.log(Double(rank)))
            table.append(sum)
        }
        cumulative = table
    }

    /// The exact model probability of `rank` (0 outside 1...n), for sanity checks.
    public func probability(ofRank rank: Int) -> Double {
        guard rank >= 1, rank <= n else { return 0 }
        let previous = rank == 1 ? 0.0 : cumulative[rank - 2]
        return (cumulative[rank - 1] - previous) / cumulative[n - 1]
    }

    public func sample(using generator: inout PRNG) -> Int {
        let target = generator.nextUnitDouble() * cumulative[n - 1]
        // If rounding puts target at the total, no entry exceeds it: fall back to rank n.
        return min(firstIndex(in: cumulative, above: target), n - 1) + 1
    }
}

/// Discrete distribution over indices 0..<weights.count with integer weights (no alias table).
///
/// Algorithm: exact integer cumulative sums built once; a sample draws `r = nextInt(below: total)`
/// (Lemire, unbiased) and binary-searches for the first index whose cumulative sum exceeds r. Because
/// everything is integer arithmetic, the probabilities are exactly weight/total. Zero weights are never drawn.
public struct Discrete: SamplingDistribution, Hashable {
    public let weights: [UInt64]
    private let cumulative: [UInt64]

    /// Throws if `weights` is empty, all zero, or sums beyond `UInt64.max`.
    public init(weights: [UInt64]) throws(ParameterError) {
        guard !weights.isEmpty else { throw ParameterError("Discrete: weights must not be empty") }
        var table = [UInt64]()
        table.reserveCapacity(weights.count)
        var sum: UInt64 = 0
        for (index, weight) in weights.enumerated() {
            let (next, overflow) = sum.addingReportingOverflow(weight)
            guard !overflow else {
                throw ParameterError("Discrete: weights sum exceeds UInt64.max (at index \(index))")
            }
            sum = next
            table.append(sum)
        }
        guard sum > 0 else { throw ParameterError("Discrete: at least one weight must be > 0") }
        self.weights = weights
        cumulative = table
    }

    /// The sum of all weights.
    public var total: UInt64 { cumulative[cumulative.count - 1] }

    public func sample(using generator: inout PRNG) -> Int {
        firstIndex(in: cumulative, above: generator.nextInt(below: total))
    }
}

/// Index of the first element of the ascending `table` that is `> value`, or `table.count` if none.
@usableFromInline
func firstIndex<T: Comparable>(in table: [T], above value: T) -> Int {
    var low = 0
    var high = table.count
    while low < high {
        let mid = low + (high - low) / 2
        if table[mid] > value { high = mid } else { low = mid + 1 }
    }
    return low
}
