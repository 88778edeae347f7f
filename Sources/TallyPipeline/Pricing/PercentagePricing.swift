extension Pricing {
    /// A revenue share priced event by event, in (timestamp, event id) order.
    ///
    /// The first `freeEvents` events pay nothing and do not use up the free
    /// amount. Of the remaining events, the first `freeAmount` of cumulative value
    /// is waived; an event straddling it pays on the part above, and an event
    /// wholly inside it pays nothing (not even the fixed fee or the minimum).
    /// Every other event pays `billable value x rate / 100 + fixed fee`, clamped
    /// to `[perEventMin, perEventMax]` when set.
    ///
    /// With ``PercentageTerms/FreeAllowance/firstLimit`` (Lago's rule) the two allowances run side by
    /// side instead: the free allowance ends at the `freeEvents`-th event or when `freeAmount` of value
    /// has been waived, whichever comes first, and every event after that pays on its whole value.
    public static func percentage(events: [EventValue], terms: PercentageTerms) throws(DecimalError) -> Rated {
        let rate = try percentFactor(terms.rate)
        var freeAllowance = terms.freeAmount
        var breakdown = PercentageBreakdown(
            events: events.count, freeEvents: 0, freeValue: .zero, billableValue: .zero,
            chargedEvents: 0, raisedToMinimum: 0, loweredToMaximum: 0)
        var totalValue = ExactDecimal.zero
        var total = ExactDecimal.zero
        // With only one allowance set, both rules are the same.
        let firstLimit = terms.freeAllowance == .firstLimit && terms.freeEvents > 0 && terms.freeAmount > .zero
        for (position, event) in events.sorted().enumerated() {
            totalValue = try totalValue + event.value
            if firstLimit {
                // Within the event limit the free amount decides; past it, nothing is free.
                if position >= terms.freeEvents { freeAllowance = .zero }
            } else if position < terms.freeEvents {
                breakdown.freeEvents += 1
                continue
            }
            let waived = ExactDecimal.min(ExactDecimal.max(.zero, event.value), freeAllowance)
            freeAllowance = try freeAllowance - waived
            breakdown.freeValue = try breakdown.freeValue + waived
            let billable = try event.value - waived
            if billable <= .zero {
                // Under Lago's rule an event inside both limits is a free event as well as free value.
                if firstLimit && waived > .zero { breakdown.freeEvents += 1 }
                continue
            }
            breakdown.billableValue = try breakdown.billableValue + billable
            breakdown.chargedEvents += 1
            var fee = try (try billable * rate) + terms.fixedFee
            if let minimum = terms.perEventMin, fee < minimum {
                fee = minimum
                breakdown.raisedToMinimum += 1
            }
            if let maximum = terms.perEventMax, fee > maximum {
                fee = maximum
                breakdown.loweredToMaximum += 1
            }
            total = try total + fee
        }
        return Rated(quantity: totalValue, amount: total, breakdown: .percentage(breakdown))
    }
}
