internal import CIntrinsics

// Distributions as small immutable value types: validate once in a throwing initializer, then
// `sample(using:)` is total (never traps) and consumes generator output in a documented, fixed way.
// Every sampler uses only `PRNG` draws and integer arithmetic: `Fixed` (Q32.32) parameters and
// results, with `FixedMath` kernels carrying 62 to 64 fraction bits internally and rounding once.

/// A distribution that draws values from a `PRNG` deterministically.
public protocol SamplingDistribution: Sendable {
    /// The type of value drawn (`Fixed` for continuous distributions, `Int` for counts and ranks).
    associatedtype Value
    /// Draws one value, advancing `generator` by a number of steps that depends only on its state.
    func sample(using generator: inout PRNG) -> Value
}

/// Continuous uniform distribution on [lower, upper), exact on the `Fixed` grid.
///
/// Algorithm: `lower + nextInt(below: upper.raw − lower.raw)` on raw values (Lemire, unbiased), so
/// every representable value in [lower, upper) is equally likely and the interval is half-open by
/// construction. Usually one draw. When lower == upper the result is `lower` and one draw is consumed.
public struct Uniform: SamplingDistribution, Hashable {
    public let lower: Fixed
    public let upper: Fixed

    /// Throws unless `lower <= upper`.
    public init(lower: Fixed, upper: Fixed) throws(ParameterError) {
        guard lower <= upper else {
            throw ParameterError("Uniform: need lower <= upper, got lower=\(lower), upper=\(upper)")
        }
        self.lower = lower
        self.upper = upper
    }

    public func sample(using generator: inout PRNG) -> Fixed {
        // The raw width fits in UInt64 for any lower <= upper.
        let width = UInt64(bitPattern: upper.raw &- lower.raw)
        if width == 0 {
            _ = generator.next()
            return lower
        }
        return Fixed(raw: Int64(bitPattern: UInt64(bitPattern: lower.raw) &+ generator.nextInt(below: width)))
    }
}

/// Normal (Gaussian) distribution with the given mean and standard deviation.
///
/// Algorithm: Marsaglia's polar method in fixed point. u and v are uniform on the Q32.32 grid of
/// [−1, 1) (the top 33 bits of a draw each); s = u² + v² is then exact in Q64, and the pair is redrawn
/// unless 0 < s < 1 (so u, v are effectively in (−1, 1)). The standard normal is
/// z = sign(u) · √(−2·ln(s) · u²/s), the same value as u·√(−2 ln s / s) but with every intermediate
/// bounded: u²/s is in [0, 1] (Q63), −2 ln s <= 88.8 (Q56), and the root is taken as an exact integer
/// square root with 48 fraction bits. The method yields two independent normals; the second
/// (`v · …`) is deliberately discarded, so a sample never depends on a cached value and the generator
/// position alone determines the result. Expected draws per sample: 2 · 4/π ≈ 2.55.
/// The result `mean + stddev · z` is rounded once to `Fixed` (ties away from zero), saturating.
public struct Normal: SamplingDistribution, Hashable {
    public let mean: Fixed
    public let stddev: Fixed

    /// Throws unless `stddev >= 0`.
    public init(mean: Fixed = 0, stddev: Fixed = 1) throws(ParameterError) {
        guard stddev >= 0 else {
            throw ParameterError("Normal: stddev must be >= 0, got \(stddev)")
        }
        self.mean = mean
        self.stddev = stddev
    }

    public func sample(using generator: inout PRNG) -> Fixed {
        let z = Normal.standardSampleQ48(using: &generator)
        let scaled = Fixed.roundedShift(Int128(stddev.raw) * Int128(z), 48)  // |·| < 2^63 · 2^52
        return Fixed(raw: Fixed.saturate(Int128(mean.raw) + scaled))
    }

    /// One standard normal value by the polar method (second value discarded), rounded to `Fixed`.
    public static func standardSample(using generator: inout PRNG) -> Fixed {
        Fixed(raw: Int64(Fixed.roundedShift(Int128(standardSampleQ48(using: &generator)), 16)))
    }

    /// One standard normal value in Q48 (|z| < 9.5 · 2^48), as described on `Normal`.
    static func standardSampleQ48(using generator: inout PRNG) -> Int64 {
        let one: Int64 = 1 << 32
        while true {
            let u = Int64(generator.next() >> 31) - one  // Q32 in [−1, 1)
            let v = Int64(generator.next() >> 31) - one
            let uu = UInt128(u.magnitude) * UInt128(u.magnitude)
            let s = uu + UInt128(v.magnitude) * UInt128(v.magnitude)  // exact, Q64
            guard s > 0, s < UInt128(1) << 64 else { continue }
            let s64 = UInt64(s)
            let uu64 = UInt64(uu)  // uu <= s < 2^64
            let w = -FixedMath.logQ64(s64, fractionBits: 64) * 2  // −2 ln s in Q64, in (0, 88.8·2^64]
            let w56 = UInt64(UInt128(Swift.max(0, w)) >> 8)  // Q56, < 2^63
            // u²/s in Q63 (<= 2^63): the high word uu/2 is below s, so the quotient fits.
            let ratio = s64.dividingFullWidth((high: uu64 >> 1, low: uu64 << 63)).quotient
            let zSquared = (UInt128(w56) * UInt128(ratio)) >> 63  // Q56, < 2^63
            let z = Int64(FixedMath.squareRoot(zSquared << 40))  // Q48
            return u < 0 ? -z : z
        }
    }
}

/// Log-normal distribution: `exp(N(mu, sigma))`.
///
/// Algorithm: `exp(mu + sigma · z)` with z from the polar method (`Normal`); the exponent is formed
/// in Q64 and exponentiated by `FixedMath` before a single rounding to `Fixed`. Results beyond
/// `Fixed.max` (exponent above ~21.49) saturate to `Fixed.max`; tiny results round to 0.
public struct LogNormal: SamplingDistribution, Hashable {
    public let mu: Fixed
    public let sigma: Fixed

    /// Throws unless `sigma >= 0`.
    public init(mu: Fixed, sigma: Fixed) throws(ParameterError) {
        guard sigma >= 0 else {
            throw ParameterError("LogNormal: sigma must be >= 0, got \(sigma)")
        }
        self.mu = mu
        self.sigma = sigma
    }

    public func sample(using generator: inout PRNG) -> Fixed {
        let z = Normal.standardSampleQ48(using: &generator)
        let exponent = (Int128(mu.raw) << 32) + Fixed.roundedShift(Int128(sigma.raw) * Int128(z), 16)  // Q64
        if exponent > Int128(22) << 64 { return .max }
        if exponent < Int128(-23) << 64 { return .zero }
        let (mantissa, power) = FixedMath.expParts(exponent)
        return Fixed(raw: FixedMath.scaleQ62(Int128(mantissa), exponent: power, fractionBits: 32))
    }
}

/// Pareto (type I) distribution with scale `xm` (the minimum) and shape `alpha`: P(X > x) = (xm/x)^alpha.
///
/// Algorithm: inverse CDF, `xm · u^(−1/alpha)` computed as `xm · exp(−ln(u)/alpha)` with u in (0, 1]
/// taken from all 64 bits of one draw; −ln(u)/alpha and the exponential stay in Q64/Q62 and the product
/// with xm is rounded once. Results are >= xm (clamped, so rounding can never go below) and saturate
/// at `Fixed.max`.
public struct Pareto: SamplingDistribution, Hashable {
    public let scale: Fixed
    public let shape: Fixed

    /// Throws unless `scale > 0` and `shape > 0`.
    public init(scale: Fixed, shape: Fixed) throws(ParameterError) {
        guard scale > 0 else { throw ParameterError("Pareto: scale (xm) must be > 0, got \(scale)") }
        guard shape > 0 else { throw ParameterError("Pareto: shape (alpha) must be > 0, got \(shape)") }
        self.scale = scale
        self.shape = shape
    }

    public func sample(using generator: inout PRNG) -> Fixed {
        let negativeLog = generator.nextNegativeLogOfOpenClosedUnit()  // Q64, < 2^70
        let exponent = (negativeLog << 32) / UInt128(shape.raw)  // Q64
        // e^64 > 2^92 already saturates any scale >= 2^−32.
        if exponent >= UInt128(64) << 64 { return .max }
        let (mantissa, power) = FixedMath.expParts(Int128(exponent))
        let raw = FixedMath.scaleQ62(Int128(scale.raw) * Int128(mantissa), exponent: power, fractionBits: 0)
        return Fixed(raw: Swift.max(raw, scale.raw))
    }
}

/// Exponential distribution with the given rate (mean 1/rate), e.g. Poisson-process arrival gaps.
///
/// Algorithm: inverse CDF, `−ln(u)/rate` with u in (0, 1] from all 64 bits of one draw (−ln u in Q64,
/// at most 44.4), divided by the rate and rounded once; the result is >= 0 and saturates at `Fixed.max`.
public struct Exponential: SamplingDistribution, Hashable {
    public let rate: Fixed

    /// Throws unless `rate > 0`.
    public init(rate: Fixed) throws(ParameterError) {
        guard rate > 0 else { throw ParameterError("Exponential: rate must be > 0, got \(rate)") }
        self.rate = rate
    }

    public func sample(using generator: inout PRNG) -> Fixed {
        // Q64 / Q32 = Q32: raw = round(negativeLog / rate.raw).
        let negativeLog = generator.nextNegativeLogOfOpenClosedUnit()
        let divisor = UInt128(rate.raw)
        let quotient = (negativeLog + divisor / 2) / divisor
        return Fixed(raw: quotient > UInt128(Int64.max) ? Int64.max : Int64(quotient))
    }
}

/// Poisson distribution: the number of events in a unit interval at mean rate `lambda`.
///
/// Algorithms, chosen by `lambda` alone:
/// - `lambda <= 256`: Knuth's multiplication method, exact — multiply 64-bit uniforms u in [0, 1)
///   (one draw each) until the product falls to `exp(−lambda)` or below; the number of factors minus
///   one is the sample (lambda + 1 draws expected). The running product is kept as a normalized
///   64-bit mantissa with a separate binary exponent (truncated after each step, relative error
///   < 2^−63 per factor), so products far below 2^−64 (e^−256 ≈ 2^−369) compare correctly.
/// - `lambda > 256`: normal approximation with continuity correction,
///   k = max(0, ⌊lambda + √lambda · z + 1/2⌋) with z from the polar method (`Normal`), computed in
///   Q96 from a Q48 √lambda. Deterministic and O(1), but approximate: mean and variance match to
///   within the rounding (variance lambda + 1/12), while the skewness is 0 instead of 1/√lambda
///   (< 0.0625 here), so tail frequencies deviate by that order. Used because it is simple to make
///   exact in integer arithmetic; a rejection method (e.g. PTRS) would be exact if ever needed.
/// `lambda` is capped at 1e9.
public struct Poisson: SamplingDistribution, Hashable {
    public let lambda: Fixed
    /// The largest accepted `lambda` (1e9).
    public static let maximumLambda = Fixed(integer: 1_000_000_000)
    /// Rates at or below this use Knuth's exact method.
    public static let knuthThreshold = Fixed(integer: 256)

    // exp(−lambda) = thresholdMantissa · 2^(−63 − thresholdExponent), mantissa with its top bit set.
    private let thresholdMantissa: UInt64
    private let thresholdExponent: Int
    // √lambda in Q48.
    private let sqrtLambdaQ48: Int64

    /// Throws unless `0 <= lambda <= 1e9`.
    public init(lambda: Fixed) throws(ParameterError) {
        guard lambda >= 0, lambda <= Poisson.maximumLambda else {
            throw ParameterError("Poisson: lambda must be in 0...\(Poisson.maximumLambda), got \(lambda)")
        }
        self.lambda = lambda
        let (mantissa, power) = FixedMath.expParts(-(Int128(lambda.raw) << 32))
        let m = UInt64(mantissa)
        let shift = m.leadingZeroBitCount
        thresholdMantissa = m << UInt64(shift)
        thresholdExponent = -power + shift - 1
        sqrtLambdaQ48 = Int64(FixedMath.squareRoot(UInt128(lambda.raw) << 64))
    }

    public func sample(using generator: inout PRNG) -> Int {
        if lambda <= Poisson.knuthThreshold {
            var count = 0
            var mantissa: UInt64 = 1 << 63  // product = mantissa · 2^(−63 − exponent); starts at 1
            var exponent = 0
            while true {
                let product = UInt128(mantissa) * UInt128(generator.next())
                if product == 0 { return count }
                let shift = product.leadingZeroBitCount
                mantissa = UInt64(truncatingIfNeeded: (product << shift) >> 64)
                exponent += shift
                if exponent > thresholdExponent || (exponent == thresholdExponent && mantissa <= thresholdMantissa) {
                    return count
                }
                count += 1
            }
        }
        let z = Normal.standardSampleQ48(using: &generator)
        let value = (Int128(lambda.raw) << 64) + Int128(sqrtLambdaQ48) * Int128(z) + (Int128(1) << 95)  // Q96
        return Int(Swift.max(0, value >> 96))
    }
}

/// Zipf distribution over ranks 1...n with exponent s: P(rank = r) ∝ r^(−s).
///
/// Algorithm: integer weights W_r = round(r^(−s) · 2^S) with S = 64 − bitWidth(n), so the n weights
/// sum below 2^64; r^(−s) = exp(−s · ln r) is evaluated by `FixedMath` in Q64/Q62. Their cumulative
/// sums (exact `UInt64` additions, in rank order) are built once at init; a sample draws
/// `nextInt(below: total)` (Lemire, unbiased) and finds the first rank whose cumulative weight
/// exceeds it (a guide table by the draw's top bits, then a short walk), so given the table the
/// sampling is exact integer arithmetic. Ranks whose weight
/// rounds to 0 (r^(−s) < 2^−(S+1)) are never drawn. O(n) memory and setup, O(log n) per sample.
/// Copies share the table (copy-on-write array), so build it once and pass it around.
public struct Zipf: SamplingDistribution, Hashable {
    public let n: Int
    public let s: Fixed
    /// The largest accepted `n` (an 80 MB table).
    public static let maximumN = 10_000_000
    let cumulative: [UInt64]
    /// Where the search for a draw starts, by the draw's top bits; empty for small tables.
    ///
    /// A binary search over a million-entry table misses the cache at nearly every
    /// step. Entry `b` is the first rank whose cumulative weight exceeds `b << guideShift`,
    /// so a draw `r` with `r >> guideShift == b` lies between entries `b` and `b + 1`: the
    /// search narrows to that span, usually a cache line or two, and finds the same rank.
    private let guide: [Int32]
    private let guideShift: Int
    /// Below this many ranks a plain binary search takes a handful of steps: no guide needed.
    ///
    /// Above it the guide pays even when the table fits in the cache: each step of a binary
    /// search is a branch the CPU cannot predict, and the guide leaves one or two of them.
    static let guideThreshold = 64

    /// Throws unless `1 <= n <= 10_000_000` and `s > 0`.
    public init(n: Int, s: Fixed) throws(ParameterError) {
        guard n >= 1, n <= Zipf.maximumN else {
            throw ParameterError("Zipf: n must be in 1...\(Zipf.maximumN), got \(n)")
        }
        guard s > 0 else { throw ParameterError("Zipf: s must be > 0, got \(s)") }
        self.n = n
        self.s = s
        let scaleBits = 64 - (Int.bitWidth - n.leadingZeroBitCount)
        // Beyond s = 128 every weight but rank 1's is 0 anyway; capping keeps s · ln r within Int128.
        let exponent = Int128(Swift.min(s.raw, Int64(128) << 32))
        var table = [UInt64]()
        table.reserveCapacity(n)
        var sum: UInt64 = 0
        for rank in 1...n {
            let logRank = FixedMath.logQ64(UInt64(rank), fractionBits: 0)  // Q64, <= 16.2 · 2^64
            let (mantissa, power) = FixedMath.expParts(-((exponent * logRank) >> 32))
            let weight = FixedMath.scaleQ62(Int128(mantissa), exponent: power, fractionBits: scaleBits)
            sum &+= UInt64(weight)  // each weight <= 2^S, n weights < 2^64 in total
            table.append(sum)
        }
        cumulative = table
        if n >= Zipf.guideThreshold {
            // About one guide entry per 8 ranks: a 1M-rank table gets 512 KB of guide.
            let bits = Swift.max(1, Int.bitWidth - (n / 8).leadingZeroBitCount)
            guideShift = Swift.max(0, (UInt64.bitWidth - sum.leadingZeroBitCount) - bits)
            let buckets = Int(sum >> guideShift) + 1
            var guide = [Int32]()
            guide.reserveCapacity(buckets)
            var rank = 0
            for bucket in 0..<buckets {
                let floor = UInt64(bucket) << guideShift
                while rank < n - 1 && table[rank] <= floor { rank += 1 }
                guide.append(Int32(rank))
            }
            self.guide = guide
        } else {
            guide = []
            guideShift = 0
        }
    }

    /// The sum of all weights.
    public var totalWeight: UInt64 { cumulative[n - 1] }

    /// The integer weight of `rank` (0 outside 1...n); P(rank) is exactly weight / totalWeight.
    public func weight(ofRank rank: Int) -> UInt64 {
        guard rank >= 1, rank <= n else { return 0 }
        return cumulative[rank - 1] - (rank == 1 ? 0 : cumulative[rank - 2])
    }

    /// The model probability of `rank` (weight / totalWeight) rounded to `Fixed`; 0 outside 1...n.
    public func probability(ofRank rank: Int) -> Fixed {
        let numerator = Int128(weight(ofRank: rank)) << 32
        return Fixed(raw: Int64(Fixed.roundedQuotient(numerator, Int128(totalWeight))))
    }

    public func sample(using generator: inout PRNG) -> Int {
        rank(drawn: draw(using: &generator))
    }

    /// The draw ``sample(using:)`` makes before finding its rank: `sample` is `rank(drawn: draw(using:))`.
    public func draw(using generator: inout PRNG) -> UInt64 {
        generator.nextInt(below: totalWeight)
    }

    /// Starts loading the cumulative weight ``rank(drawn:)`` will read first for `draw`. A hint only.
    ///
    /// A million-rank table is 8 MB: a caller that draws a few samples ahead (see
    /// ``draw(using:)``) overlaps the cache miss with the work in between.
    public func prefetch(drawn draw: UInt64) {
        guard let (_, _, index) = guess(drawn: draw) else { return }
        cumulative.withUnsafeBufferPointer { table in
            if index < table.count, let base = table.baseAddress { tally_prefetch(base + index) }
        }
    }

    /// The guide's span of rank indices `low...last` holding a draw and the estimated index of
    /// its rank in `cumulative` (`low` itself for a span of one rank); nil without a guide.
    ///
    /// In the tail a bucket spans many ranks of nearly equal weight, so the draw's place in the
    /// bucket is close to its rank's place among them: the estimate or its neighbour is nearly
    /// always the rank, one cache line, where a binary search would touch a new line at nearly
    /// every step.
    @inline(__always)
    private func guess(drawn draw: UInt64) -> (low: Int, last: Int, index: Int)? {
        guard !guide.isEmpty else { return nil }
        let bucket = Int(draw >> guideShift)
        let low = Int(guide[bucket])
        let last = bucket + 1 < guide.count ? Int(guide[bucket + 1]) : n - 1
        if low == last { return (low, last, low) }
        let offset = Int((UInt128(draw - (UInt64(bucket) << guideShift)) * UInt128(last - low)) >> guideShift)
        return (low, last, low + offset)
    }

    /// The rank a draw in `0..<totalWeight` picks: the first whose cumulative weight exceeds it.
    public func rank(drawn draw: UInt64) -> Int {
        guard let (low, last, index) = guess(drawn: draw) else {
            // The draw is below the total, so some entry exceeds it; min() only guards the impossible case.
            return Swift.min(firstIndex(in: cumulative, above: draw), n - 1) + 1
        }
        // A bucket inside one rank's weight (the head of the distribution) needs no table read.
        if low == last { return low + 1 }
        // When the estimate is wrong (ranks of weight 0 at the end), a search of the side the
        // estimate rules out finds the same rank.
        if cumulative[index] > draw {
            if index == low || cumulative[index - 1] <= draw { return index + 1 }
            return firstIndex(in: cumulative, above: draw, from: low, to: index) + 1
        }
        // Some rank up to `last` exceeds the draw, so `index < last`.
        if cumulative[index + 1] > draw { return index + 2 }
        return firstIndex(in: cumulative, above: draw, from: index + 1, to: last) + 1
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
    firstIndex(in: table, above: value, from: 0, to: table.count)
}

/// The same, for a table whose answer is known to lie in `low...high` (or be `high`).
func firstIndex<T: Comparable>(in table: [T], above value: T, from low: Int, to high: Int) -> Int {
    var low = low
    var high = high
    while low < high {
        let mid = low + (high - low) / 2
        if table[mid] > value { high = mid } else { low = mid + 1 }
    }
    return low
}
