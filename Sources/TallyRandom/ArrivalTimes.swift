/// How arrival instants are spread over the interval.
public enum ArrivalShape: Sendable, Hashable {
    /// Evenly spread: the interval is cut into `count` equal slots (integer boundaries
    /// `start + ⌊i·L/count⌋`) and one instant is drawn uniformly inside each slot (stratified /
    /// jittered sampling). Models regular traffic such as metered heartbeats; gaps vary far less than
    /// Poisson gaps. Sorted by construction; one bounded-integer draw per instant.
    case uniform

    /// A homogeneous Poisson process conditioned on exactly `count` events: the instants are the order
    /// statistics of `count` independent uniforms, i.e. exponential gaps rescaled to fill the interval.
    /// Generated in ascending order without knowing the sum of gaps in advance (see `ArrivalTimes`).
    case poisson

    /// A day-shaped intensity λ(t) = 1 + amplitude · sin(2π(h(t) − peakHourUTC + 6)/24), where h(t) is
    /// the UTC hour of day (with fraction) of instant t (Unix epoch milliseconds): the peak is at the
    /// whole hour `peakHourUTC` and the trough twelve hours away. The defaults (peak 15:00 UTC,
    /// amplitude 0.8) give a mid-afternoon peak with 9× the 03:00 UTC trough rate. The sine is computed
    /// in fixed point from the exact fraction of the day (`FixedMath.sin(turns:)` kernels).
    case diurnal(peakHourUTC: Int = 15, amplitude: Fixed = Fixed(significand: 8, decimalScale: 1))

    /// Bursty traffic: a share `burstShare` of the events falls inside `windows` short windows, each
    /// `windowFraction` of the interval long and placed uniformly at random inside its own equal
    /// sector of the interval (so windows never overlap); the rest is spread uniformly over the whole
    /// interval. Window positions are the first draws of the generator.
    case burst(
        windows: Int = 3,
        burstShare: Fixed = Fixed(significand: 9, decimalScale: 1),
        windowFraction: Fixed = Fixed(significand: 1, decimalScale: 2))
}

/// A deterministic, streaming sequence of `count` arrival instants in [start, end), in non-decreasing order.
///
/// Instants are integer milliseconds (`Int64`, normally Unix epoch milliseconds; the diurnal shape
/// reads them as UTC). Memory is O(1) in `count` (O(windows) for `burst`), so 100 million instants
/// stream without being held. The value is immutable: every iteration of the same `ArrivalTimes`
/// replays the same instants, because each iterator starts from a copy of the stored generator.
///
/// Method for `poisson`, `diurnal` and `burst`: ascending uniform order statistics u₍₁₎ ≤ … ≤ u₍ₙ₎
/// are generated sequentially — given that i values are placed and r = 1 − u₍ᵢ₎ remains, the next is
/// the minimum of the n − i remaining uniforms on [u₍ᵢ₎, 1), i.e. r ← r · v^(1/(n−i)) with v uniform
/// in (0, 1] (all 64 bits of one draw) — which is distributionally identical to normalized exponential
/// spacings but needs neither the total of the gaps nor storage. In integer arithmetic:
/// r is a Q64 value in a `UInt128` (1 = 2^64), and the step is r ← r − r·h with
/// h = 1 − exp(ln(v)/(n−i)) computed by `FixedMath` in Q64 (a short series when the exponent is tiny,
/// as it is for large n), so r loses no precision when it is close to 1 and keeps relative precision
/// ~2^−64/r when small; for n = 1e8 the accumulated rounding is ~1e−11 of the interval.
/// Each uᵢ = 1 − r is mapped through the inverse of the shape's cumulative intensity M(t)/M(end),
/// with masses in Q32 milliseconds (`UInt128`): M is known exactly at segment boundaries (closed form
/// for diurnal, exact integer sums for burst) and interpolated linearly inside a segment. Every step of
/// that map is monotone in r (integer products and floor quotients), the result is clamped into its
/// segment, and finally into [previous instant, end), so the output is non-decreasing and inside
/// [start, end) by construction, not by sorting.
///
/// Why not thinning for `diurnal`: rejection/thinning produces a random count and cannot stream in
/// order; the inverse-CDF map keeps the exact count and order. Diurnal segments are 60 s long, within
/// which the intensity (period 24 h) is treated as constant — a relative deviation under 0.2%.
///
/// For parallel generation, split the job into sub-intervals with fixed counts and give each its own
/// `PRNG(seed: seed, stream: chunkIndex)`.
public struct ArrivalTimes: Sequence, Sendable {
    public let start: Int64
    public let end: Int64
    public let count: Int
    public let shape: ArrivalShape
    private let generator: PRNG

    /// Diurnal segment length: one minute.
    public static let diurnalSegmentMilliseconds: Int64 = 60_000

    /// Throws if `start >= end`, `count < 0`, or shape parameters are invalid.
    ///
    /// Shape parameter ranges: diurnal `peakHourUTC` in 0...23 and `amplitude` in [0, 1) (so the
    /// intensity stays positive); burst `windows` in 1...1000, `burstShare` in [0, 1), `windowFraction`
    /// in (0, 1]. The generator is copied; the caller's generator is not advanced.
    public init(start: Int64, end: Int64, count: Int, shape: ArrivalShape, generator: PRNG) throws(ParameterError) {
        // Any start < end works, even [Int64.min, Int64.max): lengths are computed as UInt64.
        guard start < end else {
            throw ParameterError("ArrivalTimes: need start < end, got [\(start), \(end))")
        }
        guard count >= 0 else { throw ParameterError("ArrivalTimes: count must be >= 0, got \(count)") }
        switch shape {
        case .uniform, .poisson:
            break
        case let .diurnal(peakHourUTC, amplitude):
            guard peakHourUTC >= 0, peakHourUTC < 24 else {
                throw ParameterError("ArrivalTimes.diurnal: peakHourUTC must be in 0...23, got \(peakHourUTC)")
            }
            guard amplitude >= 0, amplitude < 1 else {
                throw ParameterError("ArrivalTimes.diurnal: amplitude must be in [0, 1), got \(amplitude)")
            }
        case let .burst(windows, burstShare, windowFraction):
            guard windows >= 1, windows <= 1000 else {
                throw ParameterError("ArrivalTimes.burst: windows must be in 1...1000, got \(windows)")
            }
            // burstShare < 1 keeps a positive background so every segment has positive mass.
            guard burstShare >= 0, burstShare < 1 else {
                throw ParameterError("ArrivalTimes.burst: burstShare must be in [0, 1), got \(burstShare)")
            }
            guard windowFraction > 0, windowFraction <= 1 else {
                throw ParameterError("ArrivalTimes.burst: windowFraction must be in (0, 1], got \(windowFraction)")
            }
        }
        self.start = start
        self.end = end
        self.count = count
        self.shape = shape
        self.generator = generator
    }

    public var underestimatedCount: Int { count }

    public func makeIterator() -> Iterator {
        Iterator(start: start, end: end, count: count, shape: shape, generator: generator)
    }

    /// The relative diurnal intensity λ(t) = 1 + amplitude · sin(2π(h − peakHourUTC + 6)/24) at instant `t`.
    ///
    /// Rounded once to `Fixed`. Hours outside 0...23 are read modulo 24.
    public static func diurnalIntensity(
        at t: Int64, peakHourUTC: Int = 15, amplitude: Fixed = Fixed(significand: 8, decimalScale: 1)
    ) -> Fixed {
        let sine = FixedMath.sinCosQ62(turnsQ64: diurnalTurns(at: t, peakHourUTC: peakHourUTC)).sin
        let product = Fixed.roundedShift(Int128(amplitude.raw) * Int128(sine), 62)
        return Fixed(raw: Fixed.saturate((Int128(1) << 32) + product))
    }

    static let dayMilliseconds: Int64 = 86_400_000

    /// (h − peak + 6)/24 modulo 1 as a Q64 fraction of a turn, computed exactly from the millisecond
    /// of the day (floor of ms · 2^64 / day), so it is the same for any epoch.
    static func diurnalTurns(at t: Int64, peakHourUTC: Int) -> UInt64 {
        let shift = Int64(((peakHourUTC - 6) % 24 + 24) % 24) * 3_600_000
        let millisecondOfDay = ((t % dayMilliseconds) + dayMilliseconds) % dayMilliseconds
        let phase = ((millisecondOfDay - shift) % dayMilliseconds + dayMilliseconds) % dayMilliseconds
        return UInt64(dayMilliseconds).dividingFullWidth((high: UInt64(phase), low: 0)).quotient
    }

    /// Streams the instants; see `ArrivalTimes` for the method.
    public struct Iterator: IteratorProtocol, Sendable {
        /// How [start, end) is cut into segments of constant density, with M known at each boundary.
        private enum Layout: Sendable {
            /// One segment: `uniform` (unused) and `poisson`.
            case single
            /// Segment j = [start + j·60 000, …) with M from the closed form; `cosStart` = cos θ(start) in Q62,
            /// `coefficient` = amplitude · day/(2π) in Q32 milliseconds.
            case diurnal(peak: Int, coefficient: Int128, cosStart: Int64)
            /// boundaries[0] = start … boundaries[last] = end, masses[i] = M(boundaries[i]).
            case burst(boundaries: [Int64], masses: [UInt128])
        }

        private var generator: PRNG
        private let start: Int64
        private let end: Int64
        private let length: UInt64
        private let count: Int
        private var emitted = 0
        private let isStratified: Bool
        private var layout: Layout = .single
        private var segmentCount = 1
        /// Masses are Q32 milliseconds (weighted by the relative intensity), up to ~2^97.
        private var totalMass: UInt128 = 0

        // Order-statistics state: remaining = 1 − u of the last instant, Q64 (2^64 is 1).
        private var remaining: UInt128 = 1 << 64
        private var previous: Int64

        /// The next instants' steps h = 1 − v^(1/left), worked out a batch at a time.
        ///
        /// Each h takes a logarithm and an exponential, chains of dependent
        /// multiplications and divisions; worked out one per instant, the CPU mostly
        /// waits on the chain. But an h depends only on its own draw and on how many
        /// instants are left, not on the instants before it, so `fillSteps` works out
        /// a batch of them, four at a time side by side. The draws come from this
        /// iterator's own generator in the same order as one at a time, so the
        /// instants are the same, bit for bit.
        private var steps = InlineArray<32, UInt64>(repeating: 0)
        private var stepCount = 0
        private var nextStep = 0

        // Current segment index and its cached bounds and cumulative masses.
        private var segmentIndex = 0
        private var segmentStart: Int64
        private var segmentEnd: Int64
        private var massAtSegmentStart: UInt128 = 0
        private var massAtSegmentEnd: UInt128 = 0
        /// The segment's mass shifted right by `segmentMassShift` bits to fit 64, the divisor of every instant in it.
        private var segmentMass: UInt64 = 0
        private var segmentMassShift = 0

        init(start: Int64, end: Int64, count: Int, shape: ArrivalShape, generator: PRNG) {
            self.generator = generator
            self.start = start
            self.end = end
            self.length = UInt64(bitPattern: end &- start)
            self.count = count
            previous = start
            segmentStart = start
            segmentEnd = end
            switch shape {
            case .uniform:
                isStratified = true
            case .poisson:
                isStratified = false
                totalMass = UInt128(length) << 32
            case let .diurnal(peak, amplitude):
                isStratified = false
                let step = UInt64(ArrivalTimes.diurnalSegmentMilliseconds)
                segmentCount = Int(length / step + (length % step == 0 ? 0 : 1))
                // amplitude · day / (2π) in Q32: raw · day · 2^64 / (2π · 2^64), < 2^56.
                let coefficient =
                    (UInt128(amplitude.raw) * UInt128(ArrivalTimes.dayMilliseconds) << 64) / FixedMath.twoPiQ64
                layout = .diurnal(
                    peak: peak,
                    coefficient: Int128(coefficient),
                    cosStart: FixedMath.sinCosQ62(turnsQ64: ArrivalTimes.diurnalTurns(at: start, peakHourUTC: peak)).cos
                )
                totalMass = mass(atBoundary: segmentCount)
            case let .burst(windows, share, fraction):
                isStratified = false
                let (boundaries, masses) = Self.burstLayout(
                    start: start, end: end, length: length, windows: windows, share: share, fraction: fraction,
                    generator: &self.generator)
                layout = .burst(boundaries: boundaries, masses: masses)
                segmentCount = boundaries.count - 1
                totalMass = masses[masses.count - 1]
            }
            if !isStratified { moveToSegment(0) }
        }

        public mutating func next() -> Int64? {
            guard emitted < count else { return nil }
            defer { emitted += 1 }
            if isStratified { return nextStratified() }

            // Next ascending uniform order statistic: min of the (count − emitted) uniforms left on [u, 1):
            // remaining ← remaining · v^(1/left) = remaining − remaining · (1 − exp(ln v / left)).
            if nextStep == stepCount { fillSteps() }
            let h = steps[nextStep]
            nextStep += 1
            let decrease = remaining == 1 << 64 ? UInt128(h) : UInt128(FixedMath.mulHigh(UInt64(remaining), h))
            remaining -= decrease  // decrease <= remaining
            let target = Self.scale(totalMass, by: (1 << 64) - remaining)

            if target >= massAtSegmentEnd && segmentIndex < segmentCount - 1 {
                moveToSegment(firstSegment(endingAbove: target))
            }
            let segmentLength = UInt64(bitPattern: segmentEnd &- segmentStart)
            guard massAtSegmentEnd > massAtSegmentStart, segmentLength > 0 else { return emit(segmentStart) }
            // fraction = (target − M_start)/(M_end − M_start) in Q64; both shifted so the divisor fits 64 bits.
            let numerator = (target > massAtSegmentStart ? target - massAtSegmentStart : 0) >> segmentMassShift
            let fraction: UInt64
            if numerator >= segmentMass {
                fraction = UInt64.max
            } else {
                fraction = FixedMath.divideWide(high: UInt64(numerator), low: 0, by: segmentMass)
            }
            let offset = Swift.min(FixedMath.mulHigh(fraction, segmentLength), segmentLength - 1)
            return emit(Int64(bitPattern: UInt64(bitPattern: segmentStart) &+ offset))
        }

        /// Works out h = 1 − v^(1/left) for the next instants: a batch, or all that are left.
        ///
        /// The last batch of the sequence may draw up to three values more than it has
        /// instants; nothing draws from this generator after the last instant, so no
        /// instant changes.
        private mutating func fillSteps() {
            stepCount = Swift.min(steps.count, count - emitted)
            nextStep = 0
            var step = 0
            while step < stepCount {
                let negativeLogs = generator.nextNegativeLogsOfOpenClosedUnit()  // Q64, < 2^70
                var exponents = InlineArray<4, UInt128>(repeating: 0)
                for lane in exponents.indices {
                    // A lane past the last instant has no instants left and is dropped: any divisor will do.
                    let left = UInt64(Swift.max(1, count - emitted - step - lane))
                    exponents[lane] = Self.divide(negativeLogs[lane], by: left)
                }
                let lanes = FixedMath.oneMinusExpNegQ64(lanes: exponents)
                for lane in 0..<Swift.min(lanes.count, stepCount - step) { steps[step + lane] = lanes[lane] }
                step += lanes.count
            }
        }

        /// Records and returns the instant, clamped to be >= the previous one (already true by construction).
        private mutating func emit(_ t: Int64) -> Int64 {
            let value = Swift.max(t, previous)
            previous = value
            return value
        }

        /// numerator / divisor for a `UInt128` numerator and a nonzero `UInt64` divisor (two 128/64 steps).
        private static func divide(_ numerator: UInt128, by divisor: UInt64) -> UInt128 {
            let high = UInt64(truncatingIfNeeded: numerator >> 64)
            let low = UInt64(truncatingIfNeeded: numerator)
            // The high word is below 2^6 and the divisor usually far above it: skip that division then.
            let (q1, r1) = high < divisor ? (0, high) : high.quotientAndRemainder(dividingBy: divisor)
            let q0 = FixedMath.divideWide(high: r1, low: low, by: divisor)
            return UInt128(q1) << 64 | UInt128(q0)
        }

        /// ⌊mass · fraction / 2^64⌋ for fraction in [0, 2^64] (monotone in fraction).
        private static func scale(_ mass: UInt128, by fraction: UInt128) -> UInt128 {
            if fraction >= 1 << 64 { return mass }
            let c = UInt64(fraction)
            let high = mass >> 64  // < 2^34
            return high * UInt128(c) + UInt128(FixedMath.mulHigh(UInt64(truncatingIfNeeded: mass), c))
        }

        /// Slot i is [start + ⌊i·L/n⌋, start + ⌊(i+1)·L/n⌋); draw uniformly inside (slot start if empty).
        private mutating func nextStratified() -> Int64 {
            let n = UInt64(count)
            let i = UInt64(emitted)
            // i·L/n < L because i < n, so the 128-by-64 division cannot overflow.
            let below = i.multipliedFullWidth(by: length)
            let above = (i + 1).multipliedFullWidth(by: length)
            let slotStart = FixedMath.divideWide(high: below.high, low: below.low, by: n)
            let slotEnd = i + 1 == n ? length : FixedMath.divideWide(high: above.high, low: above.low, by: n)
            let width = slotEnd - slotStart
            let offset = width == 0 ? slotStart : slotStart + generator.nextInt(below: width)
            return Int64(bitPattern: UInt64(bitPattern: start) &+ offset)
        }

        /// The smallest segment after the current one whose end mass exceeds `target` (the last if none).
        ///
        /// Galloping then binary search: O(1) when instants are dense (the usual case: the next
        /// segment), O(log distance) when they are sparse over a long interval, so a year-long or
        /// even 2^64 ms interval never walks segment by segment.
        private func firstSegment(endingAbove target: UInt128) -> Int {
            var low = segmentIndex + 1  // every segment before `low` ends at or below target
            var high = segmentCount - 1  // the last segment is always acceptable
            var step = 1
            while low < high {
                let probe = Swift.min(low + step - 1, high)
                if mass(atBoundary: probe + 1) > target {
                    high = probe
                    break
                }
                low = probe + 1
                step = step < 1 << 40 ? step * 2 : step
            }
            while low < high {
                let mid = low + (high - low) / 2
                if mass(atBoundary: mid + 1) > target { high = mid } else { low = mid + 1 }
            }
            return low
        }

        private mutating func moveToSegment(_ index: Int) {
            segmentIndex = index
            segmentStart = boundary(index)
            segmentEnd = boundary(index + 1)
            massAtSegmentStart = mass(atBoundary: index)
            massAtSegmentEnd = mass(atBoundary: index + 1)
            let mass = massAtSegmentEnd - massAtSegmentStart
            segmentMassShift = Swift.max(0, 64 - mass.leadingZeroBitCount)
            segmentMass = UInt64(mass >> segmentMassShift)
        }

        /// Instant of boundary j (0 = start, segmentCount = end).
        private func boundary(_ j: Int) -> Int64 {
            if j >= segmentCount { return end }
            switch layout {
            case .single:
                return start
            case .diurnal:
                return Int64(
                    bitPattern: UInt64(bitPattern: start) &+ UInt64(j)
                        &* UInt64(ArrivalTimes.diurnalSegmentMilliseconds))
            case let .burst(boundaries, _):
                return boundaries[j]
            }
        }

        /// Cumulative mass M at boundary j, in Q32 milliseconds.
        ///
        /// Diurnal: M(t) = ∫_start^t λ = (t − start) − amplitude·D/(2π)·(cos θ(t) − cos θ(start)), with
        /// D one day in ms; computed directly from t, not accumulated, so no rounding drift builds up.
        /// Between boundaries 60 000 ms apart M grows by at least 60 000·(1 − amplitude) > 60 000·2^−32 ms
        /// (about 6·10^4 raw units), far above the ~1 raw unit of rounding, so M is increasing.
        private func mass(atBoundary j: Int) -> UInt128 {
            switch layout {
            case .single:
                return j == 0 ? 0 : totalMass
            case let .diurnal(peak, coefficient, cosStart):
                if j == 0 { return 0 }
                let t = boundary(j)
                let cosT = FixedMath.sinCosQ62(turnsQ64: ArrivalTimes.diurnalTurns(at: t, peakHourUTC: peak)).cos
                let elapsed = Int128(UInt64(bitPattern: t &- start)) << 32
                let value = elapsed - ((coefficient * (Int128(cosT) - Int128(cosStart))) >> 62)
                return value > 0 ? UInt128(value) : 0
            case let .burst(_, masses):
                return masses[j]
            }
        }

        /// Places one window per equal sector and returns boundaries with cumulative masses (Q32 ms).
        private static func burstLayout(
            start: Int64, end: Int64, length: UInt64, windows: Int, share: Fixed, fraction: Fixed,
            generator: inout PRNG
        ) -> ([Int64], [UInt128]) {
            let sectors = UInt64(windows)
            // ⌊L · fraction⌋ <= L since fraction <= 1; at least 1 ms.
            let scaledLength = UInt64((UInt128(length) * UInt128(fraction.raw)) >> 32)
            let windowLength = Swift.max(1, scaledLength)
            var points: [Int64] = [start]
            var isBurst: [Bool] = []  // per segment between consecutive points
            for k in 0..<sectors {
                let sectorStart = sectors.dividingFullWidth(k.multipliedFullWidth(by: length)).quotient
                let sectorEnd =
                    k + 1 == sectors
                    ? length : sectors.dividingFullWidth((k + 1).multipliedFullWidth(by: length)).quotient
                let sectorLength = sectorEnd - sectorStart
                guard sectorLength > 0 else { continue }  // more windows than milliseconds
                let width = Swift.min(windowLength, sectorLength)
                let windowStart = sectorStart + generator.nextInt(below: sectorLength - width + 1)
                let a = Int64(bitPattern: UInt64(bitPattern: start) &+ windowStart)
                let b = Int64(bitPattern: UInt64(bitPattern: start) &+ (windowStart + width))
                if a > points[points.count - 1] {
                    points.append(a)
                    isBurst.append(false)
                }
                points.append(b)
                isBurst.append(true)
            }
            if end > points[points.count - 1] {
                points.append(end)
                isBurst.append(false)
            }
            // Mass in Q32 ms: background (1 − share) per ms everywhere, plus share · L / placed on each
            // window, so the total is L (up to the floor of the window share). Exact integer sums.
            let placed = UInt128(isBurst.filter { $0 }.count)
            let backgroundDensity = UInt128((Int64(1) << 32) - share.raw)  // Q32, > 0
            let windowMass = UInt128(share.raw) * UInt128(length) / placed
            var cumulative: [UInt128] = [0]
            for index in 0..<isBurst.count {
                let segmentLength = UInt128(UInt64(bitPattern: points[index + 1] &- points[index]))
                var mass = backgroundDensity * segmentLength
                if isBurst[index] { mass += windowMass }
                cumulative.append(cumulative[index] + mass)
            }
            return (points, cumulative)
        }
    }
}
