extension RandomAccessCollection where Index == Int {
    /// The index of the last element that satisfies `isInPrefix`, found by binary search; nil when none does.
    ///
    /// The collection must be partitioned by the predicate: every element satisfying it comes before
    /// every element that does not. Run maps (customer runs, the YAML items they came from) use it to find
    /// the run holding a position: the last run starting at or before it.
    package func lastIndex(inPrefixWhere isInPrefix: (Element) -> Bool) -> Int? {
        var (low, high) = (startIndex, endIndex)
        while low < high {
            let middle = low + (high - low) / 2
            if isInPrefix(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low > startIndex ? low - 1 : nil
    }
}
