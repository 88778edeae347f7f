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
    /// the UTC hour of day of instant t (Unix epoch milliseconds): the peak is at `peakHourUTC` and the
    /// trough twelve hours earlier. The defaults (peak 15:00 UTC, amplitude 0.8) give a mid-afternoon
    /// peak with 9× the 03:00 UTC trough rate.
    case diurnal(peakHourUTC: Double = 15, amplitude: Double = 0.8)

    /// Bursty traffic: a share `burstShare` of the events falls inside `windows` short windows, each
    /// `windowFraction` of the interval long and placed uniformly at random inside its own equal
    /// sector of the interval (so windows never overlap); the rest is spread uniformly over the whole
    /// interval. Window positions are the first draws of the generator.
    case burst(windows: Int = 3, burstShare: Double = 0.9, windowFraction: Double = 0.01)
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
/// in (0, 1] — which is distributionally identical to normalized exponential spacings but needs
/// neither the total of the gaps nor storage. Each uᵢ is mapped through the inverse of the shape's
/// cumulative intensity M(t)/M(end); M is known exactly at segment boundaries (closed form for
/// diurnal, piecewise constant for burst) and interpolated linearly inside a segment. Every step
/// of that map is monotone under IEEE rounding and the result is clamped into its segment, so the
/// output is non-decreasing and inside [start, end) by construction, not by sorting.
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
    /// Shape parameter ranges: diurnal `peakHourUTC` in [0, 24) and `amplitude` in [0, 1) (so the
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
            guard peakHourUTC.isFinite, peakHourUTC >= 0, peakHourUTC < 24 else {
                throw ParameterError("ArrivalTimes.diurnal: peakHourUTC must be in [0, 24), got \(peakHourUTC)")
            }
            guard amplitude.isFinite, amplitude >= 0, amplitude < 1 else {
                throw ParameterError("ArrivalTimes.diurnal: amplitude must be in [0, 1), got \(amplitude)")
            }
        case let .burst(windows, burstShare, windowFraction):
            guard windows >= 1, windows <= 1000 else {
                throw ParameterError("ArrivalTimes.burst: windows must be in 1...1000, got \(windows)")
            }
            // burstShare < 1 keeps a positive background so every segment has positive mass.
            guard burstShare.isFinite, burstShare >= 0, burstShare < 1 else {
                throw ParameterError("ArrivalTimes.burst: burstShare must be in [0, 1), got \(burstShare)")
            }
            guard windowFraction.isFinite, windowFraction > 0, windowFraction <= 1 else {
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
    public static func diurnalIntensity(at t: Int64, peakHourUTC: Double = 15, amplitude: Double = 0.8) -> Double {
        1.0 + amplitude * DeterministicMath.sin(diurnalAngle(at: t, peakHourUTC: peakHourUTC))
    }

    static let dayMilliseconds: Int64 = 86_400_000

    /// 2π(h − peak + 6)/24 computed from the time of day, so the angle stays in (−2π, 2π) for any epoch.
    static func diurnalAngle(at t: Int64, peakHourUTC: Double) -> Double {
        let millisecondOfDay = ((t % dayMilliseconds) + dayMilliseconds) % dayMilliseconds
        let hours = Double(millisecondOfDay) / 3_600_000.0
        return 2.0 * DeterministicMath.pi * ((hours - peakHourUTC + 6.0) / 24.0)
    }

    /// Streams the instants; see `ArrivalTimes` for the method.
    public struct Iterator: IteratorProtocol, Sendable {
        /// How [start, end) is cut into segments of constant density, with M known at each boundary.
        private enum Layout: Sendable {
            /// One segment: `uniform` (unused) and `poisson`.
            case single
            /// Segment j = [start + j·60 000, …) with M from the closed form; `cosStart` = cos θ(start).
            case diurnal(peak: Double, coefficient: Double, cosStart: Double)
            /// boundaries[0] = start … boundaries[last] = end, masses[i] = M(boundaries[i]).
            case burst(boundaries: [Int64], masses: [Double])
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
        private var totalMass = 0.0

        // Order-statistics state: remaining = 1 − u of the last instant.
        private var remaining = 1.0

        // Current segment index and its cached bounds and cumulative masses.
        private var segmentIndex = 0
        private var segmentStart: Int64
        private var segmentEnd: Int64
        private var massAtSegmentStart = 0.0
        private var massAtSegmentEnd = 0.0

        init(start: Int64, end: Int64, count: Int, shape: ArrivalShape, generator: PRNG) {
            self.generator = generator
            self.start = start
            self.end = end
            self.length = UInt64(bitPattern: end &- start)
            self.count = count
            segmentStart = start
            segmentEnd = end
            switch shape {
            case .uniform:
                isStratified = true
            case .poisson:
                isStratified = false
                totalMass = Double(length)
            case let .diurnal(peak, amplitude):
                isStratified = false
                let step = UInt64(ArrivalTimes.diurnalSegmentMilliseconds)
                segmentCount = Int(length / step + (length % step == 0 ? 0 : 1))
                layout = .diurnal(
                    peak: peak,
                    coefficient: amplitude * Double(ArrivalTimes.dayMilliseconds) / (2.0 * DeterministicMath.pi),
                    cosStart: DeterministicMath.cos(ArrivalTimes.diurnalAngle(at: start, peakHourUTC: peak)))
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

            // Next ascending uniform order statistic: min of the (count − emitted) uniforms left on [u, 1).
            let left = Double(count - emitted)
            let v = generator.nextOpenClosedUnitDouble()
            let factor = DeterministicMath.exp(DeterministicMath.log(v) / left)
            remaining *= Swift.min(factor, 1.0)  // exp of a value <= 0 is <= 1; min makes it certain
            let target = (1.0 - remaining) * totalMass

            if target >= massAtSegmentEnd && segmentIndex < segmentCount - 1 {
                moveToSegment(firstSegment(endingAbove: target))
            }
            let segmentLength = UInt64(bitPattern: segmentEnd &- segmentStart)
            let segmentMass = massAtSegmentEnd - massAtSegmentStart
            guard segmentMass > 0 else { return segmentStart }
            let fraction = Swift.max(0.0, Swift.min((target - massAtSegmentStart) / segmentMass, 1.0))
            let scaled = (fraction * Double(segmentLength)).rounded(.down)
            // Double(segmentLength) may round up to 2^64, so bound before converting.
            let offset = scaled < 0x1.0p64 ? Swift.min(UInt64(scaled), segmentLength - 1) : segmentLength - 1
            return Int64(bitPattern: UInt64(bitPattern: segmentStart) &+ offset)
        }

        /// Slot i is [start + ⌊i·L/n⌋, start + ⌊(i+1)·L/n⌋); draw uniformly inside (slot start if empty).
        private mutating func nextStratified() -> Int64 {
            let n = UInt64(count)
            let i = UInt64(emitted)
            // i·L/n < L because i < n, so the 128-by-64 division cannot overflow.
            let slotStart = n.dividingFullWidth(i.multipliedFullWidth(by: length)).quotient
            let slotEnd = i + 1 == n ? length : n.dividingFullWidth((i + 1).multipliedFullWidth(by: length)).quotient
            let width = slotEnd - slotStart
            let offset = width == 0 ? slotStart : slotStart + generator.nextInt(below: width)
            return Int64(bitPattern: UInt64(bitPattern: start) &+ offset)
        }

        /// The smallest segment after the current one whose end mass exceeds `target` (the last if none).
        ///
        /// Galloping then binary search: O(1) when instants are dense (the usual case: the next
        /// segment), O(log distance) when they are sparse over a long interval, so a year-long or
        /// even 2^64 ms interval never walks segment by segment.
        private func firstSegment(endingAbove target: Double) -> Int {
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
        }

        /// Instant of boundary j (0 = start, segmentCount = end).
        private func boundary(_ j: Int) -> Int64 {
            if j >= segmentCount { return end }
            switch layout {
            case .single:
                return start
            case .diurnal:
                return Int64(bitPattern: UInt64(bitPattern: start) &+ UInt64(j) &* UInt64(ArrivalTimes.diurnalSegmentMilliseconds))
            case let .burst(boundaries, _):
                return boundaries[j]
            }
        }

        /// Cumulative mass M at boundary j.
        ///
        /// Diurnal: M(t) = ∫_start^t λ = (t − start) − amplitude·D/(2π)·(cos θ(t) − cos θ(start)), with
        /// D one day in ms; computed directly from t, not accumulated, so no rounding drift builds up.
        private func mass(atBoundary j: Int) -> Double {
            switch layout {
            case .single:
                return j == 0 ? 0 : totalMass
            case let .diurnal(peak, coefficient, cosStart):
                let t = boundary(j)
                let cosT = DeterministicMath.cos(ArrivalTimes.diurnalAngle(at: t, peakHourUTC: peak))
                return Double(UInt64(bitPattern: t &- start)) - coefficient * (cosT - cosStart)
            case let .burst(_, masses):
                return masses[j]
            }
        }

        /// Places one window per equal sector and returns boundaries with cumulative masses.
        private static func burstLayout(
            start: Int64, end: Int64, length: UInt64, windows: Int, share: Double, fraction: Double,
            generator: inout PRNG
        ) -> ([Int64], [Double]) {
            let sectors = UInt64(windows)
            let scaledLength = (Double(length) * fraction).rounded(.down)
            let windowLength = scaledLength >= 0x1.0p64 ? length : Swift.max(1, UInt64(scaledLength))
            var points: [Int64] = [start]
            var isBurst: [Bool] = []  // per segment between consecutive points
            for k in 0..<sectors {
                let sectorStart = sectors.dividingFullWidth(k.multipliedFullWidth(by: length)).quotient
                let sectorEnd = k + 1 == sectors ? length : sectors.dividingFullWidth((k + 1).multipliedFullWidth(by: length)).quotient
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
            // Density per ms: background (1 − share)/L everywhere, plus share/placed spread over each window.
            let placed = Double(isBurst.filter { $0 }.count)
            let background = (1.0 - share) / Double(length)
            var cumulative = [0.0]
            for index in 0..<isBurst.count {
                let segmentLength = Double(UInt64(bitPattern: points[index + 1] &- points[index]))
                var mass = background * segmentLength
                if isBurst[index] { mass += share / placed }
                cumulative.append(cumulative[index] + mass)
            }
            return (points, cumulative)
        }
    }
}
