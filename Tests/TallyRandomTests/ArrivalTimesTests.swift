import Foundation
import Testing
import TallyRandom

private let dayStart: Int64 = 1_700_006_400_000  // 2023-11-15T00:00:00Z, a UTC midnight
private let day: Int64 = 86_400_000
private let allShapes: [ArrivalShape] = [
    .uniform, .poisson, .diurnal(), .diurnal(peakHourUTC: 0, amplitude: Fixed(raw: Int64(UInt32.max))), .burst(),
    .burst(windows: 7, burstShare: Fixed(significand: 5, decimalScale: 1), windowFraction: Fixed(significand: 1, decimalScale: 3)),
]

/// Checks the three contract properties while streaming (never materializing the sequence).
private func checkContract(_ arrivals: ArrivalTimes) -> Bool {
    var previous = Int64.min
    var count = 0
    for t in arrivals {
        guard t >= arrivals.start, t < arrivals.end, t >= previous else { return false }
        previous = t
        count += 1
    }
    return count == arrivals.count
}

@Suite struct ArrivalTimesTests {
    @Test(arguments: allShapes)
    func sortedInBoundsExactCount(shape: ArrivalShape) throws {
        let intervals: [(Int64, Int64)] = [
            (dayStart, dayStart + day), (0, 1), (0, 7), (-5_000, 5_000), (Int64.min, Int64.min + 10),
            (Int64.max - 1_000, Int64.max), (Int64.min, 0), (-1, Int64.max - 1), (Int64.min, Int64.max), (dayStart, dayStart + 365 * day),
        ]
        for (start, end) in intervals {
            for count in [0, 1, 2, 3, 10, 1000, 50_000] {
                let a = try ArrivalTimes(start: start, end: end, count: count, shape: shape, generator: PRNG(seed: 3, stream: UInt64(count)))
                #expect(checkContract(a), "shape \(shape), [\(start), \(end)), n=\(count)")
            }
        }
    }

    @Test(arguments: allShapes)
    func deterministicReplay(shape: ArrivalShape) throws {
        let a = try ArrivalTimes(start: dayStart, end: dayStart + day, count: 10_000, shape: shape, generator: PRNG(seed: 11, stream: 4))
        let b = try ArrivalTimes(start: dayStart, end: dayStart + day, count: 10_000, shape: shape, generator: PRNG(seed: 11, stream: 4))
        let c = try ArrivalTimes(start: dayStart, end: dayStart + day, count: 10_000, shape: shape, generator: PRNG(seed: 11, stream: 5))
        #expect(Array(a) == Array(a))  // iterating twice replays
        #expect(Array(a) == Array(b))
        #expect(Array(a) != Array(c))
    }

    /// Regression vectors of this implementation (not independent truth): first five instants for seed 42.
    @Test func regressionVectors() throws {
        func first5(_ shape: ArrivalShape) throws -> [Int64] {
            Array(try ArrivalTimes(start: 1_700_000_000_000, end: 1_700_086_400_000, count: 1000, shape: shape, generator: PRNG(seed: 42)).prefix(5))
        }
        #expect(try first5(.uniform) == [1700000007245, 1700000119143, 1700000231555, 1700000339093, 1700000431291])
        #expect(try first5(.poisson) == [1700000213883, 1700000297550, 1700000330811, 1700000337570, 1700000338281])
        #expect(try first5(.diurnal()) == [1700000288893, 1700000403617, 1700000449506, 1700000458846, 1700000459828])
        #expect(try first5(.burst()) == [1700000067642, 1700000074760, 1700000301275, 1700000586703, 1700000727567])
    }

    /// Regression checksums of this implementation over whole sequences, covering segment switching,
    /// sparse jumps over a year-long interval and the burst layout.
    @Test func regressionChecksums() throws {
        func checksum(_ shape: ArrivalShape, days: Int64, count: Int) throws -> UInt64 {
            let a = try ArrivalTimes(start: dayStart, end: dayStart + days * day, count: count, shape: shape, generator: PRNG(seed: 42, stream: 1))
            return a.reduce(UInt64(0)) { $0 &* 31 &+ UInt64(bitPattern: $1) }
        }
        let results = try allShapes.flatMap { shape in
            [try checksum(shape, days: 1, count: 100_000), try checksum(shape, days: 365, count: 1_000)]
        }
        #expect(results == [
            11231359262937818653, 14341550523967345184,  // uniform: 1 day × 100k, 365 days × 1k
            12689857780493915708, 9833040452125519143,  // poisson
            5409874870816982051, 12479405876889572170,  // diurnal (defaults)
            29445489394332921, 11290376821188859829,  // diurnal (peak 0, amplitude 1 − 2^−32)
            17200508924391198191, 15797276294750924446,  // burst (defaults)
            13191946760389932535, 16554419271832725817,  // burst (7 windows, share 0.5, fraction 0.001)
        ])
    }

    /// Short sequences, whose last batch of steps has a partly used group of lanes: every count from
    /// 1 to 40 gives the instants the steps worked out one at a time gave. The checksums were taken
    /// from that implementation (before batching), over all 40 sequences of each shape.
    @Test func everyCountGivesTheInstantsOfOneStepAtATime() throws {
        let results = try allShapes.map { shape in
            var checksum: UInt64 = 0
            for count in 1...40 {
                let a = try ArrivalTimes(start: dayStart, end: dayStart + day, count: count, shape: shape, generator: PRNG(seed: 7, stream: UInt64(count)))
                checksum = a.reduce(checksum) { $0 &* 31 &+ UInt64(bitPattern: $1) }
            }
            return checksum
        }
        #expect(results == [
            1094175122434759684, 10816838600289378660, 4187237635295434587,
            3241546596389724257, 4291585278878109719, 13549112678742989792,
        ])
    }

    @Test func uniformIsStratified() throws {
        let n = 1000
        let a = try ArrivalTimes(start: 0, end: 1_000_000, count: n, shape: .uniform, generator: PRNG(seed: 1))
        for (i, t) in a.enumerated() {
            #expect(t >= Int64(i) * 1000 && t < Int64(i + 1) * 1000)
        }
    }

    @Test func poissonLooksUniform() throws {
        let n = 100_000
        let a = try ArrivalTimes(start: 0, end: 1_000_000_000, count: n, shape: .poisson, generator: PRNG(seed: 2))
        var bins = [Int](repeating: 0, count: 10)
        var previous: Int64 = 0
        var gaps = 0.0, gapSquares = 0.0
        for t in a {
            bins[Int(t / 100_000_000)] += 1
            let gap = Double(t - previous)
            gaps += gap
            gapSquares += gap * gap
            previous = t
        }
        for b in bins { #expect(abs(b - 10_000) < 500) }  // sd ≈ 95
        // Exponential-like gaps: mean ≈ L/n and coefficient of variation ≈ 1.
        let mean = gaps / Double(n)
        let cv = (gapSquares / Double(n) - mean * mean).squareRoot() / mean
        #expect(abs(mean - 10_000) < 100)
        #expect(abs(cv - 1) < 0.03)
    }

    @Test func diurnalFollowsTheIntensity() throws {
        let n = 240_000
        let a = try ArrivalTimes(start: dayStart, end: dayStart + 2 * day, count: n, shape: .diurnal(), generator: PRNG(seed: 5))
        var perHour = [Int](repeating: 0, count: 24)
        for t in a { perHour[Int(((t - dayStart) % day) / 3_600_000)] += 1 }
        // Expected share of hour h: ∫ over the hour of 1 + 0.8·sin(2π(h − 9)/24), over 24.
        for h in 0..<24 {
            let theta0 = 2 * Double.pi * (Double(h) - 9) / 24, theta1 = 2 * Double.pi * (Double(h + 1) - 9) / 24
            let mass = 1 + 0.8 * 24 / (2 * Double.pi) * (Foundation.cos(theta0) - Foundation.cos(theta1))
            let expected = Double(n) * mass / 24
            #expect(abs(Double(perHour[h]) - expected) < 5 * expected.squareRoot(), "hour \(h)")
        }
        #expect([14, 15].contains(perHour.firstIndex(of: perHour.max()!)!))  // the two hours around the 15:00 peak
        #expect(perHour[14] + perHour[15] > 7 * (perHour[2] + perHour[3]))
        #expect(ArrivalTimes.diurnalIntensity(at: dayStart + 15 * 3_600_000) == Fixed(significand: 18, decimalScale: 1))
        #expect(ArrivalTimes.diurnalIntensity(at: dayStart + 3 * 3_600_000) == Fixed(significand: 2, decimalScale: 1))
        #expect(ArrivalTimes.diurnalIntensity(at: dayStart + 9 * 3_600_000) == 1)
        // 1 + 0.8 · sin(π/6) = 1.4 at 11:00 (four hours before the peak: angle 2π·2/24).
        #expect(abs(ArrivalTimes.diurnalIntensity(at: dayStart + 11 * 3_600_000).raw - Fixed(significand: 14, decimalScale: 1).raw) <= 1)
    }

    @Test func burstConcentratesEvents() throws {
        let n = 100_000
        let a = try ArrivalTimes(start: 0, end: 10_000_000, count: n, shape: .burst(windows: 3, burstShare: Fixed(significand: 9, decimalScale: 1), windowFraction: Fixed(significand: 1, decimalScale: 2)), generator: PRNG(seed: 6))
        var bins = [Int](repeating: 0, count: 1000)  // 10 000 ms bins; each window spans ≤ 11 bins
        for t in a { bins[Int(t / 10_000)] += 1 }
        let top = bins.sorted(by: >).prefix(33).reduce(0, +)
        #expect(Double(top) / Double(n) > 0.89)
        #expect(Double(top) / Double(n) < 0.93)
    }

    @Test func streamsLargeCountsInConstantMemory() throws {
        // 3 million instants pass the contract check without ever being stored.
        let a = try ArrivalTimes(start: dayStart, end: dayStart + day, count: 3_000_000, shape: .diurnal(), generator: PRNG(seed: 8))
        #expect(checkContract(a))
    }

    @Test func invalidParameters() {
        let g = PRNG(seed: 1)
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 5, end: 5, count: 1, shape: .poisson, generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: -1, shape: .poisson, generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .diurnal(amplitude: 1), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .diurnal(peakHourUTC: 24), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .diurnal(peakHourUTC: -1), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .diurnal(amplitude: -1), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .burst(windowFraction: Fixed(raw: (1 << 32) + 1)), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .burst(windows: 0), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .burst(burstShare: 1), generator: g) }
        #expect(throws: ParameterError.self) { try ArrivalTimes(start: 0, end: 10, count: 1, shape: .burst(windowFraction: 0), generator: g) }
    }
}
