import GRDB
import TallyPipeline

/// What-if pricing: the recorded usage billed under another catalog.
public enum Rerating {
    /// One customer's invoice totals, recorded and re-rated.
    public struct Line: Sendable, Hashable {
        /// The customer's id.
        public var customer: String
        /// The sum of the customer's recorded invoice totals.
        public var old: ExactDecimal
        /// The sum of its invoice totals under the other catalog.
        public var new: ExactDecimal
        /// `new - old`.
        public var difference: ExactDecimal
    }

    /// What re-rating found: per customer and in total.
    public struct Report: Sendable, Hashable {
        /// The currency of every amount.
        public var currency: Currency
        /// Recorded customers in invoice order, then customers only the other catalog bills.
        public var lines: [Line]
        /// The sums over every customer.
        public var total: Line
        /// Recorded events the other catalog does not accept (an unknown customer, a hard quota...), by reason.
        public var notAccepted: [OutcomeReason: Int]
    }

    /// Re-meters the ledger's accepted events under `plans`' catalog, bills them over the
    /// recorded schedule, and compares each customer's invoice totals with the recorded ones.
    ///
    /// - Parameters:
    ///   - ledger: the recorded run to re-rate; it is only read.
    ///   - plansYAML: the text of the scenario whose catalog prices the what-if, or of a file holding
    ///     only its plans (and metrics), completed from the recorded scenario.
    ///   - file: its path, for messages.
    ///   - load: reads scenario text into its terms (the sandbox's loader), for the recorded scenario.
    ///   - loadPlans: reads `plansYAML` into terms, completing a file of plans alone from the recorded
    ///     scenario's text (the sandbox's loader).
    public static func run(
        _ ledger: Ledger, plansYAML: String, file: String, load: BillingTerms.Loader,
        loadPlans: BillingTerms.PlansLoader
    ) throws -> Report {
        return try ledger.queue.read { db in
            guard let run = try RecordedRun.fetch(db) else {
                throw LedgerError("\(ledger.path): the ledger records no run yet")
            }
            guard run.completed else {
                throw LedgerError(
                    "\(ledger.path): the run did not complete (killed?); record it again with tally run --ledger")
            }
            let recorded = try run.terms(load)
            // A file of plans alone takes the rest (customers, currency, schedule) from the recorded scenario.
            let plans: BillingTerms
            do { plans = try loadPlans(plansYAML, file, run.scenarioYAML) } catch { throw LedgerError("\(error)") }
            let currency = plans.catalog.currency
            guard currency == recorded.catalog.currency else {
                throw LedgerError(
                    "\(file) bills in \(currency.code), but the recorded run billed in \(recorded.catalog.currency.code)"
                )
            }
            let (meter, notAccepted) = try LedgerReader.remeterAccepted(
                db, catalog: plans.catalog, schedule: recorded.schedule,
                limits: recorded.limits)
            let newInvoices: [Invoice]
            do {
                newInvoices = try Biller(catalog: plans.catalog, schedule: recorded.schedule).invoices(for: meter.usage)
            } catch {
                throw LedgerError("billing under \(file) failed: \(error)")
            }
            var order: [String] = []
            var old: [String: ExactDecimal] = [:]
            var new: [String: ExactDecimal] = [:]
            for invoice in try InvoiceRecord.fetchAll(db) {
                if old[invoice.customer] == nil && new[invoice.customer] == nil { order.append(invoice.customer) }
                old[invoice.customer] =
                    try (old[invoice.customer] ?? .zero) + (try Row.decimal(invoice.total, column: "invoices.total"))
            }
            for invoice in newInvoices {
                if old[invoice.customer] == nil && new[invoice.customer] == nil { order.append(invoice.customer) }
                new[invoice.customer] = try (new[invoice.customer] ?? .zero) + invoice.total
            }
            var lines: [Line] = []
            var total = Line(customer: "total", old: .zero, new: .zero, difference: .zero)
            for customer in order {
                let before = old[customer] ?? .zero
                let after = new[customer] ?? .zero
                let line = Line(customer: customer, old: before, new: after, difference: try after - before)
                lines.append(line)
                total.old = try total.old + before
                total.new = try total.new + after
            }
            total.difference = try total.new - total.old
            return Report(currency: currency, lines: lines, total: total, notAccepted: notAccepted)
        }
    }
}

/// Checks the recorded invoices against the recorded events.
public enum Reconciliation {
    /// A customer, metric and period whose invoiced quantity differs from its events' aggregate.
    public struct Difference: Sendable, Hashable {
        /// The customer's id.
        public var customer: String
        /// The metric's key.
        public var metric: String
        /// The billing period's index, from 0.
        public var period: Int
        /// Metered quantity on the recorded invoice lines (priced quantity + rolled-over units).
        public var invoiced: ExactDecimal
        /// The same, recomputed from the ledger's events.
        public var recomputed: ExactDecimal
        /// `recomputed - invoiced`.
        public var difference: ExactDecimal
    }

    /// What reconciliation found.
    public struct Report: Sendable, Hashable {
        /// Every quantity that differs, by customer, metric and period; empty when all agree.
        public var differences: [Difference]
        /// Broken conservation or an incomplete run, one sentence each.
        public var problems: [String]
        /// The accepted events metered again.
        public var eventsChecked: Int
        /// Requests the gateway refused, by reason code (they never became events, so they are on no invoice).
        public var refusals: [String: Int] = [:]
        /// Whether the invoices agree with the events and nothing else was wrong.
        public var isClean: Bool { differences.isEmpty && problems.isEmpty }
    }

    /// Meters the ledger's accepted events again under the catalog that billed the stored
    /// invoices, bills them, and compares line quantities per customer, metric and period.
    ///
    /// - Parameters:
    ///   - ledger: the recorded run to check; it is only read.
    ///   - load: reads scenario text into its terms (the sandbox's loader).
    public static func run(_ ledger: Ledger, load: BillingTerms.Loader) throws -> Report {
        try ledger.queue.read { db in
            guard let run = try RecordedRun.fetch(db) else {
                throw LedgerError("\(ledger.path): the ledger records no run yet")
            }
            var problems: [String] = []
            let stream = try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE origin = 0") ?? 0
            let all = try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            let rejected = try Int.fetchOne(db, sql: "SELECT count(*) FROM rejections") ?? 0
            let dead = try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letters") ?? 0
            let refusals = try Ledger.refusalsByReason(db)
            let refused = refusals.values.reduce(0, +)
            if !run.completed {
                problems.append(
                    "the run did not complete (killed?): \(stream + rejected + dead) of \(run.plannedEvents) events recorded; record it again with tally run --ledger"
                )
            } else if let received = run.received, received != stream + rejected + dead || run.accepted != stream {
                problems.append(
                    "conservation: the run received \(received) events (\(run.accepted ?? 0) accepted), the ledger holds \(stream) accepted + \(rejected) rejected + \(dead) dead-lettered"
                )
            }
            // A ledger recorded before refusals were has no count of them (NULL), and no rows.
            if run.completed, let runRefused = run.refused, runRefused != refused {
                problems.append(
                    "conservation: the gateway refused \(runRefused) requests, the ledger holds \(refused) refusals")
            }
            let scenario = try run.billingTerms(load)
            let recorded = try run.terms(load)
            let (meter, notAccepted) = try LedgerReader.remeterAccepted(
                db, catalog: scenario.catalog, schedule: recorded.schedule,
                limits: recorded.limits)
            for (reason, count) in notAccepted.sorted(by: { $0.key < $1.key }) {
                problems.append("\(count) recorded events are \(reason.rawValue) when metered again")
            }
            let recomputed: [Invoice]
            do {
                recomputed = try Biller(catalog: scenario.catalog, schedule: recorded.schedule).invoices(
                    for: meter.usage)
            } catch {
                throw LedgerError("billing the recorded events failed: \(error)")
            }
            struct Key: Hashable, Comparable {
                var period: Int, customer: String, metric: String
                static func < (a: Key, b: Key) -> Bool {
                    (a.period, a.customer, a.metric) < (b.period, b.customer, b.metric)
                }
            }
            var invoiced: [Key: ExactDecimal] = [:]
            for invoice in try InvoiceRecord.fetchAll(db) {
                for line in invoice.lines {
                    guard let metric = line.metric, let quantity = line.quantity else { continue }
                    let metered =
                        try (try Row.decimal(quantity, column: "invoice_lines.quantity"))
                        + (try Row.decimal(line.rolloverUnitsUsed, column: "invoice_lines.rollover_units_used"))
                    let key = Key(period: invoice.periodIndex, customer: invoice.customer, metric: metric)
                    invoiced[key] = try (invoiced[key] ?? .zero) + metered
                }
            }
            var fresh: [Key: ExactDecimal] = [:]
            for invoice in recomputed {
                for line in invoice.lines {
                    guard let metric = line.metric, let quantity = line.quantity else { continue }
                    let key = Key(period: invoice.period.index, customer: invoice.customer, metric: metric)
                    fresh[key] = try (fresh[key] ?? .zero) + (try quantity + line.rolloverUnitsUsed)
                }
            }
            var differences: [Difference] = []
            for key in Set(invoiced.keys).union(fresh.keys).sorted() {
                let before = invoiced[key] ?? .zero
                let after = fresh[key] ?? .zero
                if before != after {
                    differences.append(
                        Difference(
                            customer: key.customer, metric: key.metric, period: key.period,
                            invoiced: before, recomputed: after, difference: try after - before))
                }
            }
            return Report(differences: differences, problems: problems, eventsChecked: all, refusals: refusals)
        }
    }
}
