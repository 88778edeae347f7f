/// Everything the pipeline needs to know about what is sold and to whom.
///
/// A catalog is validated once, when it is made: an invalid one is refused with
/// every problem found, each with the path of the offending value, so the
/// per-event path never has to check prices or tiers again.
public struct Catalog: Sendable {
    /// The one currency every price and invoice of the catalog is in.
    public let currency: Currency
    /// The billable metrics, by which events are counted and aggregated.
    public let metrics: [Metric]
    /// The price plans customers subscribe to.
    public let plans: [Plan]
    /// The customers, in the order their invoices are numbered and listed.
    public let customers: CustomerList
    /// Discounts on customers' invoices, applied in this order.
    public let discounts: [Discount]
    /// Sales tax rates by jurisdiction.
    public let taxRates: [TaxRate]
    /// Prepaid credit grants, which pay invoices after tax.
    public let credits: [PrepaidCredit]
    /// When tax is rounded: per invoice line (the default) or once per invoice.
    public var taxRounding: TaxRounding = .line

    let metricIndexByKey: [String: Int]
    let planIndexByID: [String: Int]
    /// The positions of the customers listed one by one; numbered ones are found from their ids.
    let listedCustomerPositions: [String: Int]

    /// Builds and validates a catalog.
    ///
    /// - Throws: ``CatalogErrors`` listing every problem, in the order of the inputs.
    public init(
        currency: Currency, metrics: [Metric], plans: [Plan], customers: [Customer],
        discounts: [Discount] = [], taxRates: [TaxRate] = [], credits: [PrepaidCredit] = []
    ) throws(CatalogErrors) {
        try self.init(
            currency: currency, metrics: metrics, plans: plans, customers: CustomerList(customers),
            discounts: discounts, taxRates: taxRates, credits: credits)
    }

    /// Builds and validates a catalog whose customers may come in numbered runs.
    ///
    /// - Throws: ``CatalogErrors`` listing every problem, in the order of the inputs.
    public init(
        currency: Currency, metrics: [Metric], plans: [Plan], customers: CustomerList,
        discounts: [Discount] = [], taxRates: [TaxRate] = [], credits: [PrepaidCredit] = []
    ) throws(CatalogErrors) {
        self.currency = currency
        self.metrics = metrics
        self.plans = plans
        self.customers = customers
        self.discounts = discounts
        self.taxRates = taxRates
        self.credits = credits
        var validator = CatalogValidator()
        metricIndexByKey = validator.index(metrics.map(\.key), at: ["metrics"], idKey: "key", what: "metric")
        planIndexByID = validator.index(plans.map(\.id), at: ["plans"], idKey: "id", what: "plan")
        listedCustomerPositions = validator.index(customers)
        validator.validate(self)
        if !validator.errors.isEmpty { throw CatalogErrors(errors: validator.errors) }
    }

    /// The metric with this key, or nil when the catalog has none.
    public func metric(_ key: String) -> Metric? { metricIndexByKey[key].map { metrics[$0] } }
    /// The plan with this id, or nil when the catalog has none.
    public func plan(_ id: String) -> Plan? { planIndexByID[id].map { plans[$0] } }
    /// The customer with this id, or nil when the catalog has none.
    public func customer(_ id: String) -> Customer? { customerIndex(id).map { customers[$0] } }

    /// The position of a metric in ``metrics``: the interned id the per-event path uses.
    public func metricIndex(_ key: String) -> Int? { metricIndexByKey[key] }
    /// The position of a customer in ``customers``: the interned id the per-event path uses.
    public func customerIndex(_ id: String) -> Int? {
        listedCustomerPositions[id] ?? customers.numberedPosition(of: id)
    }
    /// The position of a plan in ``plans``, or nil when the catalog has none with this id.
    public func planIndex(_ id: String) -> Int? { planIndexByID[id] }

    /// The plan of the customer at `customerIndex`.
    ///
    /// Validation guarantees it exists.
    func planOfCustomer(at customerIndex: Int) -> Plan {
        plans[planIndexByID[customers[customerIndex].plan] ?? 0]
    }
}

/// One step in the path to a value: a key of a mapping or an index in a list.
public enum CatalogPathComponent: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral
{
    /// A key of a mapping, such as `plans`.
    case key(String)
    /// A position in a list, from 0.
    case index(Int)

    /// Creates a key component from a string literal.
    public init(stringLiteral value: String) { self = .key(value) }
    /// Creates an index component from an integer literal.
    public init(integerLiteral value: Int) { self = .index(value) }

    /// The component as it appears in a path: `plans` or `[0]`.
    public var description: String {
        switch self {
        case .key(let key): key
        case .index(let index): "[\(index)]"
        }
    }
}

/// A problem with one value of a catalog.
public struct CatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the value is, such as `plans[0].charges[1].tiers[2].up_to`.
    public let path: [CatalogPathComponent]
    /// What is wrong and what was expected.
    public let message: String

    /// Creates a problem at `path` with a message saying what is wrong and what was expected.
    public init(path: [CatalogPathComponent], message: String) {
        self.path = path
        self.message = message
    }

    /// The path as text: `plans[0].charges[1].tiers[2].up_to`.
    public var pathDescription: String {
        path.enumerated().map { offset, component in
            if case .key = component, offset > 0 { return "." + component.description }
            return component.description
        }.joined()
    }

    /// The path and the message, as one line: `plans[0].id: is empty, expected ...`.
    public var description: String { "\(pathDescription): \(message)" }
}

/// Every problem found in a catalog.
public struct CatalogErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in the order of the catalog's inputs.
    public let errors: [CatalogError]
    /// Every problem, one a line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
