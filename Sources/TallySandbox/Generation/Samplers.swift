import TallyPipeline
import TallyRandom

/// Chooses the customer of each generated event.
struct CustomerPicker: Sendable {
    /// How many customers the traffic spreads over; their ids stay in ``StreamNames``.
    let customerCount: Int
    let zipf: Zipf?

    /// - Parameter tables: zipf tables already built, by size and exponent, shared between
    ///   traffics: a million-rank table takes a quarter of a second to build.
    init(traffic: Traffic, tables: inout [ZipfShape: Zipf]) throws(RunError) {
        customerCount = traffic.customers.count
        switch traffic.spread {
        case .even:
            zipf = nil
        case .zipf(let s):
            let shape = ZipfShape(n: customerCount, s: s.fixed)
            if let built = tables[shape] {
                zipf = built
                return
            }
            do { zipf = try Zipf(n: customerCount, s: s.fixed) } catch {
                throw RunError(message: "zipf spread: \(error)")
            }
            tables[shape] = zipf
        }
    }

    /// What a zipf table depends on: its ranks and its exponent.
    struct ZipfShape: Hashable {
        var n: Int
        var s: Fixed
    }

    /// The customer's position in the traffic's list.
    ///
    /// `even` deals events round-robin, so every customer gets the same count (give or
    /// take one): totals a person can work out by hand. `zipf` draws a rank.
    func pick(sequence: Int, using random: inout PRNG) -> Int {
        guard let zipf else { return sequence % customerCount }
        return zipf.sample(using: &random) - 1
    }
}

/// A unit's zipf customer draws, made a few events before they are used.
///
/// With a million customers the zipf table is 8 MB, and finding a tail draw's rank
/// waits for a cache miss. Each draw is made ``depth`` picks early and its table line
/// prefetched; the draws come from the unit's customer stream in the same order
/// and are used in that order, so every pick is the one ``CustomerPicker/pick(sequence:using:)``
/// makes. Drawing ahead consumes up to ``depth`` values more of that stream, which
/// nothing else reads.
struct DrawsAhead {
    /// Tables smaller than this (512 KB of weights) stay in a core's cache: no need to draw ahead.
    static let minimumRanks = 1 << 16
    static let depth = 8
    private let zipf: Zipf
    /// The next ``depth`` draws, oldest at `next`.
    private var pending: [UInt64]
    private var next = 0

    /// Nil without a zipf table (an even spread), or with one small enough not to need it.
    init?(_ zipf: Zipf?, using random: inout PRNG) {
        guard let zipf, zipf.n >= DrawsAhead.minimumRanks else { return nil }
        self.zipf = zipf
        pending = []
        pending.reserveCapacity(DrawsAhead.depth)
        for _ in 0..<DrawsAhead.depth {
            let draw = zipf.draw(using: &random)
            zipf.prefetch(drawn: draw)
            pending.append(draw)
        }
    }

    /// The next customer's position in the traffic's list, as ``CustomerPicker/pick(sequence:using:)`` gives it.
    mutating func pick(using random: inout PRNG) -> Int {
        let draw = pending[next]
        let ahead = zipf.draw(using: &random)
        zipf.prefetch(drawn: ahead)
        pending[next] = ahead
        next = (next + 1) % DrawsAhead.depth
        return zipf.rank(drawn: draw) - 1
    }
}

/// Draws quantities and turns them into exact decimals.
struct QuantitySampler: Sendable {
    let distribution: QuantityDistribution
    /// A uniform distribution's bounds in whole steps, worked out once rather than per event.
    private let uniformSteps: ClosedRange<Int64>

    init(distribution: QuantityDistribution) {
        self.distribution = distribution
        if case .uniform(let low, let high, let decimals) = distribution {
            uniformSteps = low.steps(decimals)...Swift.max(low.steps(decimals), high.steps(decimals))
        } else {
            uniformSteps = 0...0
        }
    }

    func sample(using random: inout PRNG) -> ExactDecimal {
        switch distribution {
        case .constant(let value):
            return value
        case .uniform(_, _, let decimals):
            // An integer number of 10^-decimals steps, drawn exactly: no sampling arithmetic at all.
            return ExactDecimal.steps(random.nextInt(in: uniformSteps), decimals)
        case .normal(let mean, let stddev, let decimals):
            return Sampled.decimal(Sampled.normal(mean: mean, stddev: stddev, using: &random), decimals)
        case .logNormal(let mu, let sigma, let decimals):
            return Sampled.decimal(Sampled.logNormal(mu: mu, sigma: sigma, using: &random), decimals)
        case .pareto(let scale, let shape, let decimals):
            return Sampled.decimal(Sampled.pareto(scale: scale, shape: shape, using: &random), decimals)
        }
    }
}

extension ExactDecimal {
    /// This value in whole steps of 10^-decimals (truncated), saturating at Int64's range.
    func steps(_ decimals: Int) -> Int64 {
        guard let scaled = try? rounded(toScale: decimals, .down) else { return isNegative ? .min : .max }
        return Int64(exactly: scaled.significand) ?? (isNegative ? .min : .max)
    }

    static func steps(_ count: Int64, _ decimals: Int) -> ExactDecimal {
        (try? ExactDecimal(significand: Int128(count), scale: decimals)) ?? .zero
    }
}
