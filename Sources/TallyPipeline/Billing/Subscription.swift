/// How much of a period a customer's subscription covers, in whole days.
struct ActiveTime: Sendable, Equatable {
    /// Days with any active time, a started day counting whole.
    var activeDays: Int64
    var periodDays: Int64

    var isFull: Bool { activeDays >= periodDays }

    static let millisecondsPerDay: Int64 = 86_400_000

    /// The overlap of the subscription `[start, end)` with the period, or nil when they do not meet.
    ///
    /// A missing start means subscribed from the first period; a missing end, never ending.
    init?(customer: Customer, period: BillingPeriod) {
        let from = Swift.max(customer.start ?? period.start, period.start)
        let to = Swift.min(customer.end ?? period.end, period.end)
        guard from < to else { return nil }
        activeDays = ActiveTime.wholeDays((to - from).milliseconds)
        periodDays = ActiveTime.wholeDays(period.length.milliseconds)
    }

    static func wholeDays(_ milliseconds: Int64) -> Int64 {
        let (days, rest) = milliseconds.quotientAndRemainder(dividingBy: millisecondsPerDay)
        return rest > 0 ? days + 1 : days
    }
}
