import TallyJSON
import TallyPipeline

/// What one run of a scenario produced: invoices, outcome counts, and the checks that failed.
public struct ScenarioRun: Sendable {
    public var scenario: Scenario
    /// Every invoice in billing's order: by period, then in the catalog's customer order.
    /// Empty when the run let them go as they were made (`tally bench`).
    public var invoices: [Invoice]
    /// How many invoices billing made.
    public var invoiceCount: Int
    public var counts: OutcomeCounts
    /// The first event ids of each reason, in stream order.
    public var samples: [OutcomeReason: [String]]
    /// Inline `expect:` checks that did not hold, one sentence each.
    public var expectationFailures: [String]
    /// The gateway's decisions; nil when the scenario has no request path.
    public var requests: RequestLog? = nil
    /// What each event file of the scenario held, in its order; empty without `events_from:`.
    public var inputs: [EventFileTally] = []
    /// The first dead letters' reasons and details (`schema_invalid: f.log:3: event_id: missing...`),
    /// for a person reading a run of event files; empty without `events_from:`.
    public var deadLetterSamples: [String] = []
    /// Requests served against events metered, per customer; nil unless the scenario uses `delivery:`.
    public var reconciliation: DeliveryReconciliation? = nil

    /// The canonical text of `reconciliation.json`; nil without `delivery:`.
    public var reconciliationJSON: String? {
        reconciliation.map { CanonicalJSON.write($0.json(scenario: scenario.name)) }
    }

    /// The canonical text of `invoices.json`.
    public var invoicesJSON: String {
        CanonicalJSON.write(
            InvoicesDocument.json(scenario: scenario.name, currency: scenario.catalog.currency, invoices: invoices))
    }

    /// The canonical text of `requests.json`; nil without a request path.
    public var requestsJSON: String? {
        requests.map {
            CanonicalJSON.write(RequestsDocument.json(scenario: scenario.name, log: $0, metered: counts.received))
        }
    }

    /// The canonical text of `rejections.json`.
    public var rejectionsJSON: String {
        CanonicalJSON.write(
            RejectionsDocument.json(scenario: scenario.name, counts: counts, samples: samples, inputs: inputs))
    }
}

/// Something that went wrong while running a scenario (not a golden mismatch).
public struct RunError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
