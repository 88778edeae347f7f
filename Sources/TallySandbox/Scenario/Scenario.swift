import TallyCatalogFile
import TallyGateways
import TallyPipeline

/// A scenario: a catalog, the traffic to generate from a seed, the faults to
/// inject, and the checks its results must pass.
///
/// Scenarios are written in YAML (see README, "Scenario format") and loaded
/// by ``ScenarioLoader``; this is their validated, typed form.
public struct Scenario: Sendable {
    /// Also the name of its folder of golden files, `Fixtures/<name>/`.
    public var name: String
    public var description: String
    /// The seed of every number the generators draw.
    public var seed: UInt64
    /// Where its text came from, for messages.
    public var file: String
    public var schedule: PeriodSchedule
    public var catalog: Catalog
    /// The tenant every generated event carries.
    public var tenant: String
    public var ingest: IngestSettings
    public var traffic: [Traffic]
    public var events: [ExplicitEvent]
    public var faults: [Fault]
    public var expectations: Expectations
    /// The gateway in front of the pipeline; nil when the scenario sets none of its keys, and
    /// then every generated event goes straight to metering, as before the request path existed.
    public var requestPath: RequestPathSettings? = nil
    /// Event files read beside the generated traffic (`events_from:`), in the scenario's order.
    public var inputs: [EventFileInput] = []
    /// Where each plan is written in the file (line, column), for errors found only when billing.
    public var planPositions: [String: SourcePosition] = [:]

    /// The number of events the scenario sends, re-sends included, not counting its event files
    /// (whose records are counted as they are read: see ``ScenarioRun/inputs``).
    public var totalEvents: Int {
        let generated = traffic.reduce(0) { $0 + $1.events }
        return generated + events.count
            + faults.reduce(0) { $0 + ($1.kind == .duplicate ? $1.amount.count(of: generated) : 0) }
    }
}

/// An event file a scenario bills (`events_from:`), or `tally run --events` does.
public struct EventFileInput: Sendable, Hashable {
    /// Where to read it: relative paths are resolved against the scenario's folder.
    public var path: String
    /// The path as the scenario wrote it, for dead letters' `file:line`.
    public var name: String
    public var format: RecordFormat
    /// For gateway formats: the mapping of their records to events.
    public var mapping: GatewayMapping?

    public init(path: String, name: String, format: RecordFormat, mapping: GatewayMapping?) {
        self.path = path
        self.name = name
        self.format = format
        self.mapping = mapping
    }
}

/// A 1-based line and column in a scenario file.
public struct SourcePosition: Sendable, Hashable {
    public var line: Int
    public var column: Int
}

/// A stream of synthetic events for one metric.
public struct Traffic: Sendable, Hashable {
    public var metric: String
    /// Customer ids in catalog order; the whole catalog for `customers: all`.
    public var customers: TrafficCustomers
    /// Events over the whole scenario, spread over its periods in proportion to their length.
    public var events: Int
    public var quantity: QuantityDistribution
    public var arrival: ArrivalPattern
    public var spread: CustomerSpread
    public var source: String
    /// Property values to draw from, uniformly, per property; sorted by key.
    public var properties: [(key: String, values: [String])]
    /// When set, each event is written as this gateway's log record and read back by its adapter before metering.
    public var gateway: Gateway? = nil
    /// How the gateway delivers the events (`delivery:`); nil: each is received at its time plus the ingest delay.
    public var delivery: Delivery? = nil

    public static func == (lhs: Traffic, rhs: Traffic) -> Bool {
        lhs.metric == rhs.metric && lhs.customers == rhs.customers && lhs.events == rhs.events
            && lhs.quantity == rhs.quantity && lhs.arrival == rhs.arrival && lhs.spread == rhs.spread
            && lhs.source == rhs.source && lhs.gateway == rhs.gateway && lhs.delivery == rhs.delivery
            && lhs.properties.map(\.key) == rhs.properties.map(\.key)
            && lhs.properties.map(\.values) == rhs.properties.map(\.values)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(metric)
        hasher.combine(events)
    }
}

/// The customers a traffic spreads over: listed by id, or the whole catalog, whose ids are made
/// when read (a `count:` item's ten million are not spelled out to check a scenario).
public enum TrafficCustomers: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// These customers, by id, in catalog order.
    case listed([String])
    /// Every customer of the catalog, in its order.
    case all(CustomerList)

    /// These customers, by id.
    public init(arrayLiteral ids: String...) { self = .listed(ids) }

    /// The position of the first customer.
    public var startIndex: Int { 0 }
    /// The position after the last customer.
    public var endIndex: Int {
        switch self {
        case .listed(let ids): ids.count
        case .all(let customers): customers.count
        }
    }

    /// The id of the customer at `position`.
    public subscript(position: Int) -> String {
        switch self {
        case .listed(let ids): ids[position]
        case .all(let customers): customers[position].id
        }
    }

    /// The ids, spelled out: what generating a run's events reads, once per traffic.
    public var ids: [String] {
        switch self {
        case .listed(let ids): ids
        case .all(let customers): customers.map(\.id)
        }
    }
}

/// How a generated event's quantity is drawn; drawn values are rounded half-up to `decimals` digits.
public enum QuantityDistribution: Sendable, Hashable {
    case constant(ExactDecimal)
    /// Uniform over `[low, high]` in steps of 10^-decimals.
    case uniform(low: ExactDecimal, high: ExactDecimal, decimals: Int)
    /// Normal; negative draws become 0 (usage is never negative).
    case normal(mean: ExactDecimal, stddev: ExactDecimal, decimals: Int)
    case logNormal(mu: ExactDecimal, sigma: ExactDecimal, decimals: Int)
    case pareto(scale: ExactDecimal, shape: ExactDecimal, decimals: Int)
}

/// How events arrive over each period.
public enum ArrivalPattern: String, Sendable, Hashable, CaseIterable {
    case uniform, poisson, diurnal, burst
}

/// How a traffic's events split across its customers.
public enum CustomerSpread: Sendable, Hashable {
    case even
    /// Customer k (1-based, in the traffic's order) gets a share proportional to 1/k^s.
    case zipf(ExactDecimal)
}

/// A hand-written event, for edge cases a generator would hit only by chance.
public struct ExplicitEvent: Sendable, Hashable {
    public var event: Event
    /// When the pipeline receives it; default: its timestamp + the ingest delay.
    public var receivedAt: Instant?
}

/// Something that goes wrong on the way in, applied to the generated traffic.
public struct Fault: Sendable, Hashable {
    public var kind: Kind
    public var amount: Amount
    /// clock_skew: how far ahead of ingest time; late: how far behind.
    public var offset: TimeSpan?
    /// Only this traffic's events (by metric); nil for all generated traffic.
    public var metric: String?

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A re-send of an event already sent, later in the stream, same id and content.
        case duplicate
        /// Timestamp moved ahead of ingest time by `offset` (default 6m).
        case clockSkew = "clock_skew"
        /// Timestamp moved back by `offset` (default 36h): accepted, flagged late.
        case late
        /// Timestamp moved back past the max-age window.
        case tooOld = "too_old"
        /// A required field missing or a quantity that is not a number.
        case malformed
        case unknownCustomer = "unknown_customer"
        case unknownMetric = "unknown_metric"
    }

    /// An exact count, or a fraction of the generated events.
    public enum Amount: Sendable, Hashable {
        case count(Int)
        /// Numerator and denominator of an exact fraction; the count is floor(fraction x events).
        case fraction(ExactDecimal)

        public func count(of events: Int) -> Int {
            switch self {
            case .count(let n): return n
            case .fraction(let f):
                guard let product = try? (try f * ExactDecimal(events)).rounded(toScale: 0, .floor) else { return 0 }
                return Int(product.description) ?? 0
            }
        }
    }
}

/// Inline checks on a run's results, on top of the golden files.
public struct Expectations: Sendable, Hashable {
    /// Rejected and dead-lettered counts by reason code; reasons not listed are not checked.
    public var outcomes: [OutcomeReason: Int] = [:]
    public var accepted: Int?
    public var late: Int?
    /// Per customer: the sum of its invoice totals over all periods, or one per period.
    public var invoiceTotals: [String: [ExactDecimal]] = [:]
    public var invoiceTotalIsPerPeriod: [String: Bool] = [:]
    /// Per customer, same shape: amounts due.
    public var amountsDue: [String: [ExactDecimal]] = [:]
    public var amountDueIsPerPeriod: [String: Bool] = [:]

    /// Gateway refusals by reason; reasons not listed are not checked.
    public var refused: [AccessRefusal: Int] = [:]
    /// Flagged requests by flag code (`margin_warning`, `throttled`).
    public var flagged: [String: Int] = [:]
    /// Per customer: its refusals, flags and first refusal.
    public var requestsByCustomer: [String: CustomerRequestExpectations] = [:]
    /// The reconciliation's figures by name (`served`, `lost_in_delivery`...): the run's, and per customer.
    public var reconciliation: [String: Int] = [:]
    public var reconciliationByCustomer: [String: [String: Int]] = [:]

    public var isEmpty: Bool {
        outcomes.isEmpty && accepted == nil && late == nil && invoiceTotals.isEmpty && amountsDue.isEmpty
            && refused.isEmpty && flagged.isEmpty && requestsByCustomer.isEmpty && reconciliation.isEmpty
            && reconciliationByCustomer.isEmpty
    }
}

/// Checks on one customer's requests at the gateway.
public struct CustomerRequestExpectations: Sendable, Hashable {
    public var refused: [AccessRefusal: Int] = [:]
    public var flagged: [String: Int] = [:]
    /// Whether `firstRefusal` is checked.
    public var checksFirstRefusal = false
    /// The instant of the customer's first refused request; nil for none.
    public var firstRefusal: Instant?
}

/// The gateway a scenario puts in front of the pipeline (see Docs/Semantics.md, "The request path").
public struct RequestPathSettings: Sendable, Hashable {
    /// How long a cached standing is used; nil for exact decisions.
    public var cacheRefresh: TimeSpan?
}
