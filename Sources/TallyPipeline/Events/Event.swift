/// One usage event, as an API gateway or SDK reports it.
///
/// The seven required fields are those of every metering system: an
/// idempotency key (`id`), who sent it (`tenant`, `source`), who used what
/// (`customer`, `metric`), how much (`quantity`) and when (`timestamp`).
public struct Event: Sendable, Hashable {
    /// The idempotency key, 1 to 255 characters; unique per tenant.
    public var id: String
    /// The account that owns the API and sent the event (`tenant_id`); idempotency keys are unique per tenant.
    public var tenant: String
    /// The customer billed for the usage (`customer_id`): a ``Customer/id`` of the catalog.
    public var customer: String
    /// What was used (`metric`): a ``Metric/key`` of the catalog, such as `api_calls`.
    public var metric: String
    /// Exact; fractional allowed; negative only for metrics that allow it.
    public var quantity: ExactDecimal
    /// When the usage happened (not when it was received).
    public var timestamp: Instant
    /// The gateway or SDK that sent it: `kong`, `aws`, `azure`, `sdk`...
    public var source: String
    /// Optional string attributes (`region`, `endpoint`...) that metrics can group by or read a value from.
    public var properties: EventProperties

    /// Creates an event from its fields; nothing is checked until a ``Meter`` ingests it.
    public init(
        id: String, tenant: String, customer: String, metric: String,
        quantity: ExactDecimal, timestamp: Instant, source: String,
        properties: EventProperties = EventProperties()
    ) {
        self.id = id
        self.tenant = tenant
        self.customer = customer
        self.metric = metric
        self.quantity = quantity
        self.timestamp = timestamp
        self.source = source
        self.properties = properties
    }

    /// The longest event id accepted, in characters.
    public static let maxIDLength = 255
}

/// An event's optional string properties, kept sorted by key.
///
/// Sorted storage (not a Dictionary) keeps every walk over the properties in one
/// order, and a handful of pairs is faster to scan than to hash.
public struct EventProperties: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The properties as key-value pairs, sorted by key.
    public private(set) var pairs: [(key: String, value: String)]

    /// Creates an empty set of properties.
    public init() { pairs = [] }

    /// Creates properties from a dictionary, sorting its pairs by key.
    public init(_ dictionary: [String: String]) {
        pairs = dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// Creates properties from a literal such as `["region": "eu"]`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// The value of the property named `key`, or nil when the event lacks it; setting nil removes it.
    public subscript(key: String) -> String? {
        get {
            for pair in pairs where pair.key == key { return pair.value }
            return nil
        }
        set {
            let index = pairs.firstIndex { $0.key >= key } ?? pairs.endIndex
            if index < pairs.endIndex && pairs[index].key == key {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.insert((key: key, value: newValue), at: index)
            }
        }
    }

    /// Whether the event has no properties.
    public var isEmpty: Bool { pairs.isEmpty }
    /// The number of properties.
    public var count: Int { pairs.count }

    /// Iterates over the pairs in key order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }

    /// Whether both hold the same pairs (the order is always key order).
    public static func == (lhs: EventProperties, rhs: EventProperties) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the pairs in key order.
    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
    }
}
