import Testing

@testable import TallyPipeline

@Suite("Aggregation")
struct AggregationTests {
    typealias F = MeteringFixture

    func quantity(_ meter: Meter, _ metric: String, customer: String = "acme", period: Int = 0) throws -> ExactDecimal {
        try meter.usage.quantity(customer: customer, metric: metric, period: period)
    }

    @Test("count, sum, max, unique_count per customer")
    func basics() throws {
        var meter = try F.meter()
        for (i, q) in ["1.5", "2.25", "0.25"].enumerated() {
            meter.ingest(F.event("s\(i)", metric: "bytes", quantity: q), receivedAt: F.now)
            meter.ingest(F.event("m\(i)", metric: "peak", quantity: q), receivedAt: F.now)
            meter.ingest(F.event("c\(i)"), receivedAt: F.now)
        }
        for (i, user) in ["ann", "bob", "ann", "cy"].enumerated() {
            meter.ingest(F.event("u\(i)", metric: "users", properties: ["user": user]), receivedAt: F.now)
        }
        meter.ingest(F.event("g1", customer: "globex"), receivedAt: F.now)
        #expect(try quantity(meter, "api_calls") == 3)
        #expect(try quantity(meter, "bytes") == F.decimal("4"))  // 1.5 + 2.25 + 0.25
        #expect(try quantity(meter, "peak") == F.decimal("2.25"))
        #expect(try quantity(meter, "users") == 3)  // ann, bob, cy
        #expect(try quantity(meter, "api_calls", customer: "globex") == 1)
        #expect(try quantity(meter, "peak", customer: "globex") == 0)  // no events: 0
        // unique_count needs its property: an event without it is schema_invalid.
        #expect(meter.ingest(F.event("u9", metric: "users"), receivedAt: F.now) == .deadLettered(.schemaInvalid))
    }

    @Test("latest takes the greatest timestamp, ties by greatest event id, negative counts as 0")
    func latest() throws {
        var meter = try F.meter()
        let t1 = F.now - TimeSpan.hours(2)
        let t2 = F.now - TimeSpan.hours(1)
        meter.ingest(F.event("b", metric: "seats", quantity: "7", at: t2), receivedAt: F.now)
        meter.ingest(F.event("c", metric: "seats", quantity: "9", at: t1), receivedAt: F.now)  // older: loses
        meter.ingest(F.event("a", metric: "seats", quantity: "5", at: t2), receivedAt: F.now)  // tie: "b" > "a" wins
        #expect(try quantity(meter, "seats") == 7)
        var negative = try F.meter()
        negative.replaceCatalog(
            try Catalog(
                currency: negative.catalog.currency,
                metrics: [Metric(key: "seats", aggregation: .latest, allowsNegative: true)],
                plans: negative.catalog.plans, customers: negative.catalog.customers))
        negative.ingest(F.event("x", metric: "seats", quantity: "-4"), receivedAt: F.now)
        #expect(try quantity(negative, "seats") == 0)
    }

    @Test("a metric and a customer added by a catalog fix keep every earlier aggregate in its place")
    func catalogGrowsAfterUsage() throws {
        var meter = try F.meter(periods: 2)
        let nextPeriod = F.now + TimeSpan.days(31)
        meter.ingest(F.event("a1"), receivedAt: F.now)
        meter.ingest(F.event("a2", metric: "bytes", quantity: "2.5"), receivedAt: F.now)
        meter.ingest(F.event("g1", customer: "globex", metric: "peak", quantity: "7"), receivedAt: F.now)
        meter.ingest(
            F.event("g2", customer: "globex", metric: "peak", quantity: "3", at: nextPeriod), receivedAt: nextPeriod)
        // A new metric numbers after the others, so each customer's part of a period's table
        // grows by one cell and every aggregate moves; a new customer extends the table.
        let old = meter.catalog
        meter.replaceCatalog(
            try Catalog(
                currency: old.currency, metrics: old.metrics + [Metric(key: "logins", aggregation: .count)],
                plans: old.plans, customers: old.customers + [Customer(id: "initech", plan: "basic")]))
        meter.ingest(F.event("a3", metric: "logins", at: nextPeriod), receivedAt: nextPeriod)
        meter.ingest(
            F.event("i1", customer: "initech", metric: "bytes", quantity: "4", at: nextPeriod), receivedAt: nextPeriod)
        #expect(try quantity(meter, "api_calls") == 1)
        #expect(try quantity(meter, "bytes") == F.decimal("2.5"))
        #expect(try quantity(meter, "peak", customer: "globex") == 7)
        #expect(try quantity(meter, "peak", customer: "globex", period: 1) == 3)
        #expect(try quantity(meter, "logins", period: 1) == 1)
        #expect(try quantity(meter, "logins", period: 0) == 0)
        #expect(try quantity(meter, "bytes", customer: "initech", period: 1) == 4)
        #expect(try quantity(meter, "api_calls", customer: "initech", period: 1) == 0)
    }

    @Test("customers far apart in the catalog keep their own aggregates, through a catalog fix too")
    func customersInSeveralBlocks() throws {
        // 2,500 customers in blocks of 64: 0 and 63 share the first block, 1,023 | 1,024 straddle
        // a boundary, and 1,500 and 2,499 sit in blocks of their own.
        let base = try F.catalog()
        let customers = (0..<2_500).map { Customer(id: "c\($0)", plan: "basic") }
        var meter = Meter(
            catalog: try Catalog(
                currency: base.currency, metrics: base.metrics, plans: base.plans, customers: customers),
            schedule: PeriodSchedule(start: F.periodStart, count: 1))
        for (i, number) in [0, 63, 1_023, 1_024, 1_500, 2_499, 2_499].enumerated() {
            meter.ingest(
                F.event("e\(i)", customer: "c\(number)", metric: "bytes", quantity: "\(number + 1)"), receivedAt: F.now)
        }
        #expect(try quantity(meter, "bytes", customer: "c0") == 1)
        #expect(try quantity(meter, "bytes", customer: "c63") == 64)
        #expect(try quantity(meter, "bytes", customer: "c1023") == 1_024)
        #expect(try quantity(meter, "bytes", customer: "c1024") == 1_025)
        #expect(try quantity(meter, "bytes", customer: "c1500") == 1_501)
        #expect(try quantity(meter, "bytes", customer: "c2499") == 5_000)  // 2,500 twice
        #expect(try quantity(meter, "bytes", customer: "c2000") == 0)  // a block never made
        #expect(try quantity(meter, "bytes", customer: "c1501") == 0)  // 1,500's block, its own cell empty
        #expect(try quantity(meter, "bytes", customer: "c1") == 0)
        // A metric added later widens every block; the aggregates stay with their customers.
        let old = meter.catalog
        meter.replaceCatalog(
            try Catalog(
                currency: old.currency, metrics: old.metrics + [Metric(key: "logins", aggregation: .count)],
                plans: old.plans, customers: old.customers))
        meter.ingest(F.event("l1", customer: "c2499", metric: "logins"), receivedAt: F.now)
        #expect(try quantity(meter, "bytes", customer: "c1500") == 1_501)
        #expect(try quantity(meter, "bytes", customer: "c2499") == 5_000)
        #expect(try quantity(meter, "logins", customer: "c2499") == 1)
        #expect(try quantity(meter, "logins", customer: "c1500") == 0)
    }

    @Test("weighted_sum on Lago's example: 16.5 unit-hours over a 744-hour period")
    func weightedSumLago() throws {
        // Period 2023-08-01 .. 2023-09-01 = 31 days = 744 h.
        let start = F.instant("2023-08-01T00:00:00Z")
        let catalog = try F.catalog()
        var meter = Meter(catalog: catalog, schedule: PeriodSchedule(start: start, count: 1))
        let deltas: [(String, String)] = [
            ("2", "00:00"), ("3", "01:00"), ("1", "01:30"), ("-4", "02:00"),
            ("-2", "04:00"), ("10", "05:00"), ("-10", "05:30"),
        ]
        let ingest = F.instant("2023-08-01T06:00:00Z")
        for (i, (delta, time)) in deltas.enumerated() {
            meter.ingest(
                F.event("w\(i)", metric: "storage", quantity: delta, at: F.instant("2023-08-01T\(time):00Z")),
                receivedAt: ingest)
        }
        // Levels: 2 for 1 h, 5 for 0.5 h, 6 for 0.5 h, 2 for 2 h, 0 for 1 h, 10 for 0.5 h, then 0:
        // 2 + 2.5 + 3 + 4 + 0 + 5 = 16.5 unit-hours; / 744 h = 0.022177419354838709677..., 18 digits half-up.
        #expect(try quantity(meter, "storage") == F.decimal("0.022177419354838710"))
        #expect(try F.decimal("16.5").divided(by: 744, scale: 18, .halfUp) == F.decimal("0.022177419354838710"))
    }

    @Test("weighted_sum carries the level into the next period")
    func weightedSumCarries() throws {
        // Two 10-hour periods; +4 at hour 5 of period 1.
        let start = F.instant("2026-01-01T00:00:00Z")
        var meter = Meter(
            catalog: try F.catalog(), schedule: PeriodSchedule(start: start, count: 2, interval: .fixed(.hours(10))))
        meter.ingest(
            F.event("w", metric: "storage", quantity: "4", at: start + TimeSpan.hours(5)),
            receivedAt: start + TimeSpan.hours(5))
        #expect(try quantity(meter, "storage", period: 0) == 2)  // 4 x 5 h / 10 h
        #expect(try quantity(meter, "storage", period: 1) == 4)  // level 4 for all 10 h
    }

    @Test("group keys split a metric by property; the total spans all groups")
    func groups() throws {
        var meter = try F.meter()
        for (i, region) in ["eu", "us", "eu", "ap"].enumerated() {
            meter.ingest(F.event("r\(i)", metric: "calls_by_region", properties: ["region": region]), receivedAt: F.now)
        }
        meter.ingest(F.event("r9", metric: "calls_by_region"), receivedAt: F.now)  // no region: group ""
        let groups = try meter.usage.groupedQuantities(customer: "acme", metric: "calls_by_region", period: 0)
        #expect(groups.map(\.group) == [[""], ["ap"], ["eu"], ["us"]])
        #expect(groups.map(\.quantity) == [1, 1, 2, 1])
        #expect(try quantity(meter, "calls_by_region") == 5)
    }

    @Test("unique_count past the 64 values kept as bits, and values equal as strings count once")
    func uniqueCountBeyondOneWord() throws {
        var meter = try F.meter()
        // acme: u0...u69, then u0...u9 again. The first 64 values seen are numbered 0...63 and
        // kept as bits; u64...u69 are numbered 64...69 and go to the set.
        for i in 0..<80 {
            meter.ingest(F.event("a\(i)", metric: "users", properties: ["user": "u\(i % 70)"]), receivedAt: F.now)
        }
        // globex: u65...u74, five values acme has and five new ones, all numbered above 63;
        // then "é" precomposed (U+00E9) and decomposed (e, U+0301), one value as Swift strings compare.
        for i in 65..<75 {
            meter.ingest(
                F.event("g\(i)", customer: "globex", metric: "users", properties: ["user": "u\(i)"]), receivedAt: F.now)
        }
        meter.ingest(
            F.event("g-e1", customer: "globex", metric: "users", properties: ["user": "\u{E9}"]), receivedAt: F.now)
        meter.ingest(
            F.event("g-e2", customer: "globex", metric: "users", properties: ["user": "e\u{301}"]), receivedAt: F.now)
        #expect(try quantity(meter, "users") == 70)  // u0...u69; the 10 repeats add none
        #expect(try quantity(meter, "users", customer: "globex") == 11)  // u65...u74 is 10, plus é once
    }

    @Test("a grouped unique_count counts a value seen in two groups once in the total")
    func uniqueCountOverGroups() throws {
        var meter = try F.meter()
        let catalog = meter.catalog
        meter.replaceCatalog(
            try Catalog(
                currency: catalog.currency,
                metrics: catalog.metrics + [
                    Metric(key: "users_by_region", aggregation: .uniqueCount, property: "user", groupBy: ["region"])
                ],
                plans: catalog.plans, customers: catalog.customers))
        // Values are numbered as first seen: ann 0, bob 1, u0...u64 2...66, zed 67. ann (a bit) is
        // in eu and us, bob in us, u0...u64 in eu, u64 (66, in the set) in us too, zed (67) only in us.
        let seen =
            [("ann", "eu"), ("ann", "us"), ("bob", "us"), ("ann", "us")] + (0...64).map { ("u\($0)", "eu") }
            + [("u64", "us"), ("zed", "us")]
        for (i, pair) in seen.enumerated() {
            meter.ingest(
                F.event("x\(i)", metric: "users_by_region", properties: ["user": pair.0, "region": pair.1]),
                receivedAt: F.now)
        }
        let groups = try meter.usage.groupedQuantities(customer: "acme", metric: "users_by_region", period: 0)
        #expect(groups.map(\.group) == [["eu"], ["us"]])
        // eu: ann, u0...u64 = 1 + 65 = 66; us: ann, bob, u64, zed = 4.
        #expect(groups.map(\.quantity) == [66, 4])
        // All groups: ann, bob, u0...u64, zed = 2 + 65 + 1 = 68 (ann and u64 are in both groups, counted once).
        #expect(try quantity(meter, "users_by_region") == 68)
    }

    /// A deterministic mix of events over every aggregation, with 50 re-sends of earlier events.
    func mixedEvents() -> [Event] {
        let metrics = ["api_calls", "bytes", "peak", "users", "seats", "storage", "payments", "calls_by_region"]
        var events: [Event] = []
        for i in 0..<250 {
            let metric = metrics[i % metrics.count]
            // 600 / 37 wraps, so some events share a timestamp: `latest` needs its tie-break.
            let at = F.now - TimeSpan.minutes(Int64((i * 37) % 600))
            let quantity = metric == "storage" ? "\(i % 7 - 3)" : "\(i % 9).\(i % 4)"
            events.append(
                F.event(
                    "e\(i)", customer: i % 3 == 0 ? "globex" : "acme", metric: metric, quantity: quantity, at: at,
                    properties: ["user": "u\(i % 11)", "amount": "\(i).5", "region": ["eu", "us"][i % 2]]))
        }
        // A re-send is the same event again: same id, same content.
        return events + events.prefix(50)
    }

    func snapshot(_ meter: Meter) throws -> [String] {
        var lines: [String] = []
        for customer in ["acme", "globex"] {
            for metric in meter.catalog.metrics {
                lines.append(
                    "\(customer) \(metric.key) \(try meter.usage.quantity(customer: customer, metric: metric.key, period: 0))"
                )
            }
        }
        let c = meter.counts
        lines.append(
            "in \(c.received) ok \(c.accepted) late \(c.late) "
                + OutcomeReason.allCases.map { "\($0.rawValue) \(c.count($0))" }.joined(separator: " "))
        return lines
    }

    @Test("shuffling the events or splitting them into other batches gives identical aggregates and outcomes")
    func orderAndBatchIndependence() throws {
        let events = mixedEvents()
        var reference = try F.meter()
        _ = try reference.ingest(batch: events, receivedAt: F.now)
        let expected = try snapshot(reference)
        #expect(
            expected.last
                == "in 300 ok 250 late 0 schema_invalid 0 timestamp_in_future 0 timestamp_too_old 0 duplicate 50 unknown_customer 0 unknown_metric 0 quota_exceeded 0"
        )

        // A seeded shuffle (xorshift, Fisher-Yates) so the test itself is reproducible.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for round in 0..<20 {
            var shuffled = events
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                shuffled.swapAt(i, Int(state % UInt64(i + 1)))
            }
            var meter = try F.meter()
            // Batches of a size that changes per round, 1 to 20 events.
            var index = 0
            while index < shuffled.count {
                let size = 1 + (round * 7 + index) % 20
                _ = try meter.ingest(batch: shuffled[index..<min(index + size, shuffled.count)], receivedAt: F.now)
                index += size
            }
            #expect(try snapshot(meter) == expected)
        }
    }
}

@Suite("DistinctValues")
struct DistinctValuesTests {
    @Test("numbers below 64 and from 64 up are counted and united alike")
    func countAndUnion() {
        var a = DistinctValues()
        var b = DistinctValues()
        for number in [1, 63, 64, 100, 63] { a.insert(number) }
        for number in [1, 2, 100, 200] { b.insert(number) }
        #expect(a.count == 4)  // 1, 63, 64, 100: the second 63 adds none
        #expect(b.count == 4)
        // {1, 63, 64, 100} ∪ {1, 2, 100, 200} = {1, 2, 63, 64, 100, 200}.
        #expect(a.union(b).count == 6)
        #expect(DistinctValues().count == 0)
    }
}
