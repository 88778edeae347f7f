/// The customers of a catalog, in order: listed one by one, or numbered runs that one entry makes.
///
/// A scenario's `count: 10000000` item is ten million customers alike but for their ids
/// (`customer-00000001` ...). Held as one run, it costs a few bytes rather than a gigabyte: a
/// run's customer is made when it is read, and its position is found by reading the number
/// back from the id.
public struct CustomerList: RandomAccessCollection, Sendable, Hashable {
    /// The customers listed one by one, in order.
    private var listed: [Customer] = []
    /// The runs, in order: each holds the customers from its `start` to the next run's.
    private var runs: [Run] = []
    /// How many customers the list holds.
    public private(set) var count = 0

    /// Customers that follow one another in the list, made the same way.
    struct Run: Sendable, Hashable {
        /// The position of the run's first customer.
        var start: Int
        var kind: Kind
        enum Kind: Sendable, Hashable {
            /// Listed customers, from this position in ``CustomerList/listed`` on.
            case listed(from: Int)
            /// Customers numbered from 1.
            case numbered(NumberedCustomers)
        }
    }

    /// An empty list.
    public init() {}

    /// A list of these customers, in this order.
    public init(_ customers: [Customer]) {
        append(contentsOf: customers)
    }

    /// The position of the first customer.
    public var startIndex: Int { 0 }
    /// The position after the last customer.
    public var endIndex: Int { count }

    /// The customer at `position`; a numbered one is made here, its id included.
    public subscript(position: Int) -> Customer {
        precondition(position >= 0 && position < count, "customer position out of range")
        let run = runs.count == 1 ? runs[0] : runs[runIndex(containing: position)]
        switch run.kind {
        case .listed(let from): return listed[from + position - run.start]
        case .numbered(let numbered): return numbered.customer(at: position - run.start)
        }
    }

    /// Adds one customer at the end.
    public mutating func append(_ customer: Customer) {
        if case .listed = runs.last?.kind {} else { runs.append(Run(start: count, kind: .listed(from: listed.count))) }
        listed.append(customer)
        count += 1
    }

    /// Adds customers at the end, in order.
    public mutating func append(contentsOf customers: [Customer]) {
        for customer in customers { append(customer) }
    }

    /// Adds `count` customers alike but for their ids, which are numbered from 1.
    ///
    /// Each id is `prefix` and the customer's number, zero-padded to the width of `count`:
    /// `count: 100` gives `cust-001`, `cust-002` and so on to `cust-100`.
    ///
    /// - Parameters:
    ///   - template: What every customer of the run is; its id is replaced by the numbered one.
    ///   - prefix: The text before each customer's number.
    ///   - count: How many customers, at least 1.
    public mutating func appendNumbered(_ template: Customer, prefix: String, count: Int) {
        guard count > 0 else { return }
        runs.append(Run(start: self.count, kind: .numbered(NumberedCustomers(template, prefix: prefix, count: count))))
        self.count += count
    }

    /// The position of the numbered customer with this id, or nil when no numbered run makes it.
    ///
    /// Listed customers are indexed by the catalog; this reads the number back from the id.
    func numberedPosition(of id: String) -> Int? {
        var id = id
        return id.withUTF8 { bytes in
            for run in runs {
                if case .numbered(let numbered) = run.kind, let offset = numbered.offset(of: bytes) {
                    return run.start + offset
                }
            }
            return nil
        }
    }

    /// The listed customers with their positions, in order.
    var listedCustomers: [(position: Int, customer: Customer)] { representatives(numbered: false) }

    /// Each listed customer and each numbered run's first customer, which stands for its run, with
    /// their positions, in order.
    var representatives: [(position: Int, customer: Customer)] { representatives(numbered: true) }

    private func representatives(numbered: Bool) -> [(position: Int, customer: Customer)] {
        var result: [(position: Int, customer: Customer)] = []
        for (index, run) in runs.enumerated() {
            switch run.kind {
            case .listed(let from):
                let end = index + 1 < runs.count ? runs[index + 1].start : count
                for position in run.start..<end { result.append((position, listed[from + position - run.start])) }
            case .numbered(let customers):
                if numbered { result.append((run.start, customers.customer(at: 0))) }
            }
        }
        return result
    }

    /// The numbered runs with the position of their first customer, in order.
    var numberedRuns: [(start: Int, customers: NumberedCustomers)] {
        runs.compactMap { run in
            if case .numbered(let numbered) = run.kind { return (run.start, numbered) }
            return nil
        }
    }

    /// The index in ``runs`` of the run holding `position`: the last run starting at or before it.
    private func runIndex(containing position: Int) -> Int {
        runs.lastIndex(inPrefixWhere: { $0.start <= position }) ?? 0
    }
}

/// Customers alike but for their ids, which are a prefix and a number zero-padded to the width of the count.
struct NumberedCustomers: Sendable, Hashable {
    /// What every customer of the run is, but for its id.
    let template: Customer
    /// The bytes of the text before each number.
    let prefix: [UInt8]
    /// How many customers.
    let count: Int
    /// How many digits each number has: those of `count`.
    let width: Int

    init(_ template: Customer, prefix: String, count: Int) {
        self.template = template
        self.prefix = Array(prefix.utf8)
        self.count = count
        var width = 1
        var rest = count
        while rest >= 10 {
            rest /= 10
            width += 1
        }
        self.width = width
    }

    /// The customer at `offset` in the run (from 0): number `offset + 1`.
    func customer(at offset: Int) -> Customer {
        var customer = template
        customer.id = id(number: offset + 1)
        return customer
    }

    /// The id of customer `number`, from 1.
    func id(number: Int) -> String {
        String(unsafeUninitializedCapacity: prefix.count + width) { text in
            _ = text.initialize(fromContentsOf: prefix)
            var rest = number
            for position in (prefix.count..<(prefix.count + width)).reversed() {
                text[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            return prefix.count + width
        }
    }

    /// The offset in the run (from 0) of the customer with the id in `bytes`, or nil when the run has none.
    func offset(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count == prefix.count + width, bytes.starts(with: prefix) else { return nil }
        var number = 0
        for byte in bytes[prefix.count...] {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            number = number * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return number >= 1 && number <= count ? number - 1 : nil
    }

    /// The offsets in this run (from 0) whose ids an `earlier` run also makes: always one range.
    ///
    /// Both runs' ids are a prefix and a fixed number of digits. When one prefix is the other's
    /// followed by digits `d`, the ids they share are those whose numbers line up behind `d`,
    /// which are consecutive in either run.
    func offsetsShared(with earlier: NumberedCustomers) -> Range<Int> {
        guard prefix.count + width == earlier.prefix.count + earlier.width else { return 0..<0 }
        // The numbers of this run (first ... last, within 1 ... count) the shared ids have.
        let first: Int
        let last: Int
        if prefix.count >= earlier.prefix.count {
            // This prefix is the earlier one's followed by digits d: this run's number m is the earlier one's d·10^width + m.
            guard prefix.starts(with: earlier.prefix), let d = Self.number(prefix[earlier.prefix.count...]),
                d <= earlier.count
            else { return 0..<0 }
            let base = d * Self.power(width)
            (first, last) = (max(1, 1 - base), min(count, earlier.count - base))
        } else {
            // The earlier prefix is this one's followed by digits d: this run's number m is d·10^(earlier width) + n.
            guard earlier.prefix.starts(with: prefix), let d = Self.number(earlier.prefix[prefix.count...]),
                d <= count
            else { return 0..<0 }
            let base = d * Self.power(earlier.width)
            (first, last) = (max(1, base + 1), min(count, base + earlier.count))
        }
        return first <= last ? (first - 1)..<last : 0..<0
    }

    /// The number the digits spell, or nil when a byte is not a digit; 0 for none.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        // More digits than a count can have share nothing with a count's ids, and would overflow.
        guard digits.count <= 18 else { return nil }
        var number = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            number = number * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return number
    }

    /// 10 to the power `exponent` (at most 8 here: a count has at most 8 digits).
    private static func power(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { product, _ in product * 10 }
    }
}
