import TallyJSON
import Testing

@testable import TallyPipeline

@Suite("Metering: validation order, windows, dedup, dead letters, conservation")
struct MeterTests {
    typealias F = MeteringFixture

    @Test("an event exactly 5 min ahead of ingest time is accepted, 1 ms more is rejected")
    func futureBoundary() throws {
        var meter = try F.meter()
        let fiveMinutes = TimeSpan.minutes(5)
        #expect(
            meter.ingest(F.event("a", at: F.now + fiveMinutes), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
        #expect(
            meter.ingest(F.event("b", at: F.now + fiveMinutes + TimeSpan(milliseconds: 1)), receivedAt: F.now)
                == .rejected(.timestampInFuture))
    }

    @Test("an event exactly 90 days old is accepted, 1 ms older is rejected")
    func ageBoundary() throws {
        // A 4-period run starting 2026-01-01 and an ingest time of 2026-04-01 00:00 puts
        // now - 90d = 2026-01-01 00:00 (Jan 31 + Feb 28 + Mar 31 = 90 days) on the first period's start.
        var meter = try F.meter(periods: 4)
        let now = F.instant("2026-04-01T00:00:00Z")
        let exactly90 = now - TimeSpan.days(90)
        #expect(exactly90 == F.periodStart)
        #expect(
            meter.ingest(F.event("a", at: exactly90), receivedAt: now)
                == .accepted(Acceptance(late: true, overSoftLimit: false, period: 0)))
        #expect(
            meter.ingest(F.event("b", at: exactly90 - TimeSpan(milliseconds: 1)), receivedAt: now)
                == .rejected(.timestampTooOld))
    }

    @Test("24 h late is not flagged, 24 h + 1 ms is")
    func lateBoundary() throws {
        var meter = try F.meter()
        let day = TimeSpan.hours(24)
        #expect(
            meter.ingest(F.event("a", at: F.now - day), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
        #expect(
            meter.ingest(F.event("b", at: F.now - day - TimeSpan(milliseconds: 1)), receivedAt: F.now)
                == .accepted(Acceptance(late: true, overSoftLimit: false, period: 0)))
        #expect(meter.counts.late == 1)
        #expect(meter.counts.accepted == 2)
    }

    @Test("the limits are settings")
    func customLimits() throws {
        var meter = try F.meter(limits: MeteringLimits(maxFuture: .seconds(10), maxAge: .days(1), lateAfter: .hours(1)))
        #expect(
            meter.ingest(F.event("a", at: F.now + TimeSpan.seconds(11)), receivedAt: F.now)
                == .rejected(.timestampInFuture))
        #expect(
            meter.ingest(F.event("b", at: F.now - TimeSpan.hours(2)), receivedAt: F.now)
                == .accepted(Acceptance(late: true, overSoftLimit: false, period: 0)))
        #expect(
            meter.ingest(F.event("c", at: F.now - TimeSpan.hours(25)), receivedAt: F.now) == .rejected(.timestampTooOld)
        )
    }

    @Test("a duplicate inside one batch and across batches is rejected; first write wins")
    func duplicates() throws {
        var meter = try F.meter()
        let first = try meter.ingest(
            batch: [F.event("a"), F.event("b"), F.event("a", quantity: "5")], receivedAt: F.now)
        #expect(first.accepted == 2)
        #expect(first.count(.duplicate) == 1)
        let second = try meter.ingest(batch: [F.event("b"), F.event("c")], receivedAt: F.now + TimeSpan.minutes(1))
        #expect(second.accepted == 1)
        #expect(second.count(.duplicate) == 1)
        // Dedup is per tenant: the same id from another tenant is a different event.
        #expect(
            meter.ingest(F.event("a", tenant: "t2"), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
        // a, b, c (t1) and a (t2): 4 events counted, the duplicates never billed.
        #expect(try meter.usage.quantity(customer: "acme", metric: "api_calls", period: 0) == 4)
        #expect(meter.counts.isBalanced)
    }

    @Test("checks run in the contract's order: the first failure decides")
    func order() throws {
        var meter = try F.meter()
        // Empty id AND in the future: schema comes first.
        #expect(
            meter.ingest(F.event("", at: F.now + TimeSpan.hours(1)), receivedAt: F.now) == .deadLettered(.schemaInvalid)
        )
        // Future AND unknown customer: the time check comes first.
        #expect(
            meter.ingest(F.event("x", customer: "nobody", at: F.now + TimeSpan.hours(1)), receivedAt: F.now)
                == .rejected(.timestampInFuture))
        // Unknown customer AND unknown metric: customer first.
        #expect(
            meter.ingest(F.event("y", customer: "nobody", metric: "nothing"), receivedAt: F.now)
                == .deadLettered(.unknownCustomer))
        #expect(meter.ingest(F.event("z", metric: "nothing"), receivedAt: F.now) == .deadLettered(.unknownMetric))
        // A dead-lettered event is not "already accepted": its re-send is dead-lettered again, not a duplicate.
        #expect(meter.ingest(F.event("z", metric: "nothing"), receivedAt: F.now) == .deadLettered(.unknownMetric))
        // Negative quantity where the metric forbids it; allowed for weighted_sum deltas.
        #expect(meter.ingest(F.event("n", quantity: "-1"), receivedAt: F.now) == .deadLettered(.schemaInvalid))
        #expect(meter.ingest(F.event("w", metric: "storage", quantity: "-1"), receivedAt: F.now).reason == nil)
        #expect(meter.counts.received == 7)
        #expect(meter.counts.isBalanced)
    }

    @Test("dead letters keep the whole event and a replay after a fix accepts each exactly once")
    func replay() throws {
        var meter = try F.meter()
        let lost = F.event("e1", customer: "initech", quantity: "1")
        meter.ingest(lost, receivedAt: F.now)
        meter.ingest(F.event("e2", customer: "initech"), receivedAt: F.now)
        #expect(meter.deadLetters.map(\.payload) == [.event(lost), .event(F.event("e2", customer: "initech"))])
        #expect(meter.deadLetters[0].detail == "customer 'initech' is not in the catalog")

        // Fix the catalog: add the customer.
        let old = meter.catalog
        meter.replaceCatalog(
            try Catalog(
                currency: old.currency, metrics: old.metrics, plans: old.plans,
                customers: old.customers + [Customer(id: "initech", plan: "basic")]))
        let replay = try meter.replayDeadLetters(receivedAt: F.now + TimeSpan.minutes(1))
        #expect(replay.accepted == 2)
        #expect(meter.deadLetters.isEmpty)
        #expect(try meter.usage.quantity(customer: "initech", metric: "api_calls", period: 0) == 2)
        // A second replay finds nothing; re-sending the events is now a duplicate.
        #expect(try meter.replayDeadLetters(receivedAt: F.now + TimeSpan.minutes(2)).received == 0)
        #expect(meter.ingest(lost, receivedAt: F.now + TimeSpan.minutes(2)) == .rejected(.duplicate))
        #expect(try meter.usage.quantity(customer: "initech", metric: "api_calls", period: 0) == 2)
        // 2 dead + 2 replayed in + 1 duplicate = 5 in; 2 accepted + 2 dead + 1 rejected = 5.
        #expect(meter.counts.received == 5)
        #expect(meter.counts.isBalanced)
    }

    @Test("accepted events outside every period are counted, kept off the invoices")
    func outsidePeriods() throws {
        var meter = try F.meter()
        let lastDecember = F.instant("2025-12-31T23:59:59.999Z")
        #expect(
            meter.ingest(F.event("old", at: lastDecember), receivedAt: F.now)
                == .accepted(Acceptance(late: true, overSoftLimit: false, period: nil)))
        #expect(meter.counts.outsidePeriods == 1)
        #expect(try meter.usage.quantity(customer: "acme", metric: "api_calls", period: 0) == 0)
    }

    @Test("usage outside the customer's subscription is accepted and kept, but billed on no invoice")
    func outsideSubscription() throws {
        let base = try F.catalog()
        // initech subscribes from Jan 10 to Jan 20 (end exclusive).
        let catalog = try Catalog(
            currency: base.currency, metrics: base.metrics, plans: base.plans,
            customers: base.customers + [
                Customer(
                    id: "initech", plan: "basic", start: F.instant("2026-01-10T00:00:00Z"),
                    end: F.instant("2026-01-20T00:00:00Z"))
            ])
        var meter = Meter(catalog: catalog, schedule: PeriodSchedule(start: F.periodStart, count: 1))
        let now = F.instant("2026-01-25T00:00:00Z")
        let before = meter.ingest(
            F.event("a", customer: "initech", at: F.instant("2026-01-09T23:59:59.999Z")), receivedAt: now)
        let first = meter.ingest(
            F.event("b", customer: "initech", at: F.instant("2026-01-10T00:00:00Z")), receivedAt: now)
        let last = meter.ingest(
            F.event("c", customer: "initech", at: F.instant("2026-01-19T23:59:59.999Z")), receivedAt: now)
        let after = meter.ingest(
            F.event("d", customer: "initech", at: F.instant("2026-01-20T00:00:00Z")), receivedAt: now)
        // 1 ms before the start and the end instant itself fall outside; the start instant and 1 ms before the end inside.
        #expect(before == .accepted(Acceptance(late: true, overSoftLimit: false, period: nil)))
        #expect(first == .accepted(Acceptance(late: true, overSoftLimit: false, period: 0)))
        #expect(last == .accepted(Acceptance(late: true, overSoftLimit: false, period: 0)))
        #expect(after == .accepted(Acceptance(late: true, overSoftLimit: false, period: nil)))
        #expect(meter.counts.outsidePeriods == 2)
        #expect(try meter.usage.quantity(customer: "initech", metric: "api_calls", period: 0) == 2)  // b and c
        // Kept: a re-send of "a" is still a duplicate.
        #expect(
            meter.ingest(F.event("a", customer: "initech", at: F.instant("2026-01-09T23:59:59.999Z")), receivedAt: now)
                == .rejected(.duplicate))
    }

    @Test("a hard quota rejects the event that crosses it and every later one; a soft one flags")
    func quotas() throws {
        var meter = try F.meter(quotas: [
            Quota(metric: "api_calls", limit: 3, hard: true), Quota(metric: "bytes", limit: 10, hard: false),
        ])
        let outcomes = (1...5).map { meter.ingest(F.event("q\($0)"), receivedAt: F.now) }
        // Limit 3: events 1, 2, 3 fit (used 3 = limit); event 4 would make 4 > 3.
        #expect(outcomes.map { $0.reason } == [nil, nil, nil, .quotaExceeded, .quotaExceeded])
        let entitlement = meter.entitlement(customer: "acme", metric: "api_calls", at: F.now)
        #expect(entitlement == Entitlement(allowed: false, limit: 3, hard: true, used: 3, remaining: 0))
        #expect(meter.entitlement(customer: "globex", metric: "api_calls", at: F.now).remaining == 3)
        // Soft: 6 + 6 = 12 > 10 is accepted and flagged.
        #expect(
            meter.ingest(F.event("b1", metric: "bytes", quantity: "6"), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
        #expect(
            meter.ingest(F.event("b2", metric: "bytes", quantity: "6"), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: true, period: 0)))
        #expect(meter.counts.overSoftLimit == 1)
        #expect(meter.entitlement(customer: "acme", metric: "bytes", at: F.now).remaining == 0)
    }

    @Test("the dedup store forgets keys outside the window, and that is safe")
    func dedupWindow() throws {
        var meter = try F.meter(limits: MeteringLimits(maxAge: .hours(1)), periods: 1)
        let start = F.instant("2026-01-10T00:00:00Z")
        meter.ingest(F.event("a", at: start), receivedAt: start)
        #expect(meter.rememberedKeys == 1)
        let oldest = meter.dedup.oldestStamp
        // 30 minutes later nothing is old enough to forget: the key stays, and so does the oldest stamp.
        let soon = start + TimeSpan.minutes(30)
        meter.ingest(F.event("c", at: soon), receivedAt: soon)
        #expect(meter.rememberedKeys == 2)
        #expect(meter.dedup.oldestStamp == oldest)
        // Two hours after the start "a" and "c" are outside the window and forgotten...
        let later = start + TimeSpan.hours(2)
        meter.ingest(F.event("b", at: later), receivedAt: later)
        #expect(meter.rememberedKeys == 1)
        // ...and the oldest stamp is now "b"'s, 2 h = 7,200 s after "a"'s.
        #expect(meter.dedup.oldestStamp == oldest + 7_200)
        // ...and a re-send of "a" is refused as too old before the dedup check is reached.
        #expect(meter.ingest(F.event("a", at: start), receivedAt: later) == .rejected(.timestampTooOld))
        // "a", "c" and "b" each counted once; the re-send of "a" not at all: 3.
        #expect(try meter.usage.quantity(customer: "acme", metric: "api_calls", period: 0) == 3)
    }

    @Test("the dedup table is sized from the expected events: big enough, and no bigger")
    func dedupSizing() throws {
        // 100 expected events x 5/4 = 125 slots wanted -> 128 (a power of two), 16 bytes each = 2,048 bytes.
        var meter = Meter(
            catalog: try F.catalog(), schedule: PeriodSchedule(start: F.periodStart, count: 1), expectedEvents: 100)
        #expect(meter.dedupTableBytes == 2_048)
        for i in 0..<100 { meter.ingest(F.event("k\(i)"), receivedAt: F.now) }
        // 100 keys in 128 slots is 78%, under the 80% that grows the table.
        #expect(meter.rememberedKeys == 100)
        #expect(meter.dedupTableBytes == 2_048)
        // The 103rd key would fill it past 80% (103 x 5 = 515 > 128 x 4 = 512): it doubles.
        for i in 100..<103 { meter.ingest(F.event("k\(i)"), receivedAt: F.now) }
        #expect(meter.dedupTableBytes == 4_096)
    }

    @Test("a copied meter is independent: its dedup table is copied before either copy writes")
    func copiesAreIndependent() throws {
        var original = try F.meter()
        original.ingest(F.event("a"), receivedAt: F.now)
        var copy = original
        // "b" goes into the copy only; "a" was in both before the copy was made.
        #expect(
            copy.ingest(F.event("b"), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
        #expect(copy.ingest(F.event("a"), receivedAt: F.now) == .rejected(.duplicate))
        #expect(original.rememberedKeys == 1)
        #expect(copy.rememberedKeys == 2)
        #expect(
            original.ingest(F.event("b"), receivedAt: F.now)
                == .accepted(Acceptance(late: false, overSoftLimit: false, period: 0)))
    }

    @Test("prefetching changes no outcome, on a table large enough to be mapped on huge pages")
    func prefetchIsOnlyAHint() throws {
        // 1M expected events x 5/4 -> 2^21 slots x 16 bytes = 32 MB, above the 8 MB where the
        // table is mapped (and marked for huge pages) instead of allocated.
        let catalog = try F.catalog()
        let schedule = PeriodSchedule(start: F.periodStart, count: 1)
        var hinted = Meter(catalog: catalog, schedule: schedule, expectedEvents: 1_000_000)
        var plain = Meter(catalog: catalog, schedule: schedule, expectedEvents: 1_000_000)
        #expect(hinted.dedupTableBytes == 33_554_432)
        // 3,000 events whose ids repeat every 2,000: 2,000 accepted, then 1,000 duplicates.
        let events = (0..<3_000).map { F.event("k\($0 % 2_000)") }
        // Prefetch each event 4 ahead of ingesting it, and also some never ingested, or twice.
        for event in events.prefix(4) { hinted.prefetch(event) }
        for (index, event) in events.enumerated() {
            // Half of them by id, tenant and customer alone, the form a caller holding fields uses.
            if index + 4 < events.count {
                let ahead = events[index + 4]
                if index % 2 == 0 {
                    hinted.prefetch(ahead)
                } else {
                    hinted.prefetch(id: ahead.id, tenant: ahead.tenant, customer: ahead.customer)
                }
            }
            hinted.prefetch(F.event("never-sent-\(index)"))
            #expect(hinted.ingest(event, receivedAt: F.now) == plain.ingest(event, receivedAt: F.now))
        }
        #expect(hinted.counts == plain.counts)
        #expect(hinted.counts.accepted == 2_000)
        #expect(hinted.counts.count(.duplicate) == 1_000)
        #expect(hinted.rememberedKeys == 2_000)
    }

    @Test("with a catalog too large for the cache, prefetching customers' slots changes no outcome")
    func customerSlotPrefetchIsOnlyAHint() throws {
        // 20,000 customers: 65,536 slots of 48 bytes, past the 1 MB where their slots are prefetched.
        let customers = (0..<20_000).map { Customer(id: "cust-\($0)", plan: "basic") }
        let catalog = try Catalog(
            currency: try #require(Currency(code: "USD")), metrics: [Metric(key: "api_calls", aggregation: .count)],
            plans: [Plan(id: "basic", charges: [])], customers: customers)
        let schedule = PeriodSchedule(start: F.periodStart, count: 1)
        var hinted = Meter(catalog: catalog, schedule: schedule)
        var plain = Meter(catalog: catalog, schedule: schedule)
        // Known customers, one the catalog lacks and an empty one, every 7th id sent twice.
        let events = (0..<3_000).map {
            F.event(
                "k\($0 - $0 / 7)", customer: $0 % 100 == 0 ? "nobody" : $0 % 101 == 0 ? "" : "cust-\($0 * 6 % 20_000)")
        }
        for (index, event) in events.enumerated() {
            if index + 4 < events.count { hinted.prefetch(events[index + 4]) }
            #expect(hinted.ingest(event, receivedAt: F.now) == plain.ingest(event, receivedAt: F.now))
        }
        #expect(hinted.counts == plain.counts)
        // Walking the 3,000 through the checks in order (schema, dedup, customer): 29 empty
        // customers (multiples of 101, not of 100) are schema-invalid; of the 30 to "nobody"
        // (multiples of 100), 4 reuse an id already accepted and are duplicates first, 26 are
        // unknown; 416 duplicates in all; 3,000 - 29 - 416 - 26 = 2,529 accepted.
        #expect(hinted.counts.count(.schemaInvalid) == 29)
        #expect(hinted.counts.count(.unknownCustomer) == 26)
        #expect(hinted.counts.count(.duplicate) == 416)
        #expect(hinted.counts.accepted == 2_529)
        let hintedCalls = try hinted.usage.quantity(customer: "cust-6", metric: "api_calls", period: 0)
        #expect(hintedCalls == (try plain.usage.quantity(customer: "cust-6", metric: "api_calls", period: 0)))
    }

    @Test("a prefetched fingerprint is reused only for the same id and tenant; strays are dropped")
    func prefetchQueue() {
        var queue = PrefetchQueue()
        let a = Fingerprint(tenant: 0, id: "a")
        let b = Fingerprint(tenant: 0, id: "b")
        queue.push(PrefetchedKey(id: "a", tenant: 0, key: a))
        queue.push(PrefetchedKey(id: "b", tenant: 0, key: b))
        // Same id, other tenant: not this entry.
        #expect(queue.take(id: "b", tenant: 1) == nil)
        // "b" is found behind "a", and "a" (never asked for in order) is dropped with it.
        #expect(queue.take(id: "b", tenant: 0) == b)
        #expect(queue.take(id: "a", tenant: 0) == nil)
        // Past capacity (16) the oldest goes: after 17 pushes, k0 is gone and k1 is still there.
        #expect(PrefetchQueue.capacity == 16)
        for i in 0..<17 { queue.push(PrefetchedKey(id: "k\(i)", tenant: 0, key: Fingerprint(tenant: 0, id: "k\(i)"))) }
        #expect(queue.take(id: "k0", tenant: 0) == nil)
        #expect(queue.take(id: "k1", tenant: 0) == Fingerprint(tenant: 0, id: "k1"))
    }

    @Test(
        "bad JSON input never crashes and names the field and the problem",
        arguments: [
            ("{not json", "malformed JSON: 1:2"),
            (
                #"{"tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "event_id: missing"
            ),
            (
                #"{"event_id":"a","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":"abc","timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "quantity: \"abc\" is not a finite plain decimal"
            ),
            (
                #"{"event_id":"a","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1e999,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "quantity: \"1e999\" is not a finite plain decimal: exponent notation"
            ),
            (
                #"{"event_id":"a","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1234567890123456789012345678901234567890,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "more than 38 significant digits"
            ),
            (
                #"{"event_id":"","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "event_id: is empty"
            ),
            (
                #"{"event_id":7,"tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#,
                "event_id: is a number, expected a non-empty string"
            ),
            (
                #"{"event_id":"a","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":"2026-13-15T12:00:00Z","source":"kong"}"#,
                "timestamp: '2026-13-15T12:00:00Z' is not a UTC timestamp (month 13"
            ),
            (#"[1,2]"#, "expected a JSON object"),
        ])
    func badJSON(input: String, expected: String) throws {
        var meter = try F.meter()
        #expect(meter.ingest(json: input, receivedAt: F.now) == .deadLettered(.schemaInvalid))
        let letter = try #require(meter.deadLetters.first)
        #expect(letter.detail.contains(expected), "\(letter.detail)")
        #expect(letter.payload == .raw(input))
    }

    @Test("a 10 KB event id is a clear schema_invalid outcome")
    func hugeID() throws {
        var meter = try F.meter()
        let id = String(repeating: "x", count: 10_240)
        let json =
            #"{"event_id":"\#(id)","tenant_id":"t","customer_id":"acme","metric":"api_calls","quantity":1,"timestamp":"2026-01-15T12:00:00Z","source":"kong"}"#
        #expect(meter.ingest(json: json, receivedAt: F.now) == .deadLettered(.schemaInvalid))
        #expect(meter.deadLetters[0].detail == "event_id: has 10240 characters, expected 1 to 255")
        // The same through the typed API.
        #expect(meter.ingest(F.event(id), receivedAt: F.now) == .deadLettered(.schemaInvalid))
        // 255 characters is the longest allowed.
        #expect(meter.ingest(F.event(String(repeating: "y", count: 255)), receivedAt: F.now).reason == nil)
    }

    @Test("a valid JSON line is decoded exactly")
    func goodJSON() throws {
        var meter = try F.meter()
        let json =
            #"{"event_id":"p1","tenant_id":"t","customer_id":"acme","metric":"payments","quantity":1,"timestamp":"2026-01-15T12:00:00Z","source":"aws","properties":{"amount":"12.345","region":"eu"}}"#
        #expect(meter.ingest(json: json, receivedAt: F.now).reason == nil)
        #expect(try meter.usage.quantity(customer: "acme", metric: "payments", period: 0) == F.decimal("12.345"))
        let event = try Event(json: try JSONValue.parse(json))
        #expect(try Event(json: event.json) == event)
    }
}
