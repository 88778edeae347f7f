/// The distinct values a `unique_count` aggregate has seen, by the numbers ``Usage`` gives them.
///
/// Numbers rather than strings, and the first 64 numbers as bits of one word kept
/// in the aggregate itself, because a `Set<String>` per aggregate is a heap object
/// of its own: with a thousand customers those sets outgrow the caches, and adding
/// one value misses the cache twice (the set's header, then its bucket). A customer's
/// aggregate usually sees a few values that many customers share, so their numbers are
/// small and no set is allocated; numbers from 64 up go to a set of integers.
///
/// The numbering depends on the order values first arrive, but only the count is
/// ever read, and the count does not depend on the numbering.
struct DistinctValues: Sendable {
    /// Values numbered 0 to 63, one bit each.
    private var low: UInt64 = 0
    /// Values numbered 64 and up.
    private var high: Set<Int> = []

    init() {}

    private init(low: UInt64, high: Set<Int>) {
        self.low = low
        self.high = high
    }

    mutating func insert(_ number: Int) {
        if number < 64 { low |= 1 << UInt64(number) } else { high.insert(number) }
    }

    var count: Int { low.nonzeroBitCount + high.count }

    func union(_ other: DistinctValues) -> DistinctValues {
        DistinctValues(low: low | other.low, high: high.union(other.high))
    }
}
