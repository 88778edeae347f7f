/// One prepaid grant of a customer and what is left of it.
struct CreditGrantState: Sendable, Equatable {
    var catalogIndex: Int
    var grantedInPeriod: Int
    /// The last period the grant pays in; nil for never expiring.
    var lastUsablePeriod: Int?
    var remaining: ExactDecimal
    /// Set once the grant has expired and its remainder was reported.
    var expired = false

    init(_ credit: PrepaidCredit, catalogIndex: Int) {
        self.catalogIndex = catalogIndex
        grantedInPeriod = credit.grantedInPeriod
        lastUsablePeriod = credit.expiresAfterPeriods.map { credit.grantedInPeriod + $0 - 1 }
        remaining = credit.amount
    }

    func isUsable(in period: Int) -> Bool {
        !expired && grantedInPeriod <= period && lastUsablePeriod.map { period <= $0 } ?? true
    }
}

/// What settlement took from the customer's credits for one invoice.
struct Settlement: Sendable, Equatable {
    var applications: [CreditApplication]
    var applied: ExactDecimal
    var amountDue: ExactDecimal
    var expired: [ExpiredCredit]
}

/// Stage 7: prepaid credits (oldest grant first), then the credit balance, pay the taxed total.
///
/// Credits are taken in whole minor units, so the amount due stays an exact
/// amount of the currency. What remains carries to the next period; a grant expires on the invoice that closes its
/// last usable period, or on the first invoice after that period.
enum SettlementStage {
    /// Settles one invoice's `total` of `period`.
    ///
    /// `closesPeriod` is false for an in-advance invoice: the period's in-arrears invoice comes after it, and a grant
    /// usable in the period still pays that one.
    static func run(
        total: ExactDecimal, period: Int, closesPeriod: Bool = true, grants: inout [CreditGrantState],
        balance: inout ExactDecimal, currency: Currency, context: BillingContext
    ) throws(BillingError) -> Settlement {
        try context.checked(.settlement, "applying credits") { () throws(DecimalError) -> Settlement in
            var due = ExactDecimal.max(.zero, total)
            var applications: [CreditApplication] = []
            for index in grants.indices where grants[index].isUsable(in: period) && due > .zero {
                let taken = ExactDecimal.min(
                    try grants[index].remaining.rounded(toScale: currency.minorDigits, .down), due)
                guard taken > .zero else { continue }
                grants[index].remaining = try grants[index].remaining - taken
                due = try due - taken
                applications.append(
                    CreditApplication(
                        source: .prepaid(
                            grantedInPeriod: grants[index].grantedInPeriod, catalogIndex: grants[index].catalogIndex),
                        amount: taken, remaining: grants[index].remaining))
            }
            if due > .zero {
                let taken = ExactDecimal.min(try balance.rounded(toScale: currency.minorDigits, .down), due)
                if taken > .zero {
                    balance = try balance - taken
                    due = try due - taken
                    applications.append(CreditApplication(source: .balance, amount: taken, remaining: balance))
                }
            }
            var expired: [ExpiredCredit] = []
            for index in grants.indices where !grants[index].expired {
                guard let last = grants[index].lastUsablePeriod, last < period || (closesPeriod && last == period)
                else { continue }
                if grants[index].remaining > .zero {
                    expired.append(
                        ExpiredCredit(
                            grantedInPeriod: grants[index].grantedInPeriod, catalogIndex: grants[index].catalogIndex,
                            amount: grants[index].remaining))
                }
                grants[index].remaining = .zero
                grants[index].expired = true
            }
            let applied = try ExactDecimal.sum(applications.lazy.map(\.amount))
            return Settlement(applications: applications, applied: applied, amountDue: due, expired: expired)
        }
    }
}
