import Foundation
import TallyPipeline

/// Bills a run's metered usage, on the run's threads when its catalog is large.
///
/// Metering is over by then, so every thread of the run is free. Each bills a
/// contiguous range of the catalog's customers (see
/// ``Biller/forEachInvoice(for:customers:_:)``), and the ranges' invoices are put
/// back in billing's order, so the result is the same for any number of threads.
enum RunBilling {
    /// Customers a thread must have at least: starting a thread costs more than billing a few
    /// thousand invoices, and the bundled scenarios have a handful of customers.
    static let customersPerThread = 4_096

    /// How many ranges of customers to bill apart: one per thread, each of at least ``customersPerThread``.
    static func parts(customers: Int, threads: Int) -> Int {
        Swift.max(1, Swift.min(threads, customers / customersPerThread))
    }

    /// Every invoice of `usage`, the catalog's customers split into `parts` contiguous ranges of
    /// nearly equal size, each billed on its own thread.
    ///
    /// - Throws: the ``BillingError`` billing on one thread would have stopped at: the earliest
    ///   period's, and of a period, the one of the customer first in the catalog.
    static func bill(
        _ biller: Biller, usage: Usage, parts: Int, expectations: Expectations, keepingInvoices: Bool
    ) throws(BillingError) -> BilledInvoices {
        @Sendable func bill(_ customers: Range<Int>) throws(BillingError) -> BilledInvoices {
            var billed = BilledInvoices(expectations: expectations, keepingInvoices: keepingInvoices)
            try biller.forEachInvoice(for: usage, customers: customers) { billed.receive($0) }
            return billed
        }
        let customers = biller.catalog.customers.count
        // Ranges are put back period by period; invoices of customers on their own anniversary go by
        // their periods' ends instead (Docs/Semantics.md, "Invoices"), so such a catalog is billed on one thread.
        guard parts > 1, !biller.catalog.customers.contains(where: { $0.anchor == .anniversary }) else {
            return try bill(0..<customers)
        }
        let ranges = (0..<parts).map { part in (customers * part / parts)..<(customers * (part + 1) / parts) }
        let results = PartResults(count: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            do throws(BillingError) {
                results.set(part, .success(try bill(ranges[part])))
            } catch {
                results.set(part, .failure(error))
            }
        }
        var billedParts: [BilledInvoices] = []
        var firstError: BillingError?
        for (part, result) in results.all.enumerated() {
            switch result {
            case .success(let billed): billedParts.append(billed)
            case .failure(let error):
                // A part stops at its own first error; of those, the earliest period's comes first.
                if firstError.map({ (error.period ?? -1) < ($0.period ?? -1) }) ?? true { firstError = error }
            case nil:
                throw BillingError(
                    stage: .setup, customer: nil, period: nil, detail: "customers \(ranges[part]) were not billed")
            }
        }
        if let firstError { throw firstError }
        return BilledInvoices(merging: billedParts, periods: biller.schedule.periods.count)
    }
}

/// What each thread of ``RunBilling`` made, gathered under a lock.
private final class PartResults: @unchecked Sendable {
    // @unchecked: `parts` is read and written only under `lock`.
    private let lock = NSLock()
    private var parts: [Result<BilledInvoices, BillingError>?]

    init(count: Int) { parts = Array(repeating: nil, count: count) }

    func set(_ part: Int, _ result: Result<BilledInvoices, BillingError>) {
        lock.lock()
        parts[part] = result
        lock.unlock()
    }

    var all: [Result<BilledInvoices, BillingError>?] {
        lock.lock()
        defer { lock.unlock() }
        return parts
    }
}

/// What a run keeps of its invoices as billing hands them over.
struct BilledInvoices: Sendable {
    private let keepsInvoices: Bool
    /// Every invoice in billing's order, when kept.
    private(set) var invoices: [Invoice] = []
    private(set) var count = 0
    /// For each customer an `expect:` check names: its invoices' totals and amounts due, in period order.
    private(set) var expectedFigures: [String: [(total: ExactDecimal, amountDue: ExactDecimal)]]

    init(expectations: Expectations, keepingInvoices: Bool) {
        keepsInvoices = keepingInvoices
        let named = Set(expectations.invoiceTotals.keys).union(expectations.amountsDue.keys)
        expectedFigures = Dictionary(uniqueKeysWithValues: named.map { ($0, []) })
    }

    /// The invoices of consecutive ranges of customers, in billing's order: for each period,
    /// every range's invoices of that period, range after range.
    init(merging parts: [BilledInvoices], periods: Int) {
        keepsInvoices = parts.first?.keepsInvoices ?? true
        count = parts.reduce(0) { $0 + $1.count }
        // A customer's figures all come from the one range holding it; the others add none.
        expectedFigures = parts.first?.expectedFigures ?? [:]
        for part in parts.dropFirst() {
            expectedFigures.merge(part.expectedFigures) { $0 + $1 }
        }
        guard keepsInvoices else { return }
        invoices.reserveCapacity(count)
        var next = Array(repeating: 0, count: parts.count)
        for period in 0..<periods {
            for (part, billed) in parts.enumerated() {
                while next[part] < billed.invoices.count, billed.invoices[next[part]].period.index == period {
                    invoices.append(billed.invoices[next[part]])
                    next[part] += 1
                }
            }
        }
    }

    mutating func receive(_ invoice: consuming Invoice) {
        count += 1
        if !expectedFigures.isEmpty, expectedFigures[invoice.customer] != nil {
            expectedFigures[invoice.customer]?.append((invoice.total, invoice.amountDue))
        }
        if keepsInvoices { invoices.append(invoice) }
    }
}
