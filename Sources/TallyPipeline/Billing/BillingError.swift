/// Why billing stopped, with the customer, period and stage it stopped in.
public struct BillingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The billing stage, in the order they run.
    public enum Stage: String, Sendable, Hashable, CaseIterable {
        case setup, rollover, rating, contract, discounts, tax, routing, settlement, invoice
    }

    /// The stage billing stopped in (`setup` for a problem before the stages, such as an unknown plan).
    public var stage: Stage
    /// The customer being billed; nil for a problem before any customer.
    public var customer: String?
    /// The 0-based period index; nil for a problem before any period.
    public var period: Int?
    /// What was being computed, such as `charge 'API calls'`.
    public var detail: String
    /// The arithmetic failure underneath, when there is one.
    public var cause: DecimalError?

    /// Creates an error naming where billing stopped and what it was computing.
    public init(stage: Stage, customer: String?, period: Int?, detail: String, cause: DecimalError? = nil) {
        self.stage = stage
        self.customer = customer
        self.period = period
        self.detail = detail
        self.cause = cause
    }

    /// The error as one sentence: `billing failed in rating for customer 'acme' in period 0: ...`.
    public var description: String {
        var text = "billing failed in \(stage.rawValue)"
        if let customer { text += " for customer '\(customer)'" }
        if let period { text += " in period \(period)" }
        text += ": \(detail)"
        if let cause { text += ": \(cause)" }
        return text
    }
}

/// Who and when is being billed, so every arithmetic failure names them.
struct BillingContext: Sendable {
    var customer: String
    var period: Int
    /// The customer's number in the usage being billed, looked up once per invoice (nil: no usage).
    var usageNumber: Int32?
    /// The usage's number of each charge's metric, in the plan's charge order (nil: no such usage),
    /// looked up once per plan rather than once per charge of every invoice.
    var chargeMetrics: [Int32?]
    /// When the subscription's time in the period ends, if before the period's end (nil: at the
    /// period's end): where prorated charges stop counting days.
    var activeEnd: Instant? = nil

    /// Runs exact arithmetic, turning an overflow into a ``BillingError`` that says where.
    func checked<T>(
        _ stage: BillingError.Stage, _ detail: @autoclosure () -> String, _ body: () throws(DecimalError) -> T
    ) throws(BillingError) -> T {
        do {
            return try body()
        } catch {
            throw BillingError(stage: stage, customer: customer, period: period, detail: detail(), cause: error)
        }
    }
}
