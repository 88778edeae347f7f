import Testing

@testable import TallyPipeline

@Suite("Hostile input: time arithmetic that cannot trap, and a dedup table that shrinks with its window")
struct HostileTimeAndDedupTests {
    @Test("instant arithmetic saturates at both ends instead of trapping, and dates of saturated instants work")
    func instantArithmeticSaturates() {
        let earliest = Instant(millisecondsSinceEpoch: .min)
        let latest = Instant(millisecondsSinceEpoch: .max)
        #expect((earliest - TimeSpan(milliseconds: 1)).millisecondsSinceEpoch == .min)
        #expect((latest + TimeSpan(milliseconds: 1)).millisecondsSinceEpoch == .max)
        // .max - .min overflows: it saturates to .max; .min - .max to .min (negating .min used to trap).
        #expect((latest - earliest).milliseconds == .max)
        #expect((earliest - latest).milliseconds == .min)
        #expect((Instant(millisecondsSinceEpoch: 0) - TimeSpan(milliseconds: .min)).millisecondsSinceEpoch == .max)
        // Int64.min ms is 106,751,991,167 days and 0.192 s before 1970: the civil date and text must not trap.
        #expect(!earliest.iso8601.isEmpty && !latest.iso8601.isEmpty)
    }

    @Test("durations longer than 10,000 years are refused when parsed")
    func durationsAreBounded() throws {
        #expect(try TimeSpan(parsing: "3652425d") == TimeSpan.longest)
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "3652426d") }
        // 106751991167 days x 86,400,000 ms fits Int64 (9.22e18) but is 292 million years.
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "106751991167d") }
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "99999999999999999999ms") }
    }

    @Test("a schedule's end is checked without overflow and must be within year 9999")
    func scheduleEndIsChecked() throws {
        let start = try Instant(iso8601: "2026-01-01")
        // Issue 18, finding 1: 3 periods of 106751991167 days (each 9.22e18 ms) used to trap in PeriodSchedule.init.
        let huge = TimeSpan(milliseconds: 106_751_991_167 * 86_400_000)
        #expect(PeriodSchedule.checkedEnd(start: start, count: 3, interval: .fixed(huge)) == nil)
        // 120 months from 2026-01-01 end on 2036-01-01.
        #expect(
            PeriodSchedule.checkedEnd(start: start, count: 120, interval: .monthly)
                == (try Instant(iso8601: "2036-01-01")))
        // 2,912,443 days from 2026-01-01 reach 10000-01-01: 2,912,000 days end in 9999, 2,913,000 do not.
        #expect(PeriodSchedule.checkedEnd(start: start, count: 1, interval: .fixed(.days(2_912_000))) != nil)
        #expect(PeriodSchedule.checkedEnd(start: start, count: 1, interval: .fixed(.days(2_913_000))) == nil)
        // Even unchecked, making the schedule no longer traps: the periods saturate.
        let schedule = PeriodSchedule(start: start, count: 3, interval: .fixed(huge))
        #expect(schedule.periods.count == 3)
    }

    @Test("a sweep rebuilds an oversized table at the size of what it keeps (issue 18, finding 4)")
    func sweepShrinksTheTable() {
        // Sized for 1M keys up front (as a run's whole event count once sized it): 2^21 slots of 16 bytes = 32 MiB.
        var store = DedupStore(window: .seconds(1), capacity: 1_250_000)
        #expect(store.tableBytes == (1 << 21) * 16)
        let start = Instant(millisecondsSinceEpoch: 1_767_225_600_000)  // 2026-01-01
        // One key every 10 s with a 1 s window: each sweep keeps at most the newest key.
        for second in 0..<1_000 {
            let clock = start + .seconds(Int64(second) * 10)
            store.forget(before: clock - .seconds(1), clock: clock)
            store.insert(Fingerprint(tenant: 0, id: "e\(second)"), timestamp: clock)
        }
        // The first sweep that forgot a key shrank the table to 16 slots (2 x 1 kept key, at least 16): 256 bytes.
        #expect(store.tableBytes == 16 * 16)
        #expect(store.count == 1)
        #expect(store.contains(Fingerprint(tenant: 0, id: "e999")))
        #expect(!store.contains(Fingerprint(tenant: 0, id: "e998")))
    }

    @Test("a table that fits what it keeps is rebuilt at its own size")
    func sweepKeepsAFittingSize() {
        var store = DedupStore(window: .seconds(100), capacity: 16)
        let start = Instant(millisecondsSinceEpoch: 1_767_225_600_000)
        // 100 keys a second for 200 s: a 100 s window keeps about 10,000-11,250 of them, so the table
        // grows to 16,384 slots (80% of 16,384 = 13,107) and sweeps keep that size (16,384 < 4 x 2 x 10,000).
        for tick in 0..<20_000 {
            let clock = start + TimeSpan(milliseconds: Int64(tick) * 10)
            store.forget(before: clock - .seconds(100), clock: clock)
            store.insert(Fingerprint(tenant: 0, id: "k\(tick)"), timestamp: clock)
        }
        #expect(store.tableBytes == 16_384 * 16)
        #expect(store.count >= 10_000 && store.count <= 11_300)
    }
}
