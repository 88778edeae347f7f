import TallyPipeline

/// An invoice as a person reads one: its lines, how each was priced, and its totals.
struct InvoiceView {
    struct Line {
        var name: String
        /// For a customer with several subscriptions, the id of the one the line bills; nil otherwise.
        var subscription: String?
        var quantity: String
        /// One sentence per step of the arithmetic: tiers reached, included units, proration.
        var how: [String]
        var amount: String
    }
    struct Adjustment {
        var label: String
        var amount: String
    }

    var number: String
    var customer: String
    var period: String
    var destination: String
    /// When it was issued and how it bills, for invoices that say so (`issued`): a fee in advance is issued when
    /// its days start, which the period alone does not show.
    var issued: String?
    var lines: [Line]
    var subtotal: String
    var discounts: [Adjustment]
    var taxes: [Adjustment]
    var total: String
    var credits: [Adjustment]
    var amountDue: String
    var notes: [String]

    init(_ invoice: Invoice) {
        let currency = invoice.currency
        func money(_ amount: ExactDecimal) -> String { grouped(currency.format(amount)) + " " + currency.code }
        number = invoice.number
        customer = invoice.customer
        period =
            "\(LineChart.dayText(utcDay(invoice.period.start))) to \(LineChart.dayText(utcDay(invoice.period.end) - 1))"
        destination = invoice.destination == .card ? "charged to the card on file" : "sent to accounts receivable"
        issued = invoice.issued.map {
            "issued \(LineChart.dayText(utcDay($0))), billed \(invoice.inAdvance ? "in advance" : "in arrears")"
        }
        lines = invoice.lines.map { line in
            var how = line.breakdown.map { Self.how($0, quantity: line.quantity ?? .zero, currency: currency) } ?? []
            switch line.kind {
            case .charge: break
            case .chargeMinimumTrueUp: how.append("brings the charge up to its minimum amount")
            case .minimumCommitmentTrueUp: how.append("brings the invoice up to the plan's minimum commitment")
            case .spendCapAdjustment: how.append("brings the invoice down to the plan's spend cap")
            case .commitmentPrepayment: how.append("the term's prepaid commitment, invoiced on its first invoice")
            case .commitmentDrawdown: how.append("usage drawn from the prepaid commitment")
            case .commitmentTrueUp: how.append("the unused rest of the commitment at the end of its term")
            }
            if !line.rolloverUnitsUsed.isZero {
                how.insert("\(grouped(line.rolloverUnitsUsed.description)) rolled-over units used first", at: 0)
            }
            if line.unroundedAmount != line.amount {
                how.append(
                    "exactly \(line.unroundedAmount.description), rounded half-up to \(currency.format(line.amount))")
            }
            let subscription = line.subscription.flatMap {
                invoice.subscriptions.indices.contains($0) ? invoice.subscriptions[$0] : nil
            }
            return Line(
                name: line.name, subscription: subscription,
                quantity: line.quantity.map { grouped($0.description) } ?? "", how: how, amount: money(line.amount))
        }
        subtotal = money(invoice.subtotal)
        discounts = invoice.discounts.map { discount in
            var label = discount.name
            if !discount.carriedForward.isZero {
                label += " (\(money(discount.carriedForward)) carried to the next invoice)"
            }
            return Adjustment(label: label, amount: "-" + money(discount.amount))
        }
        taxes = invoice.taxes.map {
            Adjustment(label: "\($0.name), \($0.jurisdiction), \($0.rate.description)%", amount: money($0.amount))
        }
        total = money(invoice.total)
        credits = invoice.credits.map { credit in
            let source: String
            switch credit.source {
            case .balance: source = "credit balance"
            case .prepaid(let period, let index):
                source = "prepaid credit \(index + 1), granted in period \(period + 1)"
            }
            return Adjustment(label: "\(source) (\(money(credit.remaining)) left)", amount: "-" + money(credit.amount))
        }
        amountDue = money(invoice.amountDue)
        var notes = invoice.expiredCredits.map {
            "\(money($0.amount)) of prepaid credit \($0.catalogIndex + 1) expired unused"
        }
        if let rollover = invoice.rollover {
            notes.append(
                "Rollover of \(rollover.metric): \(grouped(rollover.available.description)) units available, "
                    + "\(grouped(rollover.used.description)) used, \(grouped(rollover.expired.description)) expired, "
                    + "\(grouped(rollover.carriedForward.description)) carried forward")
        }
        self.notes = notes
    }

    /// How one charge was priced, in the words of a price sheet.
    static func how(_ breakdown: RatingBreakdown, quantity: ExactDecimal, currency: Currency) -> [String] {
        func n(_ value: ExactDecimal) -> String { grouped(value.description) }
        func tier(_ s: TierSlice) -> String {
            var text = "tier \(s.tier): \(n(s.units)) x \(s.unitPrice.description)"
            if !s.flatFee.isZero { text += " + flat fee \(s.flatFee.description)" }
            return text + " = \(n(s.amount))"
        }
        switch breakdown {
        case .flat(let flat):
            return flat.prorated
                ? [
                    "\(currency.format(flat.fullAmount)) for the period x \(flat.activeDays)/\(flat.periodDays) days"
                        + " active"
                ]
                : ["flat fee \(currency.format(flat.fullAmount))"]
        case .perUnit(let price):
            return ["\(n(quantity)) x \(price.description)"]
        case .graduated(let slices):
            return slices.map(tier)
        case .volume(let slice):
            return ["all \(n(slice.units)) units at tier \(slice.tier)'s price: " + tier(slice)]
        case .package(let p):
            var text = "\(n(p.packages)) packages of \(n(p.packageSize)) x \(p.packagePrice.description)"
            if !p.freeUnits.isZero { text += " (after \(n(p.freeUnits)) free units)" }
            return [text]
        case .percentage(let p):
            var lines = [
                "\(p.events) events; \(p.chargedEvents) paid a fee on a billable value of \(n(p.billableValue))"
            ]
            if p.freeEvents > 0 || !p.freeValue.isZero {
                lines.append("\(p.freeEvents) free events, \(n(p.freeValue)) of free value")
            }
            if p.raisedToMinimum > 0 { lines.append("\(p.raisedToMinimum) fees raised to the minimum") }
            if p.loweredToMaximum > 0 { lines.append("\(p.loweredToMaximum) fees lowered to the maximum") }
            return lines
        case .graduatedPercentage(let slices):
            return slices.map { s in
                var text = "tier \(s.tier): \(n(s.value)) x \(s.rate.description)%"
                if !s.flatFee.isZero { text += " + flat fee \(s.flatFee.description)" }
                return text + " = \(n(s.amount))"
            }
        case .stairstep(let tier, let price):
            return ["\(n(quantity)) units fall in band \(tier): \(price.description)"]
        case .tieredBlocks(let mode, let slices):
            return slices.map { b in
                "tier \(b.tier): \(n(b.units)) units in \(n(b.blocks)) blocks of \(n(b.blockSize)) x \(b.blockPrice.description)"
                    + " = \(n(b.amount))"
            } + (mode == .topTier ? ["priced at the top tier reached only"] : [])
        case .matrix(let cells):
            return cells.map { c in
                "\(c.values.joined(separator: " / ")): \(n(c.quantity)) x \(c.unitPrice.description)"
                    + (c.usedDefaultPrice ? " (default price)" : "") + " = \(n(c.amount))"
            }
        }
    }
}
