import Testing

@testable import TallyPipeline

@Suite("Time and billing periods")
struct TimeTests {
    @Test("ISO-8601 UTC round trip")
    func iso() throws {
        let instant = try Instant(iso8601: "2026-01-03T10:00:00Z")
        // 2026-01-03 is day 20456 since 1970-01-01 (56 years incl. 14 leap days = 20454, +2); 10 h = 36,000,000 ms.
        #expect(instant.millisecondsSinceEpoch == 20456 * 86_400_000 + 36_000_000)
        #expect(instant.iso8601 == "2026-01-03T10:00:00Z")
        #expect(try Instant(iso8601: "2026-01-03T10:00:00.250Z").iso8601 == "2026-01-03T10:00:00.250Z")
        #expect(try Instant(iso8601: "2026-01-03").iso8601 == "2026-01-03T00:00:00Z")
        #expect(throws: TimeParseError.self) { try Instant(iso8601: "2026-02-30T00:00:00Z") }
        #expect(throws: TimeParseError.self) { try Instant(iso8601: "2026-01-03T10:00:00+02:00") }
        #expect(throws: TimeParseError.self) { try Instant(iso8601: "yesterday") }
    }

    @Test("durations in ms s m h d")
    func durations() throws {
        #expect(try TimeSpan(parsing: "5m").milliseconds == 300_000)
        #expect(try TimeSpan(parsing: "90d").milliseconds == 7_776_000_000)
        #expect(try TimeSpan(parsing: "500ms").milliseconds == 500)
        #expect(try TimeSpan(parsing: "24h").description == "1d")
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "5 minutes") }
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "-5m") }
        #expect(throws: TimeParseError.self) { try TimeSpan(parsing: "1.5h") }
    }

    @Test("monthly periods are half-open and anchored on the 31st clamp to month ends")
    func periods() throws {
        let schedule = PeriodSchedule(start: try Instant(iso8601: "2026-01-31T00:00:00Z"), count: 3)
        #expect(
            schedule.periods.map(\.start.iso8601) == [
                "2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z",
            ])
        #expect(schedule.periods[2].end.iso8601 == "2026-04-30T00:00:00Z")
        // An event exactly at a period's start belongs to that (new) period.
        #expect(schedule.periodIndex(containing: try Instant(iso8601: "2026-02-28T00:00:00Z")) == 1)
        #expect(schedule.periodIndex(containing: try Instant(iso8601: "2026-02-27T23:59:59.999Z")) == 0)
        #expect(schedule.periodIndex(containing: try Instant(iso8601: "2026-04-30T00:00:00Z")) == nil)
        #expect(schedule.periodIndex(containing: try Instant(iso8601: "2026-01-30T00:00:00Z")) == nil)
        // Leap year: anchored on the 31st, February 2028 clamps to the 29th.
        let leap = PeriodSchedule(start: try Instant(iso8601: "2028-01-31T00:00:00Z"), count: 2)
        #expect(leap.periods[1].start.iso8601 == "2028-02-29T00:00:00Z")
    }
}
