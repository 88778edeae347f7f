import Foundation
import TallyPipeline

/// Runs a scenario: its events through the pipeline's public API, then billing.
///
/// The runner uses only what a production service would: ``Meter`` for each
/// event as it is received, then ``Biller`` over the metered usage. Nothing
/// here knows which events were faulty; the pipeline has to find out.
public enum ScenarioRunner {
    /// Runs `scenario`, generating its events on `threads` threads.
    ///
    /// - Parameter progress: called now and then with the number of events sent so far.
    public static func run(
        _ scenario: Scenario, threads: Int = 1, observer: RunObserver? = nil, progress: ((Int) -> Void)? = nil
    ) throws(RunError) -> ScenarioRun {
        try runKeepingMeter(scenario, threads: threads, observer: observer, progress: progress).run
    }

    /// ``run(_:threads:observer:progress:)``, handing back the final meter too (for `tally bench`,
    /// which would otherwise need an observer, and so pay for handing it every item).
    ///
    /// - Parameters:
    ///   - keepingInvoices: false to let each invoice go once it is counted and its expected
    ///     figures are taken, as a service that sends invoices on would: the run's `invoices`
    ///     is then empty and only `invoiceCount` tells how many were made.
    ///   - reached: called as the run passes each ``RunMilestone``, so that `tally bench`
    ///     can time billing inside the run itself.
    static func runKeepingMeter(
        _ scenario: Scenario, threads: Int, observer: RunObserver?, progress: ((Int) -> Void)?,
        keepingInvoices: Bool = true, reached: (RunMilestone) -> Void = { _ in }
    ) throws(RunError) -> (run: ScenarioRun, meter: Meter) {
        var meter = Meter(
            catalog: scenario.catalog, schedule: scenario.schedule, limits: scenario.ingest.limits,
            expectedEvents: scenario.dedupKeysAtOnce)
        meter.entitlementCacheRefresh = scenario.requestPath?.cacheRefresh
        var loop = MeteringLoop(
            meter: meter, observer: observer, progress: progress,
            gatewayDelay: scenario.requestPath.map { _ in scenario.ingest.delay })
        prefaultDedupTable(of: loop.meter, threads: threads)
        let files = EventFileSources(scenario: scenario)
        let delivery = scenario.usesDelivery ? DeliveryTally() : nil
        if delivery != nil { loop.reconciliation = DeliveryReconciliation() }
        // With a gateway in front, a producer thread looks each request's customer and metric up in the
        // meter's tables (which do not change during the run), so the metering thread decides by number.
        let stream = EventStream(
            scenario: scenario, threads: threads, files: files, delivery: delivery,
            directory: scenario.requestPath != nil && threads >= 2 ? loop.meter.directory : nil)
        try stream.forEachBatch { loop.receive($0) }
        loop.progress?(loop.sent)
        meter = loop.meter
        let samples = loop.samples
        let sent = loop.sent
        let inputs = try files.finish()
        let fromFiles = inputs.reduce(0) { $0 + $1.events }
        // Conservation: every item sent is refused at the gateway or metered, every event metered has
        // exactly one outcome, and every record read from a file is an event sent or counted as not billed.
        let counts = meter.counts
        let access = meter.accessCounts
        var requests = loop.requests
        requests?.counts = access
        let refused = requests.map { _ in access.refused } ?? 0
        // With `delivery:`, what an outage lost never reaches the meter, and a retried batch reaches it twice.
        var reconciliation = loop.reconciliation
        if let delivery, var lines = reconciliation {
            delivery.apply(to: &lines)
            reconciliation = lines
        }
        let lost = delivery?.lostTotal ?? 0
        let retried = delivery?.retried ?? 0
        guard counts.received + refused == sent, counts.isBalanced, access.isBalanced,
            sent + lost == scenario.totalEvents + retried + fromFiles, inputs.allSatisfy(\.isBalanced),
            reconciliation?.customers.values.allSatisfy(\.isBalanced) ?? true
        else {
            throw RunError(
                message:
                    "\(scenario.name): conservation violated: \(sent) sent + \(lost) lost in delivery (\(scenario.totalEvents) planned + \(retried) retried + \(fromFiles) from files), \(refused) refused at the gateway (\(access.requests) requests: \(access.allowed) allowed + \(access.refused) refused), \(counts.received) metered, \(counts.accepted) accepted + \(counts.rejected) rejected + \(counts.deadLettered) dead-lettered"
            )
        }
        reached(.metered)
        let billed: BilledInvoices
        do {
            billed = try RunBilling.bill(
                Biller(catalog: scenario.catalog, schedule: scenario.schedule), usage: meter.usage,
                parts: RunBilling.parts(customers: scenario.catalog.customers.count, threads: threads),
                expectations: scenario.expectations, keepingInvoices: keepingInvoices)
        } catch {
            // An overflow found only when billing: point at the plan of the customer being billed.
            let plan = error.customer.flatMap { scenario.catalog.customer($0)?.plan }
            if let plan, let position = scenario.planPositions[plan] {
                throw RunError(
                    message: "\(scenario.file):\(position.line):\(position.column): \(scenario.name): \(error) "
                        + "(customer's plan '\(plan)'), expected amounts within exact decimal range")
            }
            throw RunError(message: "\(scenario.name): billing failed: \(error)")
        }
        reached(.billed)
        var run = ScenarioRun(
            scenario: scenario, invoices: billed.invoices, invoiceCount: billed.count, counts: counts, samples: samples,
            expectationFailures: ExpectationCheck.failures(scenario: scenario, counts: counts, billed: billed)
                + ExpectationCheck.failures(scenario: scenario, requests: requests),
            requests: requests, inputs: inputs)
        run.reconciliation = reconciliation
        if let reconciliation {
            run.expectationFailures += ExpectationCheck.failures(scenario: scenario, reconciliation: reconciliation)
        }
        if !inputs.isEmpty {
            run.deadLetterSamples = meter.deadLetters.prefix(20).map { "\($0.reason.rawValue): \($0.detail)" }
        }
        do { try observer?.finished(run, meter: meter) } catch {
            throw RunError(message: "\(scenario.name): recording the run failed: \(error)")
        }
        return (run, meter)
    }

    /// Faults the meter's dedup table in on `threads` threads at once (see
    /// ``Meter/prefaultDedupTable(part:of:)``), where one thread alone would do it
    /// as it meters. With one thread there is nobody to share the work with.
    private static func prefaultDedupTable(of meter: Meter, threads: Int) {
        guard threads >= 2 else { return }
        // Threads of its own, not `DispatchQueue.concurrentPerform` as billing uses: as the first
        // dispatch of the process, it ran both parts on this thread, one after the other.
        // The helpers reach the meter through a box emptied before this returns: a copy of
        // the meter still alive once metering starts would make its first write copy the table.
        let box = MeterBox(meter)
        let done = DispatchSemaphore(value: 0)
        for part in 1..<threads {
            Thread {
                box.meter?.prefaultDedupTable(part: part, of: threads)
                done.signal()
            }.start()
        }
        meter.prefaultDedupTable(part: 0, of: threads)
        for _ in 1..<threads { done.wait() }
        box.meter = nil
    }

    // @unchecked: helpers read `meter` before they signal; it is cleared only after every signal.
    private final class MeterBox: @unchecked Sendable {
        var meter: Meter?
        init(_ meter: Meter) { self.meter = meter }
    }
}

/// The points of a run between its phases.
enum RunMilestone {
    /// Every event is metered and the counts add up; billing starts.
    case metered
    /// Every invoice is made.
    case billed
}

/// Watches a run event by event, e.g. to record it in a ledger.
public protocol RunObserver: AnyObject {
    /// Called once per event, in stream order, with the pipeline's decision.
    func sent(_ item: GeneratedItem, outcome: MeteringOutcome)
    /// Called once after billing, with the final meter (its dead letters, its usage).
    func finished(_ run: ScenarioRun, meter: Meter) throws
    /// Called once per request the gateway refused (which never becomes an event), in stream order,
    /// with the instant the request reached the gateway.
    func refused(_ item: GeneratedItem, decision: AccessDecision, at instant: Instant)
}

extension RunObserver {
    /// Refused requests are not watched unless an observer asks.
    public func refused(_ item: GeneratedItem, decision: AccessDecision, at instant: Instant) {}
}

/// Checks a run against its scenario's inline `expect:` block.
enum ExpectationCheck {
    static func failures(scenario: Scenario, counts: OutcomeCounts, billed: BilledInvoices) -> [String] {
        let expected = scenario.expectations
        let currency = scenario.catalog.currency
        var failures: [String] = []
        for reason in expected.outcomes.keys.sorted() {
            let want = expected.outcomes[reason] ?? 0
            let got = counts.count(reason)
            if want != got {
                failures.append(
                    "expected \(want) \(reason.disposition.rawValue.replacingOccurrences(of: "_", with: "-")) \(reason.rawValue), got \(got)"
                )
            }
        }
        if let accepted = expected.accepted, accepted != counts.accepted {
            failures.append("expected \(accepted) accepted, got \(counts.accepted)")
        }
        if let late = expected.late, late != counts.late {
            failures.append("expected \(late) late, got \(counts.late)")
        }
        func check(
            _ label: String, _ table: [String: [ExactDecimal]], _ perPeriod: [String: Bool],
            _ value: ((total: ExactDecimal, amountDue: ExactDecimal)) -> ExactDecimal
        ) {
            for customer in table.keys.sorted() {
                let figures = billed.expectedFigures[customer] ?? []
                let want = table[customer] ?? []
                if perPeriod[customer] == true {
                    let got = figures.map(value)
                    if got != want {
                        failures.append(
                            "expected \(customer)'s \(label) per period \(want.map(currency.format)), got \(got.map(currency.format))"
                        )
                    }
                } else {
                    let got = (try? ExactDecimal.sum(figures.map(value))) ?? .zero
                    if [got] != want {
                        failures.append(
                            "expected \(customer)'s \(label) \(want.map(currency.format).joined()), got \(currency.format(got))"
                        )
                    }
                }
            }
        }
        check("invoice total", expected.invoiceTotals, expected.invoiceTotalIsPerPeriod) { $0.total }
        check("amount due", expected.amountsDue, expected.amountDueIsPerPeriod) { $0.amountDue }
        return failures
    }

    /// The `expect:` checks of the gateway's refusals and flags.
    static func failures(scenario: Scenario, requests: RequestLog?) -> [String] {
        let expected = scenario.expectations
        guard !expected.refused.isEmpty || !expected.flagged.isEmpty || !expected.requestsByCustomer.isEmpty else {
            return []
        }
        guard let requests else {
            return [
                "expect checks refusals and flags, but the scenario has no request path (spike_arrest, margin_guard, cost or entitlement_cache)"
            ]
        }
        var failures: [String] = []
        func compare(
            _ what: String, _ refused: [AccessRefusal: Int], _ flagged: [String: Int],
            refusals: (AccessRefusal) -> Int, flags: (String) -> Int
        ) {
            for reason in refused.keys.sorted() where refused[reason] != refusals(reason) {
                failures.append(
                    "expected \(refused[reason] ?? 0) \(reason.rawValue) refusals\(what), got \(refusals(reason))")
            }
            for flag in flagged.keys.sorted() where flagged[flag] != flags(flag) {
                failures.append("expected \(flagged[flag] ?? 0) requests flagged \(flag)\(what), got \(flags(flag))")
            }
        }
        compare("", expected.refused, expected.flagged, refusals: requests.counts.count) { code in
            AccessFlags.codes.first { $0.code == code }.map { requests.counts.count($0.flag) } ?? 0
        }
        for customer in expected.requestsByCustomer.keys.sorted() {
            guard let want = expected.requestsByCustomer[customer] else { continue }
            let got = requests.customers[customer] ?? CustomerRequests()
            compare(" for \(customer)", want.refused, want.flagged, refusals: got.count) { got.count(flag: $0) }
            if want.checksFirstRefusal, want.firstRefusal != got.firstRefusal?.at {
                failures.append(
                    "expected \(customer)'s first refusal \(want.firstRefusal.map { "at \($0)" } ?? "never"), got \(got.firstRefusal.map { "at \($0.at) (\($0.reason.rawValue))" } ?? "none")"
                )
            }
        }
        return failures
    }
}

/// The metering side of a run: each event into the meter, its outcome to the observer and the samples.
///
/// Each event is ingested a few events after the meter is asked to prefetch its
/// dedup and customer slots (see ``Meter/prefetch(_:)``); the order and the outcomes are
/// exactly those of ingesting each event as it arrives. A struct with mutating
/// methods, so the per-event calls reach the meter in place, never a copy of it.
struct MeteringLoop {
    var meter: Meter
    let observer: RunObserver?
    let progress: ((Int) -> Void)?
    private(set) var samples: [OutcomeReason: [String]] = [:]
    private(set) var sent = 0
    /// Far enough ahead to cover a memory load with a few events' work, and not so far that
    /// lines loaded early are evicted before they are used (Docs/Performance.md has the figures).
    /// At most `PrefetchQueue.capacity - 1`, or fingerprints are dropped before they are used.
    static let prefetchDistance = 8

    /// With a gateway in front of the pipeline, how long before its usage event is received a request
    /// reaches the gateway (the ingest delay); nil without a gateway.
    let gatewayDelay: TimeSpan?
    /// The gateway's refusals and flags; nil without a gateway.
    private(set) var requests: RequestLog?
    /// Per customer, what became of each item (see ``DeliveryReconciliation``); nil unless the scenario uses
    /// `delivery:`, so that other runs pay nothing per event for it.
    var reconciliation: DeliveryReconciliation?
    /// Whether the item being sent is a re-send; kept only for ``reconciliation``.
    private var isCopy = false

    init(meter: Meter, observer: RunObserver?, progress: ((Int) -> Void)?, gatewayDelay: TimeSpan? = nil) {
        self.meter = meter
        self.observer = observer
        self.progress = progress
        self.gatewayDelay = gatewayDelay
        requests = gatewayDelay.map { _ in RequestLog() }
    }

    /// Meters a batch of consecutive events of the stream.
    ///
    /// Each event is moved into the meter, never copied (see ``EventBuffer``).
    /// Each event's dedup and customer slots are prefetched `prefetchDistance` items before it is
    /// sent, where the event lies: with one thread the event is made just then,
    /// with two the producer made them all.
    mutating func receive(_ batch: StreamBatch) {
        let distance = Self.prefetchDistance
        let madeAhead = batch.isMade
        let events = madeAhead ? batch.made ?? ahead : ahead
        if !madeAhead { events.removeAll() }
        // Items before `ready` have their event in `events` and its slots prefetched;
        // the event of item `i` sits `i - index` places after the first, once `index` were taken.
        var ready = 0
        // Read once per batch: empty without a request path (or on one thread).
        let parties = madeAhead ? batch.parties : []
        let hasParties = parties.count == batch.count && batch.count > 0
        var nextResend = 0
        var nextCopy = 0
        for index in 0..<batch.count {
            while ready < Swift.min(index + distance + 1, batch.count) {
                if !madeAhead {
                    batch.prefetchEvent(ready + StreamBatch.prefetchDistance)
                    events.append(batch.event(ready))
                }
                if batch.items[ready].unit != StreamItem.fullItem {
                    _ = events.withEvent(at: ready - index) {
                        meter.prefetch(id: $0.pointee.id, tenant: $0.pointee.tenant, customer: $0.pointee.customer)
                    }
                }
                ready += 1
            }
            // Every item has its event (or stand-in) in `events`, so the take always succeeds.
            guard let event = events.take() else { continue }
            let item = batch.items[index]
            if reconciliation != nil {
                while nextCopy < batch.resendPositions.count, batch.resendPositions[nextCopy] < index { nextCopy += 1 }
                isCopy = nextCopy < batch.resendPositions.count && batch.resendPositions[nextCopy] == index
            }
            // A re-send is the same request's usage event again, not a new request; but a refused request
            // had no usage event, so its re-send is the client retrying it: a request again.
            var isRequest = gatewayDelay != nil
            var isRetry = false
            if isRequest {
                while nextResend < batch.resendPositions.count, batch.resendPositions[nextResend] < index {
                    nextResend += 1
                }
                isRequest = nextResend >= batch.resendPositions.count || batch.resendPositions[nextResend] != index
                if !isRequest, !refusedIDs.isEmpty {
                    isRetry = refusedIDs.contains(
                        item.unit == StreamItem.fullItem ? batch.full[item.sequence].eventID : event.id)
                    isRequest = isRetry
                }
            }
            if item.unit == StreamItem.fullItem {
                let whole = batch.full[item.sequence]
                // Malformed JSON is a usage event the client broke after its request was decided: metered unchecked.
                if isRequest, case .event(let wholeEvent) = whole.payload,
                    let refusal = admit(wholeEvent, receivedAt: whole.receivedAt, retry: isRetry)
                {
                    // Refused at the gateway: never metered.
                    if let observer, let decision = refusal.decision {
                        observer.refused(whole, decision: decision, at: refusal.at)
                    }
                } else {
                    send(whole)
                }
            } else if isRequest,
                let refusal = admit(
                    event, receivedAt: item.receivedAt, retry: isRetry, party: hasParties ? parties[index] : nil)
            {
                // Refused at the gateway: never metered. The item is made only for an observer.
                if let observer, let decision = refusal.decision {
                    observer.refused(
                        GeneratedItem(payload: .event(event), receivedAt: item.receivedAt, eventID: event.id),
                        decision: decision, at: refusal.at)
                }
            } else if hasParties, let party = parties[index] {
                // Read only here: without parties (bench-10m) the loop pays one test per event, not a 49-byte copy.
                send(event, receivedAt: item.receivedAt, party: party)
            } else {
                send(event, receivedAt: item.receivedAt)
            }
            // The producer that made the event destroys it when it reuses the batch.
            if madeAhead { events.giveBack(event) }
        }
    }

    /// The events made ahead on one thread: a few slots, reused batch after batch.
    private let ahead = EventBuffer(capacity: 2 * MeteringLoop.prefetchDistance)

    // Not inlined into `receive`, as before there were two: inlined, the loop cost bench-10m's metering thread more.
    @inline(never)
    private mutating func send(_ event: Event, receivedAt: Instant) {
        finishSending(event, receivedAt: receivedAt, outcome: meter.ingest(event, receivedAt: receivedAt))
    }

    /// ``send(_:receivedAt:)`` for an event whose customer and metric the producer looked up.
    @inline(never)
    private mutating func send(_ event: Event, receivedAt: Instant, party: RequestParty) {
        finishSending(event, receivedAt: receivedAt, outcome: meter.ingest(event, receivedAt: receivedAt, party: party))
    }

    @inline(__always)
    private mutating func finishSending(_ event: Event, receivedAt: Instant, outcome: MeteringOutcome) {
        if reconciliation != nil {
            reconciliation?.customers[event.customer, default: .init()].count(outcome, resent: isCopy)
        }
        // Only an observer needs the item whole.
        if let observer {
            observer.sent(
                GeneratedItem(payload: .event(event), receivedAt: receivedAt, eventID: event.id), outcome: outcome)
        }
        count(outcome, id: event.id)
    }

    private mutating func send(_ item: GeneratedItem) {
        let outcome: MeteringOutcome
        switch item.payload {
        case .event(let event):
            outcome = meter.ingest(event, receivedAt: item.receivedAt)
        case .malformed(let json):
            outcome = meter.ingest(json: json, receivedAt: item.receivedAt)
        case .undecodable(let raw, let problem):
            outcome = meter.ingestUndecodable(raw, problem: problem, receivedAt: item.receivedAt)
        }
        observer?.sent(item, outcome: outcome)
        if reconciliation != nil {
            let customer = if case .event(let event) = item.payload { event.customer } else { "" }
            reconciliation?.customers[customer, default: .init()].count(outcome, resent: isCopy)
        }
        count(outcome, id: item.eventID)
    }

    /// Ids of refused requests, whose re-sends are retries (see ``receive(_:)``).
    private var refusedIDs = Set<String>()

    /// Asks the gateway whether the request behind `event` may go on; counts a refused one as sent.
    ///
    /// The request reached the gateway when its usage event was received (`receivedAt`), less the ingest
    /// delay. Returns nil when it is allowed, else its instant and, for an observer, the whole decision,
    /// for the caller to tell the observer (building the item here copied the event for every request).
    /// Without an observer only the verdict is asked for: the decision's figures are some 140 bytes that
    /// nobody would read.
    private mutating func admit(
        _ event: Event, receivedAt: Instant, retry: Bool, party: RequestParty? = nil
    ) -> (decision: AccessDecision?, at: Instant)? {
        let at = receivedAt - (gatewayDelay ?? TimeSpan(milliseconds: 0))
        let verdict: AccessVerdict
        var decision: AccessDecision?
        if observer == nil {
            verdict = meter.canAccess(
                tenant: event.tenant, customer: event.customer, metric: event.metric, party: party, at: at)
        } else {
            let whole = meter.canAccess(tenant: event.tenant, customer: event.customer, metric: event.metric, at: at)
            verdict = AccessVerdict(refusal: whole.refusal, flags: whole.flags)
            decision = whole
        }
        requests?.record(verdict.refusal, flags: verdict.flags, customer: event.customer, requestID: event.id, at: at)
        guard verdict.refusal != nil else {
            // Once a retry passes, its later re-sends are plain re-sends of its usage event.
            if retry { refusedIDs.remove(event.id) }
            return nil
        }
        refusedIDs.insert(event.id)
        if reconciliation != nil {
            reconciliation?.customers[event.customer, default: .init()].countRefused(resent: isCopy)
        }
        sent += 1
        if sent & 0xFFFF == 0 { progress?(sent) }
        return (decision, at)
    }

    private mutating func count(_ outcome: MeteringOutcome, id: String) {
        if let reason = outcome.reason, samples[reason, default: []].count < RejectionsDocument.sampleSize {
            samples[reason, default: []].append(id)
        }
        sent += 1
        if sent & 0xFFFF == 0 { progress?(sent) }
    }
}
