import TallyPipeline

/// How a scenario's generated traffic splits into independent units, and which faults each unit carries.
///
/// A unit is one traffic stream in one billing period. Each unit draws from its
/// own PRNG streams, derived from the scenario seed by a fixed rule, so a unit's
/// events are the same whichever thread generates it and whatever else the
/// scenario contains. Fault counts are split over units in proportion to their
/// events (largest remainder), so totals are exact.
struct StreamPlan: Sendable {
    struct Unit: Sendable {
        /// Position in `units`: the tie-break when two units emit at the same instant.
        var index: Int
        var traffic: Int
        var period: Int
        var events: Int
        /// Events this unit alters, per altering fault, in `StreamPlan.alterations` order.
        var alterations: [Int]
        var duplicates: Int
    }

    var units: [Unit]
    /// The scenario's altering faults (every kind but duplicate), each with its own offset.
    var alterations: [Fault]

    init(scenario: Scenario) {
        let altering = scenario.faults.filter { $0.kind != .duplicate }
        let periods = scenario.schedule.periods
        var units: [Unit] = []
        for (trafficIndex, traffic) in scenario.traffic.enumerated() {
            let perPeriod = StreamPlan.apportion(traffic.events, weights: periods.map { $0.length.milliseconds })
            for (periodIndex, events) in perPeriod.enumerated() where events > 0 {
                units.append(
                    Unit(
                        index: units.count, traffic: trafficIndex, period: periodIndex, events: events,
                        alterations: Array(repeating: 0, count: altering.count), duplicates: 0))
            }
        }
        var alteringIndex = 0
        for fault in scenario.faults {
            // A fault applies to the units of its metric's traffic, or to all generated traffic.
            let eligible = units.indices.filter {
                fault.metric == nil || scenario.traffic[units[$0].traffic].metric == fault.metric
            }
            let pool = eligible.reduce(0) { $0 + units[$1].events }
            let shares = StreamPlan.apportion(
                fault.amount.count(of: pool), weights: eligible.map { Int64(units[$0].events) })
            for (offset, unit) in eligible.enumerated() {
                if fault.kind == .duplicate {
                    units[unit].duplicates += shares[offset]
                } else {
                    units[unit].alterations[alteringIndex] += shares[offset]
                }
            }
            if fault.kind != .duplicate { alteringIndex += 1 }
        }
        // Several faults may overflow a small unit; what does not fit moves to the next unit.
        var carry = Array(repeating: 0, count: altering.count)
        for i in units.indices {
            var free = units[i].events
            for k in carry.indices {
                let want = units[i].alterations[k] + carry[k]
                let take = min(want, free)
                units[i].alterations[k] = take
                carry[k] = want - take
                free -= take
            }
        }
        self.units = units
        self.alterations = altering
    }

    /// Splits `total` over `weights` in proportion, by the largest-remainder method; ties go to the earlier weight.
    static func apportion(_ total: Int, weights: [Int64]) -> [Int] {
        let sum = weights.reduce(Int128(0)) { $0 + Int128($1) }
        guard sum > 0, total > 0 else { return weights.map { _ in 0 } }
        var shares: [Int] = []
        var remainders: [(Int128, Int)] = []
        for (index, weight) in weights.enumerated() {
            let exact = Int128(total) * Int128(weight)
            shares.append(Int(exact / sum))
            remainders.append((exact % sum, index))
        }
        var left = total - shares.reduce(0, +)
        for (_, index) in remainders.sorted(by: { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }) where left > 0 {
            shares[index] += 1
            left -= 1
        }
        return shares
    }
}
