/// Accepted usage, aggregated per customer, metric, billing period and group.
///
/// This is the hand-off from metering to billing: ``Meter`` fills it event by
/// event; rating reads quantities from it. Reads never depend on the order the
/// events arrived in (only `latest`, which is defined by timestamp).
public struct Usage: Sendable {
    struct Key: Hashable, Sendable {
        var customer: Int32
        var metric: Int32
        var period: Int32
        /// 0 when the metric is not grouped; otherwise an index into `groupValues`.
        var group: Int32
    }

    let schedule: PeriodSchedule
    /// The periods of each customer billed on its own anniversary, by customer number (looked up, never
    /// iterated); empty when every customer follows `schedule`, so the common path pays one check.
    private var anchoredPeriods: [Int32: [BillingPeriod]] = [:]
    /// Metric definitions by interned metric number.
    private(set) var metricDefinitions: [Metric] = []
    private(set) var customerIDs: [String] = []
    /// Customer numbers by id, hashed as the meter's lookups are: a million customers number
    /// in a fraction of the time a `Dictionary`'s SipHash takes.
    private var customerNumbers = StringIndex<Int32>()
    private var metricNumbers: [String: Int32] = [:]
    /// Ungrouped aggregates, the hot path: blocks of ``blockSize`` customers in one period, at
    /// `(customer / blockSize) x periods + period`; in a block, the cell of a customer's metric
    /// is at `(customer mod blockSize) x metricStride + metric`.
    ///
    /// A dense array needs no hashing per event, unlike a dictionary. Blocks rather
    /// than a row per customer: with a million customers the rows are a million
    /// separate allocations, and finding one costs a cache miss on the array of
    /// rows before the miss on the row itself, where the array of blocks (125 KB
    /// for a million customers and one period) stays in the cache. Blocks rather
    /// than one table per period: a block is made on its first event, so customers
    /// without usage in a period cost little (one table for a million customers,
    /// twelve periods and four metrics would fill 2.3 GB whatever the events).
    /// Customers added later (a catalog fix) only add blocks at the end.
    private var blocks: [[Accumulator?]] = []
    /// Cells per customer in a block: at least the number of metrics.
    private var metricStride = 0
    static let blockShift = 6
    static let blockSize = 1 << blockShift
    /// Aggregates of grouped metrics (group number above 0).
    private var grouped: [Key: Accumulator] = [:]
    /// Each metric number's aggregation, so the hot path does not copy whole `Metric`s.
    private(set) var aggregations: [Aggregation] = []
    /// Each metric number's `recurring`, read when billing reads a period.
    private(set) var recurringMetrics: [Bool] = []
    /// Group values by group number; number 0 is "no group".
    private(set) var groupValues: [[String]] = [[]]
    private var groupNumbers: [[String]: Int32] = [[]: 0]
    /// Per-event values kept for percentage charges, which price each event on its own.
    private var eventValues: [Key: [EventValue]] = [:]
    /// By metric number: whether to keep each event's value (an array: this is read per event).
    private var keepsEventValues: [Bool] = []
    /// The number of each `unique_count` property value seen, in order of first arrival (see ``DistinctValues``).
    ///
    /// Keyed by `String`, so values equal as strings (canonically equivalent) count as one, as they always have.
    private var distinctNumbers: [String: Int] = [:]
    /// The instants inside a period where a customer's usage is split, by customer number, sorted.
    ///
    /// A plan change or a free trial's end (see Usage+Windows.swift). Empty for most runs: then adding an event
    /// checks nothing more.
    var cutsByCustomer: [Int32: [Instant]] = [:]
    /// A split customer's aggregates per stretch between its cuts (the ``Key``, and the stretch's number).
    var segments: [SegmentKey: Accumulator] = [:]
    /// The part of each period that reads see, on a copy made by ``windowed(from:to:)``; nil: the whole period.
    var window: Window?

    init(schedule: PeriodSchedule) {
        self.schedule = schedule
    }

    /// Sets the periods the customer numbered `customer` is aggregated in: `periods` (its own anniversary
    /// schedule, as many periods as `schedule`), or `schedule`'s for nil.
    mutating func setPeriods(_ periods: [BillingPeriod]?, customer: Int32) {
        anchoredPeriods[customer] = periods
    }

    /// Makes every customer follow `schedule` again, before a catalog's anchors are set anew.
    mutating func removeAnchoredPeriods() {
        if !anchoredPeriods.isEmpty { anchoredPeriods = [:] }
    }

    /// The periods of the customer numbered `c`: its own when it is billed on its anniversary, else the schedule's.
    @inline(__always)
    func periods(ofCustomer c: Int32?) -> [BillingPeriod] {
        guard !anchoredPeriods.isEmpty, let c, let own = anchoredPeriods[c] else { return schedule.periods }
        return own
    }

    /// The index of the customer's period containing `instant`, or nil outside every one of them.
    @inline(__always)
    func periodIndex(customer c: Int32, containing instant: Instant) -> Int? {
        guard !anchoredPeriods.isEmpty, let own = anchoredPeriods[c] else {
            return schedule.periodIndex(containing: instant)
        }
        return PeriodSchedule.index(in: own, containing: instant)
    }

    /// Interns a customer id; numbers are stable for the life of this usage.
    mutating func customerNumber(_ id: String) -> Int32 {
        if let number = customerNumbers[id] { return number }
        let number = Int32(customerIDs.count)
        customerIDs.append(id)
        customerNumbers.set(id, number)
        return number
    }

    /// Starts loading what ``customerNumber(_:)`` will read for `id`; a hint only.
    func prefetchCustomerNumber(_ id: String) { customerNumbers.prefetch(id, forInsert: true) }

    /// Makes room for `count` customers in all, so numbering a million of them never rehashes.
    mutating func reserveCustomers(_ count: Int) {
        customerIDs.reserveCapacity(count)
        customerNumbers.reserveCapacity(count)
    }

    /// Interns a metric; a redefinition (after a catalog fix) replaces the old one.
    mutating func metricNumber(_ metric: Metric, keepEventValues: Bool) -> Int32 {
        let number: Int32
        if let existing = metricNumbers[metric.key] {
            number = existing
            metricDefinitions[Int(number)] = metric
            aggregations[Int(number)] = metric.aggregation
            recurringMetrics[Int(number)] = metric.recurring
        } else {
            number = Int32(metricDefinitions.count)
            metricDefinitions.append(metric)
            aggregations.append(metric.aggregation)
            recurringMetrics.append(metric.recurring)
            metricNumbers[metric.key] = number
        }
        if keepsEventValues.count <= Int(number) {
            keepsEventValues.append(
                contentsOf: Array(repeating: false, count: Int(number) + 1 - keepsEventValues.count))
        }
        keepsEventValues[Int(number)] = keepEventValues
        if metricDefinitions.count > metricStride { widenTables(to: metricDefinitions.count) }
        return number
    }

    /// Lays every block out again with `stride` cells per customer, for a metric added after
    /// usage was recorded (a catalog fix); each aggregate keeps its customer and metric.
    private mutating func widenTables(to stride: Int) {
        for block in blocks.indices where !blocks[block].isEmpty {
            let old = blocks[block]
            var cells = [Accumulator?](repeating: nil, count: Usage.blockSize * stride)
            for index in old.indices where old[index] != nil {
                cells[index / metricStride * stride + index % metricStride] = old[index]
            }
            blocks[block] = cells
        }
        metricStride = stride
    }

    mutating func groupNumber(_ values: [String]) -> Int32 {
        if let number = groupNumbers[values] { return number }
        let number = Int32(groupValues.count)
        groupValues.append(values)
        groupNumbers[values] = number
        return number
    }

    /// Adds an accepted event inside `period`.
    mutating func add(
        customer: Int32, metric: Int32, period: Int, group: Int32,
        value: ExactDecimal, distinct: String?, timestamp: Instant, eventID: String
    ) throws(DecimalError) {
        let periodEnd = periods(ofCustomer: customer)[period].end
        let kind = aggregations[Int(metric)]
        let valueNumber = kind == .uniqueCount ? number(ofDistinct: distinct ?? "") : nil
        // Computed before the period's own aggregate changes, stored after: an overflow leaves neither half-written.
        var segment: (key: SegmentKey, accumulator: Accumulator)?
        if !cutsByCustomer.isEmpty, let cuts = cutsByCustomer[customer] {
            segment = try segmentAdding(
                cuts: cuts, key: Key(customer: customer, metric: metric, period: Int32(period), group: group),
                kind: kind, value: value, distinct: valueNumber, timestamp: timestamp, eventID: eventID)
        }
        if group == 0 {
            let (block, index) = cell(customer: customer, metric: metric, period: period)
            if blocks.count <= block { blocks.append(contentsOf: repeatElement([], count: block + 1 - blocks.count)) }
            // One access to the block for the whole update: each subscript of
            // `blocks[b][i]` checks both arrays' bounds and uniqueness again.
            try blocks[block].withCell(at: index, blockCells: Usage.blockSize * metricStride) {
                (cell: inout Accumulator?) throws(DecimalError) in
                if cell == nil { cell = Accumulator(kind) }
                try cell?.add(
                    value: value, distinct: valueNumber, timestamp: timestamp, eventID: eventID, periodEnd: periodEnd)
            }
        } else {
            let key = Key(customer: customer, metric: metric, period: Int32(period), group: group)
            try grouped[key, default: Accumulator(kind)]
                .add(value: value, distinct: valueNumber, timestamp: timestamp, eventID: eventID, periodEnd: periodEnd)
        }
        if let segment { segments[segment.key] = segment.accumulator }
        if keepsEventValues[Int(metric)] {
            let key = Key(customer: customer, metric: metric, period: Int32(period), group: group)
            eventValues[key, default: []].append(EventValue(timestamp: timestamp, eventID: eventID, value: value))
        }
    }

    /// The number of a `unique_count` property value, numbering it if it is new.
    private mutating func number(ofDistinct value: String) -> Int {
        if let number = distinctNumbers[value] { return number }
        let number = distinctNumbers.count
        distinctNumbers[value] = number
        return number
    }

    /// Where an ungrouped aggregate lives: its block in `blocks`, and its cell in the block.
    @inline(__always)
    private func cell(customer: Int32, metric: Int32, period: Int) -> (block: Int, index: Int) {
        (
            (Int(customer) >> Usage.blockShift) * schedule.periods.count + period,
            (Int(customer) & (Usage.blockSize - 1)) * metricStride + Int(metric)
        )
    }

    /// The aggregate at a key, wherever it is stored.
    func accumulator(_ key: Key) -> Accumulator? {
        guard key.group == 0 else { return grouped[key] }
        let (block, index) = cell(customer: key.customer, metric: key.metric, period: Int(key.period))
        guard block < blocks.count else { return nil }
        return index < blocks[block].count ? blocks[block][index] : nil
    }

    // MARK: Reading

    /// The metric's quantity for the customer in a period, over all groups.
    public func quantity(customer: String, metric: String, period: Int) throws(DecimalError) -> ExactDecimal {
        try quantity(customerNumber: customerNumbers[customer], metricNumber: metricNumbers[metric], period: period)
    }

    /// The customer's number here without numbering a new one (nil: no usage), for a caller
    /// that reads several aggregates of one customer; `position` is tried first.
    ///
    /// A meter numbers the catalog's customers in catalog order, so a biller going
    /// through the catalog nearly always finds the customer at its own position;
    /// with a million customers that saves a hashed lookup into a million-entry
    /// table, a cache miss, per invoice. Ids and numbers match one to one, so
    /// the guess is checked by comparing one id.
    func knownCustomerNumber(_ customer: String, guessing position: Int) -> Int32? {
        if position >= 0, position < customerIDs.count, customerIDs[position] == customer { return Int32(position) }
        return customerNumbers[customer]
    }

    /// The metric's number here (nil: not a metric of this usage), for a caller that reads it for many customers.
    func knownMetricNumber(_ metric: String) -> Int32? { metricNumbers[metric] }

    /// ``quantity(customer:metric:period:)`` for a customer and metric already looked up (nil: none).
    func quantity(customerNumber c: Int32?, metricNumber: Int32?, period: Int) throws(DecimalError) -> ExactDecimal {
        // A customer without usage still gets a weighted_sum's carried level.
        guard let m = metricNumber else { return .zero }
        if let window { return try windowQuantity(customer: c, metric: m, period: period, window: window) }
        var total: Accumulator?
        var opening = ExactDecimal.zero
        if let c {
            total = try self.total(customer: c, metric: m, period: period)
            opening = try openingLevel(customer: c, metric: m, period: period)
        }
        guard let accumulator = total ?? carriedLevel(metric: m) else { return .zero }
        return try accumulator.quantity(openingLevel: opening, periodLength: periods(ofCustomer: c)[period].length)
    }

    /// The quantity of each group (each combination of the metric's `groupBy`
    /// values seen), sorted by the group's values.
    public func groupedQuantities(
        customer: String, metric: String, period: Int
    ) throws(DecimalError) -> [(group: [String], quantity: ExactDecimal)] {
        try groupedQuantities(
            customerNumber: customerNumbers[customer], metricNumber: metricNumbers[metric], period: period)
    }

    /// ``groupedQuantities(customer:metric:period:)`` for a customer and metric already looked up (nil: none).
    func groupedQuantities(
        customerNumber: Int32?, metricNumber: Int32?, period: Int
    ) throws(DecimalError) -> [(group: [String], quantity: ExactDecimal)] {
        guard let c = customerNumber, let m = metricNumber else { return [] }
        if let window { return try windowGroupedQuantities(customer: c, metric: m, period: period, window: window) }
        let length = periods(ofCustomer: c)[period].length
        var result: [(group: [String], quantity: ExactDecimal)] = []
        for (group, values) in groupValues.enumerated() {
            let opening = try openingLevel(customer: c, metric: m, period: period, group: Int32(group))
            // A weighted_sum group without events this period still has its carried level.
            guard
                let accumulator = try carried(Key(customer: c, metric: m, period: Int32(period), group: Int32(group)))
                    ?? (opening.isZero ? nil : carriedLevel(metric: m))
            else { continue }
            result.append((values, try accumulator.quantity(openingLevel: opening, periodLength: length)))
        }
        return result.sorted { $0.group.lexicographicallyPrecedes($1.group) }
    }

    /// Each accepted event's value, in timestamp order (ties: event id), for metrics priced per event.
    ///
    /// Empty unless the catalog has a percentage charge on the metric.
    public func eventValues(customer: String, metric: String, period: Int) -> [EventValue] {
        eventValues(customerNumber: customerNumbers[customer], metricNumber: metricNumbers[metric], period: period)
    }

    /// ``eventValues(customer:metric:period:)`` for a customer and metric already looked up (nil: none).
    func eventValues(customerNumber: Int32?, metricNumber: Int32?, period: Int) -> [EventValue] {
        guard let c = customerNumber, let m = metricNumber else { return [] }
        var values: [EventValue] = []
        for group in groupValues.indices {
            values += eventValues[Key(customer: c, metric: m, period: Int32(period), group: Int32(group))] ?? []
        }
        if let window { values.removeAll { !window.contains($0.timestamp) } }
        return values.sorted()
    }

    /// The aggregate at `key` as billing reads it, carried from earlier periods for a recurring metric.
    ///
    /// For a recurring `sum`, the level at the period's end (the period's changes and every earlier
    /// period's); for a recurring `latest`, the latest reading at or before the period's end. Other
    /// metrics (weighted_sum carries its level its own way) read the period's aggregate alone.
    ///
    /// Carrying happens here, when a period is read, so metering does no extra work per event.
    func carried(_ key: Key) throws(DecimalError) -> Accumulator? {
        guard recurringMetrics[Int(key.metric)] else { return accumulator(key) }
        switch aggregations[Int(key.metric)] {
        case .sum:
            var level: ExactDecimal?
            for period in 0...key.period {
                var earlier = key
                earlier.period = period
                if case .sum(let change) = accumulator(earlier) { level = try (level ?? .zero) + change }
            }
            return level.map { .sum($0) }
        case .latest:
            for period in stride(from: key.period, through: 0, by: -1) {
                var earlier = key
                earlier.period = period
                if let reading = accumulator(earlier) { return reading }
            }
            return nil
        case .count, .max, .uniqueCount, .weightedSum:
            return accumulator(key)
        }
    }

    /// A recurring metric's level through one period, for a charge prorated by time: its level at the
    /// period's start, then each change in timestamp order (ties: event id) with the level after it.
    ///
    /// A `sum`'s events change the level by their value; a `latest`'s set it (a negative reading
    /// counts as 0). Empty (level 0, no changes) for a customer or metric without usage.
    func levelPath(customerNumber c: Int32?, metricNumber m: Int32?, period: Int) throws(DecimalError) -> LevelPath {
        guard let c, let m else { return LevelPath(opening: .zero, changes: []) }
        if let window {
            var whole = self
            whole.window = nil
            return try whole.levelPath(customerNumber: c, metricNumber: m, period: period).within(window)
        }
        let aggregation = aggregations[Int(m)]
        var opening = ExactDecimal.zero
        if period > 0, let before = try total(customer: c, metric: m, period: period - 1) {
            opening = try before.quantity(
                openingLevel: .zero, periodLength: periods(ofCustomer: c)[period - 1].length)
        }
        var level = opening
        var changes: [LevelPath.Change] = []
        for event in eventValues(customerNumber: c, metricNumber: m, period: period) {
            level = try aggregation == .latest ? (event.value.isNegative ? .zero : event.value) : level + event.value
            changes.append(LevelPath.Change(at: event.timestamp, level: level))
        }
        return LevelPath(opening: opening, changes: changes)
    }

    /// An empty weighted_sum accumulator, whose quantity is then the opening level; nil for other kinds.
    func carriedLevel(metric: Int32) -> Accumulator? {
        guard metricDefinitions[Int(metric)].aggregation == .weightedSum else { return nil }
        return Accumulator(.weightedSum)
    }

    private func total(customer c: Int32, metric m: Int32, period: Int) throws(DecimalError) -> Accumulator? {
        var total: Accumulator?
        for group in groupValues.indices {
            guard
                let accumulator = try carried(Key(customer: c, metric: m, period: Int32(period), group: Int32(group)))
            else { continue }
            total =
                try total.map { (t: Accumulator) throws(DecimalError) in try t.merged(with: accumulator) }
                ?? accumulator
        }
        return total
    }

    /// The running level at a period's start: every delta of earlier periods.
    private func openingLevel(customer c: Int32, metric m: Int32, period: Int) throws(DecimalError) -> ExactDecimal {
        var level = ExactDecimal.zero
        for group in groupValues.indices {
            level = try level + (try openingLevel(customer: c, metric: m, period: period, group: Int32(group)))
        }
        return level
    }

    func openingLevel(
        customer: Int32, metric: Int32, period: Int, group: Int32
    ) throws(DecimalError) -> ExactDecimal {
        var level = ExactDecimal.zero
        for earlier in 0..<period {
            if case .weightedSum(let delta, _) = accumulator(
                Key(customer: customer, metric: metric, period: Int32(earlier), group: group))
            {
                level = try level + delta
            }
        }
        return level
    }
}

/// One event's value, kept for charges that price events one by one.
public struct EventValue: Sendable, Hashable, Comparable {
    /// When the event happened.
    public var timestamp: Instant
    /// The event's idempotency key, which breaks ties between equal timestamps.
    public var eventID: String
    /// The value the event contributes: its quantity, or the metric's property (a payment's amount).
    public var value: ExactDecimal

    /// Creates the kept value of one event.
    public init(timestamp: Instant, eventID: String, value: ExactDecimal) {
        self.timestamp = timestamp
        self.eventID = eventID
        self.value = value
    }

    /// Timestamp order, ties by event id: the order "first N events" counts in.
    public static func < (lhs: EventValue, rhs: EventValue) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return lhs.eventID.utf8.lexicographicallyPrecedes(rhs.eventID.utf8)
    }
}

extension Array where Element == Accumulator? {
    /// Lends the cell at `index` of a block to `body` in place, first filling a new block
    /// with its `blockCells` empty cells.
    @inline(__always)
    fileprivate mutating func withCell(
        at index: Int, blockCells: Int, _ body: (inout Accumulator?) throws(DecimalError) -> Void
    ) throws(DecimalError) {
        if isEmpty { append(contentsOf: repeatElement(nil, count: blockCells)) }
        try withUnsafeMutableBufferPointer {
            (cells: inout UnsafeMutableBufferPointer<Accumulator?>) throws(DecimalError) in
            try body(&cells[index])
        }
    }
}
