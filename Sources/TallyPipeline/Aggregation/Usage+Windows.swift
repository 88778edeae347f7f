/// Usage split inside a period: a customer whose plan changes mid-period, or whose trial's usage is free, has
/// its events also aggregated per stretch between its *cuts* (the instants the plan changes or the trial ends), so
/// billing can read the part of a period each plan was in force for.
///
/// Only customers with cuts pay for this: adding another customer's event checks one empty dictionary.
extension Usage {
    /// A split customer's aggregate over one stretch of one period: the period's ``Key`` and the stretch's number
    /// (how many of the customer's cuts are at or before the stretch's events).
    struct SegmentKey: Hashable, Sendable {
        var key: Key
        var segment: Int32
    }

    /// The part `[from, to)` of a period that reads see.
    struct Window: Sendable, Equatable {
        var from: Instant
        var to: Instant

        func contains(_ instant: Instant) -> Bool { from <= instant && instant < to }
    }

    /// Splits `customer`'s usage at `cuts` (sorted, each inside a period; empty: not split).
    ///
    /// Only a customer without usage yet takes new cuts (a catalog fix cannot split events already aggregated):
    /// billing then refuses to bill a stretch its usage was not split for, rather than bill it wrong.
    mutating func split(customer: Int32, at cuts: [Instant]) {
        guard cutsByCustomer[customer] ?? [] != cuts, !hasUsage(customer: customer) else { return }
        cutsByCustomer[customer] = cuts.isEmpty ? nil : cuts
    }

    /// Whether any event of `customer` was aggregated, in any period.
    private func hasUsage(customer c: Int32) -> Bool {
        for period in periods(ofCustomer: c).indices {
            for metric in aggregations.indices {
                for group in groupValues.indices
                where accumulator(Key(customer: c, metric: Int32(metric), period: Int32(period), group: Int32(group)))
                    != nil
                {
                    return true
                }
            }
        }
        return false
    }

    /// Whether `customer`'s usage is split at `instant`.
    func isSplit(customer: Int32?, at instant: Instant) -> Bool {
        guard let customer, let cuts = cutsByCustomer[customer] else { return false }
        return cuts.contains(instant)
    }

    /// A copy whose reads see only `[from, to)` of each period, for a customer split at both ends (or whose ends
    /// are the period's, or its subscription's).
    func windowed(from: Instant, to: Instant) -> Usage {
        var copy = self
        copy.window = Window(from: from, to: to)
        return copy
    }

    /// The stretch an instant falls in: how many cuts are at or before it.
    private static func segment(of instant: Instant, cuts: [Instant]) -> Int32 {
        Int32(cuts.lazy.filter { $0 <= instant }.count)
    }

    /// Where stretch `segment` of `period` starts and ends, clipped to the period.
    private func bounds(
        of segment: Int32, cuts: [Instant], customer: Int32, period: Int
    ) -> (start: Instant, end: Instant) {
        let whole = periods(ofCustomer: customer)[period]
        let start = segment == 0 ? whole.start : Swift.max(cuts[Int(segment) - 1], whole.start)
        let end = Int(segment) < cuts.count ? Swift.min(cuts[Int(segment)], whole.end) : whole.end
        return (start, end)
    }

    /// The stretch's aggregate with one more event, and where it goes: a `weighted_sum` weighs the event by the
    /// time to the stretch's end rather than the period's.
    func segmentAdding(
        cuts: [Instant], key: Key, kind: Aggregation, value: ExactDecimal, distinct: Int?, timestamp: Instant,
        eventID: String
    ) throws(DecimalError) -> (key: SegmentKey, accumulator: Accumulator) {
        let segmentKey = SegmentKey(key: key, segment: Usage.segment(of: timestamp, cuts: cuts))
        var accumulator = segments[segmentKey] ?? Accumulator(kind)
        let end = bounds(of: segmentKey.segment, cuts: cuts, customer: key.customer, period: Int(key.period)).end
        try accumulator.add(value: value, distinct: distinct, timestamp: timestamp, eventID: eventID, periodEnd: end)
        return (segmentKey, accumulator)
    }

    /// The quantity the window sees, over all groups.
    func windowQuantity(
        customer c: Int32?, metric m: Int32, period: Int, window: Window
    ) throws(DecimalError)
        -> ExactDecimal
    {
        guard let c else { return .zero }
        var total: Accumulator?
        for group in groupValues.indices {
            guard let part = try windowAccumulator(customer: c, metric: m, period: period, group: Int32(group), window)
            else { continue }
            total = try total.map { (t: Accumulator) throws(DecimalError) in try t.merged(with: part) } ?? part
        }
        guard let total else { return .zero }
        // A weighted_sum's window aggregate holds its whole level-time area, opening level included.
        return try total.quantity(openingLevel: .zero, periodLength: periods(ofCustomer: c)[period].length)
    }

    /// The quantity of each group the window sees, sorted by the group's values.
    func windowGroupedQuantities(
        customer c: Int32, metric m: Int32, period: Int, window: Window
    ) throws(DecimalError)
        -> [(group: [String], quantity: ExactDecimal)]
    {
        var result: [(group: [String], quantity: ExactDecimal)] = []
        for (group, values) in groupValues.enumerated() {
            guard let part = try windowAccumulator(customer: c, metric: m, period: period, group: Int32(group), window)
            else { continue }
            result.append(
                (values, try part.quantity(openingLevel: .zero, periodLength: periods(ofCustomer: c)[period].length)))
        }
        return result.sorted { $0.group.lexicographicallyPrecedes($1.group) }
    }

    /// One group's aggregate as the window sees it (nil: nothing to bill).
    ///
    /// - Events of the window alone, for `count`, `sum`, `max`, `unique_count`, `latest`.
    /// - A recurring `sum` or `latest`: the level at the window's end, carried from earlier stretches and periods.
    /// - A `weighted_sum`: the level-time area of the window (its opening level included), to be divided by the
    ///   *period's* length, so the windows of a period add up to the period's quantity.
    private func windowAccumulator(
        customer c: Int32, metric m: Int32, period: Int, group: Int32, _ window: Window
    ) throws(DecimalError) -> Accumulator? {
        let cuts = cutsByCustomer[c] ?? []
        let whole = periods(ofCustomer: c)[period]
        let key = Key(customer: c, metric: m, period: Int32(period), group: group)
        let first = Usage.segment(of: whole.start, cuts: cuts)
        let last = Usage.segment(of: whole.end - TimeSpan(milliseconds: 1), cuts: cuts)
        var stretches: [(start: Instant, end: Instant, accumulator: Accumulator)] = []
        for segment in first...last {
            guard let accumulator = segments[SegmentKey(key: key, segment: segment)] else { continue }
            let (from, to) = bounds(of: segment, cuts: cuts, customer: c, period: period)
            stretches.append((from, to, accumulator))
        }
        let aggregation = aggregations[Int(m)]
        if recurringMetrics[Int(m)], aggregation == .sum || aggregation == .latest {
            var earlier = key
            earlier.period -= 1
            let carried = period > 0 ? try carried(earlier) : nil
            let before = stretches.filter { $0.start < window.to }.map(\.accumulator)
            if aggregation == .latest { return before.last ?? carried }
            var level = ExactDecimal.zero
            if case .sum(let opening) = carried { level = opening }
            for case .sum(let change) in before { level = try level + change }
            return before.isEmpty && carried == nil ? nil : .sum(level)
        }
        if aggregation == .weightedSum {
            var opening = try openingLevel(customer: c, metric: m, period: period, group: group)
            var delta = ExactDecimal.zero
            var area = ExactDecimal.zero
            for stretch in stretches {
                guard case .weightedSum(let change, let stretchArea) = stretch.accumulator else { continue }
                if stretch.end <= window.from {
                    opening = try opening + change
                } else if stretch.start < window.to {
                    // The stretch's area runs to its own end; the level it leaves holds on to the window's end.
                    let rest = ExactDecimal(Int(window.to.millisecondsSinceEpoch - stretch.end.millisecondsSinceEpoch))
                    delta = try delta + change
                    area = try area + stretchArea + (try change * rest)
                }
            }
            guard !(opening.isZero && stretches.isEmpty) else { return nil }
            let length = ExactDecimal(Int(window.to.millisecondsSinceEpoch - window.from.millisecondsSinceEpoch))
            return .weightedSum(delta: delta, area: try (try opening * length) + area)
        }
        var total: Accumulator?
        for stretch in stretches where stretch.start < window.to && stretch.end > window.from {
            total =
                try total.map { (t: Accumulator) throws(DecimalError) in try t.merged(with: stretch.accumulator) }
                ?? stretch.accumulator
        }
        return total
    }
}

extension LevelPath {
    /// The path as a window of the period sees it: opening at the level held when the window opens, with the
    /// window's changes only.
    func within(_ window: Usage.Window) -> LevelPath {
        var opening = self.opening
        for change in changes where change.at < window.from { opening = change.level }
        return LevelPath(opening: opening, changes: changes.filter { window.contains($0.at) })
    }
}
