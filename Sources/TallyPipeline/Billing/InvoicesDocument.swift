import TallyJSON

/// `Fixtures/<name>/invoices.json`: every invoice and line of every period, as canonical JSON.
///
/// Amounts are decimal strings with exactly the currency's digits, so `199.00`
/// never becomes `199` or `1.99e2`; quantities and unrounded amounts are exact
/// decimal strings. Invoices are in period order, then catalog customer order.
package enum InvoicesDocument {
    package static func json(scenario: String, currency: Currency, invoices: [Invoice]) -> JSONValue {
        object([
            ("scenario", .string(scenario)),
            ("currency", .string(currency.code)),
            ("invoices", .array(invoices.map { invoice($0, currency) })),
        ])
    }

    package static func invoice(_ invoice: Invoice, _ currency: Currency) -> JSONValue {
        func money(_ amount: ExactDecimal) -> JSONValue { .string(currency.format(amount)) }
        var members: [(String, JSONValue)] = [
            ("number", .string(invoice.number)),
            ("customer", .string(invoice.customer)),
            (
                "period",
                object([("start", .string(invoice.period.start.iso8601)), ("end", .string(invoice.period.end.iso8601))])
            ),
            ("destination", .string(invoice.destination.rawValue)),
        ]
        // Only invoices of a trial, plan changes or fees in advance carry these: every other invoice is as it was.
        if let issued = invoice.issued {
            members.append(("issued", .string(issued.iso8601)))
            members.append(("billed", .string(invoice.inAdvance ? "in_advance" : "in_arrears")))
        }
        members += [
            (
                "lines",
                .array(
                    invoice.lines.map {
                        line($0, currency, subscription: $0.subscription.map { invoice.subscriptions[$0] })
                    })
            ),
            ("subtotal", money(invoice.subtotal)),
            (
                "discounts",
                .array(
                    invoice.discounts.map { discount in
                        object([
                            ("name", .string(discount.name)), ("amount", money(discount.amount)),
                            ("per_line", .array(discount.perLine.map(money))),
                            ("carried_forward", money(discount.carriedForward)),
                        ])
                    })
            ),
            ("discount_total", money(invoice.discountTotal)),
            (
                "taxes",
                .array(
                    invoice.taxes.map { tax in
                        var members: [(String, JSONValue)] = [
                            ("name", .string(tax.name)), ("jurisdiction", .string(tax.jurisdiction)),
                            ("rate", .string(tax.rate.description)), ("amount", money(tax.amount)),
                        ]
                        if let unrounded = tax.unroundedAmount {
                            // Rounded once per invoice: the shares are exact, and so is their sum.
                            members += [
                                ("per_line", .array(tax.perLine.map(decimal))),
                                ("unrounded_amount", decimal(unrounded)),
                            ]
                        } else {
                            members.append(("per_line", .array(tax.perLine.map(money))))
                        }
                        return object(members)
                    })
            ),
            ("tax_total", money(invoice.taxTotal)),
            ("total", money(invoice.total)),
            (
                "credits",
                .array(
                    invoice.credits.map { credit in
                        object([
                            ("source", .string(source(credit.source))), ("amount", money(credit.amount)),
                            ("remaining", money(credit.remaining)),
                        ])
                    })
            ),
            ("credits_applied", money(invoice.creditsApplied)),
            ("amount_due", money(invoice.amountDue)),
        ]
        if !invoice.expiredCredits.isEmpty {
            members.append(
                (
                    "expired_credits",
                    .array(
                        invoice.expiredCredits.map { expired in
                            object([
                                (
                                    "source",
                                    .string(
                                        source(
                                            .prepaid(
                                                grantedInPeriod: expired.grantedInPeriod,
                                                catalogIndex: expired.catalogIndex)))
                                ),
                                ("amount", money(expired.amount)),
                            ])
                        })
                ))
        }
        if invoice.pricesIncludeTax { members.append(("prices_include_tax", .bool(true))) }
        if let term = invoice.commitment {
            members.append(
                (
                    "commitment",
                    object([
                        ("billing", .string(term.billing.rawValue)), ("amount", money(term.amount)),
                        ("period_in_term", .number(String(term.periodInTerm))),
                        ("term_periods", .number(String(term.termPeriods))),
                        ("drawn_this_period", money(term.drawnThisPeriod)), ("drawn_in_term", money(term.drawnInTerm)),
                        ("remaining", money(term.remaining)), ("overage", money(term.overage)),
                        ("true_up", money(term.trueUp)), ("forfeited", money(term.forfeited)),
                    ])
                ))
        }
        if let unit = invoice.pricingUnit {
            members.append(
                (
                    "pricing_unit",
                    object([("name", .string(unit.name)), ("conversion_rate", decimal(unit.conversionRate))])
                ))
        }
        if let rollover = invoice.rollover {
            members.append(
                (
                    "rollover",
                    object([
                        ("metric", .string(rollover.metric)), ("included_units", decimal(rollover.includedUnits)),
                        ("available", decimal(rollover.available)), ("used", decimal(rollover.used)),
                        ("expired", decimal(rollover.expired)), ("carried_forward", decimal(rollover.carriedForward)),
                    ])
                ))
        }
        return object(members)
    }

    package static func line(_ line: InvoiceLine, _ currency: Currency, subscription: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("kind", .string(line.kind.rawValue)),
            ("name", .string(line.name)),
            ("amount", .string(currency.format(line.amount))),
            ("unrounded_amount", decimal(line.unroundedAmount)),
        ]
        if let metric = line.metric { members.append(("metric", .string(metric))) }
        if let quantity = line.quantity { members.append(("quantity", decimal(quantity))) }
        if !line.rolloverUnitsUsed.isZero { members.append(("rollover_units_used", decimal(line.rolloverUnitsUsed))) }
        if let breakdown = line.breakdown { members.append(("how", self.breakdown(breakdown))) }
        if let units = line.pricingUnitAmount { members.append(("pricing_unit_amount", decimal(units))) }
        // Only the lines of a customer with several subscriptions say whose they are.
        if let subscription { members.append(("subscription", .string(subscription))) }
        return object(members)
    }

    /// How a line was priced, in words a product manager reads in a diff.
    package static func breakdown(_ breakdown: RatingBreakdown) -> JSONValue {
        func slice(_ s: TierSlice) -> JSONValue {
            object([
                ("tier", .number(String(s.tier))), ("units", decimal(s.units)), ("unit_price", decimal(s.unitPrice)),
                ("flat_fee", decimal(s.flatFee)), ("amount", decimal(s.amount)),
            ])
        }
        switch breakdown {
        case .flat(let flat):
            return object([
                ("model", .string("flat")), ("full_amount", decimal(flat.fullAmount)),
                ("active_days", .number(String(flat.activeDays))), ("period_days", .number(String(flat.periodDays))),
                ("prorated", .bool(flat.prorated)),
            ])
        case .perUnit(let price):
            return object([("model", .string("per_unit")), ("unit_price", decimal(price))])
        case .graduated(let slices):
            return object([("model", .string("graduated")), ("tiers", .array(slices.map(slice)))])
        case .volume(let s):
            return object([("model", .string("volume")), ("tier", slice(s))])
        case .package(let p):
            return object([
                ("model", .string("package")), ("free_units", decimal(p.freeUnits)),
                ("package_size", decimal(p.packageSize)),
                ("packages", decimal(p.packages)), ("package_price", decimal(p.packagePrice)),
            ])
        case .percentage(let p):
            return object([
                ("model", .string("percentage")), ("events", .number(String(p.events))),
                ("free_events", .number(String(p.freeEvents))),
                ("free_value", decimal(p.freeValue)), ("billable_value", decimal(p.billableValue)),
                ("charged_events", .number(String(p.chargedEvents))),
                ("raised_to_minimum", .number(String(p.raisedToMinimum))),
                ("lowered_to_maximum", .number(String(p.loweredToMaximum))),
            ])
        case .graduatedPercentage(let slices):
            return object([
                ("model", .string("graduated_percentage")),
                (
                    "tiers",
                    .array(
                        slices.map { s in
                            object([
                                ("tier", .number(String(s.tier))), ("value", decimal(s.value)),
                                ("rate", decimal(s.rate)),
                                ("flat_fee", decimal(s.flatFee)), ("amount", decimal(s.amount)),
                            ])
                        })
                ),
            ])
        case .stairstep(let tier, let price):
            return object([("model", .string("stairstep")), ("tier", .number(String(tier))), ("price", decimal(price))])
        case .tieredBlocks(let mode, let slices):
            return object([
                ("model", .string("tiered_blocks")), ("mode", .string(mode.rawValue)),
                (
                    "tiers",
                    .array(
                        slices.map { s in
                            object([
                                ("tier", .number(String(s.tier))), ("units", decimal(s.units)),
                                ("block_size", decimal(s.blockSize)),
                                ("blocks", decimal(s.blocks)), ("block_price", decimal(s.blockPrice)),
                                ("amount", decimal(s.amount)),
                            ])
                        })
                ),
            ])
        case .matrix(let cells):
            return object([
                ("model", .string("matrix")),
                (
                    "cells",
                    .array(
                        cells.map { c in
                            object([
                                ("values", .array(c.values.map { .string($0) })), ("quantity", decimal(c.quantity)),
                                ("unit_price", decimal(c.unitPrice)), ("default_price", .bool(c.usedDefaultPrice)),
                                ("amount", decimal(c.amount)),
                            ])
                        })
                ),
            ])
        }
    }

    package static func source(_ source: CreditSource) -> String {
        switch source {
        case .balance: "balance"
        case .prepaid(let period, let index): "prepaid credit \(index + 1) (granted in period \(period + 1))"
        }
    }

    package static func decimal(_ value: ExactDecimal) -> JSONValue { .string(value.description) }

    package static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }
}
