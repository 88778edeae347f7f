import GRDB
import TallyPipeline

/// An invoice as the ledger stores it: amounts as exact decimal text, lines in order.
///
/// Two recordings of a run are compared through this type, so it holds exactly
/// what the `invoices` and `invoice_lines` tables hold.
public struct InvoiceRecord: Sendable, Hashable {
    /// The invoice number, `INV-<YYYYMMDD of the period start>-<customer position>`.
    public var number: String
    /// The id of the customer billed.
    public var customer: String
    /// The billing period's position in the run's schedule, from 0.
    public var periodIndex: Int
    /// The period's first instant (inclusive).
    public var periodStart: Instant
    /// The period's end (exclusive): the next period's start.
    public var periodEnd: Instant
    /// The ISO 4217 code of every amount, such as `USD`.
    public var currency: String
    /// Where the invoice goes: `card` or `invoice` (accounts receivable).
    public var destination: String
    /// Money formatted with the currency's digits (`25.00`).
    public var subtotal: String
    /// The discounts taken off the subtotal, positive, with the currency's digits.
    public var discountTotal: String
    /// The tax added, with the currency's digits.
    public var taxTotal: String
    /// `subtotal - discountTotal + taxTotal`, with the currency's digits.
    public var total: String
    /// Prepaid credit and balance that paid part of the total, with the currency's digits.
    public var creditsApplied: String
    /// What the customer still owes: `max(0, total) - creditsApplied`, with the currency's digits.
    public var amountDue: String
    /// The invoice lines in invoice order: charges in plan order, then contract lines.
    public var lines: [Line]

    /// One invoice line as the `invoice_lines` table stores it.
    public struct Line: Sendable, Hashable {
        /// `charge`, `minimum_commitment_true_up` or `spend_cap_adjustment`.
        public var kind: String
        /// The line's name on the invoice.
        public var name: String
        /// The metric a usage charge prices; nil for flat charges and contract lines.
        public var metric: String?
        /// The priced quantity; the metered quantity is this plus `rolloverUnitsUsed`.
        public var quantity: String?
        /// Rolled-over units that covered usage before the charge priced the rest, as exact text.
        public var rolloverUnitsUsed: String
        /// The exact amount before the line's one rounding, as text.
        public var unroundedAmount: String
        /// The amount rounded half-up to the currency's digits (`25.00`).
        public var amount: String
    }

    /// Converts a billed invoice to the ledger's form, formatting every amount with its currency's digits.
    public init(_ invoice: Invoice) {
        let currency = invoice.currency
        number = invoice.number
        customer = invoice.customer
        periodIndex = invoice.period.index
        periodStart = invoice.period.start
        periodEnd = invoice.period.end
        self.currency = currency.code
        destination = invoice.destination.rawValue
        subtotal = currency.format(invoice.subtotal)
        discountTotal = currency.format(invoice.discountTotal)
        taxTotal = currency.format(invoice.taxTotal)
        total = currency.format(invoice.total)
        creditsApplied = currency.format(invoice.creditsApplied)
        amountDue = currency.format(invoice.amountDue)
        lines = invoice.lines.map { line in
            Line(
                kind: line.kind.rawValue, name: line.name, metric: line.metric, quantity: line.quantity?.description,
                rolloverUnitsUsed: line.rolloverUnitsUsed.description,
                unroundedAmount: line.unroundedAmount.description,
                amount: currency.format(line.amount))
        }
    }

    init(row: Row, lines: [Line]) throws {
        number = try row.text("number")
        customer = try row.text("customer")
        periodIndex = try row.int("period_index")
        periodStart = Instant(millisecondsSinceEpoch: try row.int64("period_start"))
        periodEnd = Instant(millisecondsSinceEpoch: try row.int64("period_end"))
        currency = try row.text("currency")
        destination = try row.text("destination")
        subtotal = try row.text("subtotal")
        discountTotal = try row.text("discount_total")
        taxTotal = try row.text("tax_total")
        total = try row.text("total")
        creditsApplied = try row.text("credits_applied")
        amountDue = try row.text("amount_due")
        self.lines = lines
    }

    /// Every stored invoice with its lines, in billing order.
    static func fetchAll(_ db: Database) throws -> [InvoiceRecord] {
        var linesByInvoice: [Int64: [Line]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM invoice_lines ORDER BY invoice_id, position") {
            linesByInvoice[try row.int64("invoice_id"), default: []].append(
                Line(
                    kind: try row.text("kind"), name: try row.text("name"), metric: try row.optional("metric"),
                    quantity: try row.optional("quantity"), rolloverUnitsUsed: try row.text("rollover_units_used"),
                    unroundedAmount: try row.text("unrounded_amount"), amount: try row.text("amount")))
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM invoices ORDER BY position").map { row in
            try InvoiceRecord(row: row, lines: linesByInvoice[try row.int64("id")] ?? [])
        }
    }

    /// Replaces the run's stored invoices with `invoices` (inside the caller's transaction).
    static func replaceAll(_ invoices: [InvoiceRecord], runID: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM invoice_lines")
        try db.execute(sql: "DELETE FROM invoices")
        for (position, invoice) in invoices.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO invoices (run_id, position, number, customer, period_index, period_start, period_end, currency,
                        destination, subtotal, discount_total, tax_total, total, credits_applied, amount_due)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    runID, position, invoice.number, invoice.customer, invoice.periodIndex,
                    invoice.periodStart.millisecondsSinceEpoch, invoice.periodEnd.millisecondsSinceEpoch,
                    invoice.currency, invoice.destination, invoice.subtotal, invoice.discountTotal,
                    invoice.taxTotal, invoice.total, invoice.creditsApplied, invoice.amountDue,
                ])
            let invoiceID = db.lastInsertedRowID
            for (linePosition, line) in invoice.lines.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO invoice_lines (invoice_id, position, kind, name, metric, quantity, rollover_units_used, unrounded_amount, amount)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        invoiceID, linePosition, line.kind, line.name, line.metric, line.quantity,
                        line.rolloverUnitsUsed, line.unroundedAmount, line.amount,
                    ])
            }
        }
    }
}
