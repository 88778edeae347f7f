// Pseudo-random generators whose output is pinned by published reference algorithms.
//
// Both SplitMix64 and xoshiro256** are public-domain algorithms by David Blackman and
// Sebastiano Vigna (https://prng.di.unimi.it). They use only wrapping 64-bit integer
// arithmetic, so their output is identical on every platform, compiler and Swift release.
//
// Deliberately, neither type conforms to `RandomNumberGenerator`: that conformance would
// make the stdlib's `random(in:using:)`, `shuffled(using:)` and `randomElement(using:)`
// available, and the way those consume generator output is an implementation detail of
// the stdlib that may change between releases, which would silently change our goldens.

/// The generator every Tally sampler takes: xoshiro256** seeded through SplitMix64.
public typealias PRNG = Xoshiro256StarStar

/// SplitMix64 (Steele, Lea & Flood; constants by Vigna): a 64-bit state advanced by a Weyl increment.
///
/// Used here only to expand a 64-bit seed into the 256-bit xoshiro state, as Vigna recommends,
/// and to hash `(seed, stream)` pairs. Its output function is a bijection of the state, so
/// distinct states give distinct outputs.
public struct SplitMix64: Sendable, Hashable {
    /// The Weyl-sequence increment, 2^64 / golden ratio rounded to odd.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The current internal state (the value before the next increment).
    public var state: UInt64

    /// Creates a generator whose first output is `mix(seed &+ increment)`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The SplitMix64 output function ("mix64" variant 13 by Stafford, as used by Vigna): a bijection on UInt64.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Advances the state by the increment and returns the mixed state.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna, 2018): a 256-bit xor/shift/rotate generator with period 2^256 − 1.
///
/// Seeding rules (fixed forever, because goldens depend on them):
/// - `init(seed:)`: the four state words are the first four outputs of `SplitMix64(seed: seed)`,
///   exactly as in Vigna's reference recommendation.
/// - `init(seed:stream:)`: see that initializer; it gives each chunk of a job its own generator so
///   chunk k produces the same values whichever thread runs it.
/// - `init(state:)`: the raw state, for test vectors.
///
/// A SplitMix64 seeding can never produce the forbidden all-zero state: four consecutive outputs come
/// from four distinct SplitMix states, and the output function is a bijection, so at most one is zero.
public struct Xoshiro256StarStar: Sendable, Hashable {
    // The four 64-bit state words, in the order s[0]...s[3] of the reference C code. Internal but
    // usable from inlinable code so `next()` can be inlined into callers in other modules.
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// The current state words `(s[0], s[1], s[2], s[3])`, e.g. to checkpoint a generator.
    public var state: (UInt64, UInt64, UInt64, UInt64) { (s0, s1, s2, s3) }

    /// Creates a generator from a raw state; throws if all four words are zero (a fixed point).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) throws(ParameterError) {
        guard state.0 | state.1 | state.2 | state.3 != 0 else {
            throw ParameterError(
                "Xoshiro256StarStar: the all-zero state is invalid (the generator would emit only zeros)")
        }
        (s0, s1, s2, s3) = state
    }

    /// Creates a generator whose state is the first four outputs of SplitMix64 seeded with `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// Creates the generator for substream `stream` of `seed`, so chunk k of a job can run on any thread.
    ///
    /// Fixed rule: `key = SplitMix64.mix(seed) ^ SplitMix64.mix(stream ^ 0xD1B54A32D192ED03)`,
    /// then the state is the first four outputs of `SplitMix64(seed: key)`.
    ///
    /// Why this shape: `mix` is a bijection, so for a fixed seed distinct streams get distinct keys and
    /// therefore distinct states (and likewise distinct seeds for a fixed stream); the constant keeps
    /// `stream == seed` from cancelling to a shared key. Sequences of different streams are not proven
    /// disjoint (use `jump()` for that), but with period 2^256 − 1 an overlap within any realistic
    /// run length is astronomically unlikely. `init(seed: s, stream: 0)` differs from `init(seed: s)`.
    public init(seed: UInt64, stream: UInt64) {
        let key = SplitMix64.mix(seed) ^ SplitMix64.mix(stream ^ 0xD1B5_4A32_D192_ED03)
        self.init(seed: key)
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    /// Returns the next 64 uniformly distributed bits and advances the state.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Advances the state as if by 2^128 calls to `next()` (the reference jump polynomial).
    ///
    /// Gives 2^128 provably non-overlapping subsequences of length 2^128 each.
    public mutating func jump() {
        applyJump([0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C])
    }

    /// Advances the state as if by 2^192 calls to `next()` (the reference long-jump polynomial).
    public mutating func longJump() {
        applyJump([0x76E1_5D3E_FEFD_CBBF, 0xC500_4E44_1C52_2FB3, 0x7771_0069_854E_E241, 0x3910_9BB0_2ACB_E635])
    }

    private mutating func applyJump(_ polynomial: [UInt64]) {
        var j0: UInt64 = 0
        var j1: UInt64 = 0
        var j2: UInt64 = 0
        var j3: UInt64 = 0
        for word in polynomial {
            for bit in 0..<64 {
                if word & (1 << UInt64(bit)) != 0 {
                    j0 ^= s0
                    j1 ^= s1
                    j2 ^= s2
                    j3 ^= s3
                }
                _ = next()
            }
        }
        (s0, s1, s2, s3) = (j0, j1, j2, j3)
    }

    // MARK: - Derived uniform values

    /// Returns a uniform integer in `0..<n` using Lemire's nearly-divisionless method; `n == 0` means `0..<2^64`.
    ///
    /// Lemire (2019), "Fast Random Integer Generation in an Interval": take the high 64 bits of the
    /// 128-bit product `x * n`; the low half tells whether `x` landed in the biased region, and only
    /// then is the threshold `2^64 mod n` computed (one division) and `x` redrawn until unbiased.
    /// The result is exactly uniform, and the number of draws consumed depends only on the stream.
    ///
    /// `n == 0` is read as 2^64 (the full range, one draw) rather than trapping, which is also what
    /// makes `nextInt(in: Int64.min...Int64.max)` work with wrapping width arithmetic.
    @inlinable
    public mutating func nextInt(below n: UInt64) -> UInt64 {
        if n == 0 { return next() }
        var product = next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n  // 2^64 mod n
            while product.low < threshold {
                product = next().multipliedFullWidth(by: n)
            }
        }
        return product.high
    }

    /// Returns a uniform integer in the closed range, via `nextInt(below:)` on its wrapping width.
    @inlinable
    public mutating func nextInt(in range: ClosedRange<Int64>) -> Int64 {
        let lower = UInt64(bitPattern: range.lowerBound)
        // Width - 1 never overflows; the +1 wraps to 0 only for the full Int64 range (read as 2^64).
        let width = (UInt64(bitPattern: range.upperBound) &- lower) &+ 1
        return Int64(bitPattern: lower &+ nextInt(below: width))
    }

    /// Returns a uniform `Fixed` in [0, 1): the top 32 bits of `next()` as the fraction (one draw).
    ///
    /// Every one of the 2^32 representable values in [0, 1) is equally likely.
    @inlinable
    public mutating func nextUnitFixed() -> Fixed {
        Fixed(raw: Int64(next() >> 32))
    }

    /// Returns a uniform `Fixed` in (0, 1]: the top 32 bits of `next()` plus one raw unit (one draw).
    ///
    /// Never zero, so it is safe for `FixedMath.log`.
    @inlinable
    public mutating func nextOpenClosedUnitFixed() -> Fixed {
        Fixed(raw: Int64(next() >> 32) + 1)
    }

    /// |ln u| in Q64 (`UInt128`) for u = (next() + 1)/2^64 in (0, 1], the full 64 bits of one draw.
    ///
    /// The samplers use this rather than a 32-bit `Fixed` uniform so the tail of −ln u reaches
    /// 64·ln 2 ≈ 44.4 and the order-statistics recursion in `ArrivalTimes` keeps 64-bit resolution.
    mutating func nextNegativeLogOfOpenClosedUnit() -> UInt128 {
        let draw = next()
        return Self.negativeLog(draw: draw, log: FixedMath.logQ64(Self.logArgument(draw), fractionBits: 64))
    }

    /// ``nextNegativeLogOfOpenClosedUnit()`` of four draws in turn, their logarithms worked out side by side.
    mutating func nextNegativeLogsOfOpenClosedUnit() -> InlineArray<4, UInt128> {
        var draws = InlineArray<4, UInt64>(repeating: 0)
        for lane in draws.indices { draws[lane] = next() }
        var arguments = InlineArray<4, UInt64>(repeating: 0)
        for lane in draws.indices { arguments[lane] = Self.logArgument(draws[lane]) }
        let logs = FixedMath.logQ64(lanes: arguments, fractionBits: 64)
        var negativeLogs = InlineArray<4, UInt128>(repeating: 0)
        for lane in logs.indices { negativeLogs[lane] = Self.negativeLog(draw: draws[lane], log: logs[lane]) }
        return negativeLogs
    }

    /// u = (draw + 1)/2^64 as the logarithm's Q64 argument; the largest draw, u == 1, whose
    /// draw + 1 does not fit, goes in as 1 (2^−64) and is answered by ``negativeLog(draw:log:)``.
    @inline(__always)
    private static func logArgument(_ draw: UInt64) -> UInt64 { draw == .max ? 1 : draw + 1 }

    /// |ln u| from the logarithm of ``logArgument(_:)``: 0 for u == 1.
    @inline(__always)
    private static func negativeLog(draw: UInt64, log: Int128) -> UInt128 {
        draw == .max || log >= 0 ? 0 : UInt128(-log)
    }
}
