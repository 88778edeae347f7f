#if os(Linux)
import Glibc
import Testing
@testable import TallyPipeline

/// Whether this kernel has `MADV_POPULATE_WRITE` (Linux 5.14): without it prefaulting does nothing, by design.
private let populateIsSupported: Bool = {
    guard let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED
    else { return false }
    defer { munmap(page, 4096) }
    return madvise(page, 4096, DedupStore.SlotTable.populateWrite) == 0
}()

@Suite("Prefaulting the dedup table", .enabled(if: populateIsSupported))
struct DedupPrefaultTests {
    static let megabyte = 1 << 20

    /// How many 4 KB pages of the table's bytes `range` are in memory.
    static func residentPages(_ table: DedupStore.SlotTable, _ range: Range<Int>) -> Int {
        var flags = [UInt8](repeating: 0, count: range.count / 4096)
        let start = UnsafeMutableRawPointer(table.base) + range.lowerBound
        guard mincore(start, range.count, &flags) == 0 else { return -1 }
        return flags.reduce(0) { $0 + Int($1 & 1) }
    }

    @Test("each part maps its own piece of the table's pages and writes no slot")
    func partsMapTheirPieces() {
        // 2^21 slots x 16 bytes = 32 MB: mapped (from 8 MB), 8,192 pages of 4 KB, 16 huge pages of 2 MB.
        let table = DedupStore.SlotTable(count: 1 << 21)
        let mb = Self.megabyte
        // Nothing is touched when the table is made: the kernel maps pages on first use.
        #expect(Self.residentPages(table, 0..<32 * mb) == 0)
        // Part 1 of 2 is huge pages 8..<16, bytes 16 MB..<32 MB: 4,096 pages of 4 KB.
        table.prefault(part: 1, of: 2)
        #expect(Self.residentPages(table, 16 * mb..<32 * mb) == 4_096)
        // The first half stays unmapped, but for at most one huge page if the mapping does
        // not start on a 2 MB boundary (the one straddling 16 MB is then mapped whole).
        #expect(Self.residentPages(table, 0..<16 * mb) <= 512)
        // Parts outside 0..<parts, or no parts, do nothing (and do not crash).
        table.prefault(part: 2, of: 2)
        table.prefault(part: -1, of: 2)
        table.prefault(part: 0, of: 0)
        #expect(Self.residentPages(table, 0..<8 * mb) <= 512)
        table.prefault(part: 0, of: 2)
        #expect(Self.residentPages(table, 0..<32 * mb) == 8_192)
        // Mapping is not writing: every one of the 2^21 slots is still empty (stamp 0).
        #expect(UnsafeBufferPointer(start: table.base, count: table.count).allSatisfy { $0.stamp == 0 && $0.high == 0 })
    }

    @Test("a meter's prefault is a hint: every outcome is the same with it as without")
    func meterOutcomesUnchanged() throws {
        typealias F = MeteringFixture
        let catalog = try F.catalog()
        let schedule = PeriodSchedule(start: F.periodStart, count: 1)
        // 1M expected events: 2^21 slots, the mapped 32 MB table above.
        var prefaulted = Meter(catalog: catalog, schedule: schedule, expectedEvents: 1_000_000)
        var plain = Meter(catalog: catalog, schedule: schedule, expectedEvents: 1_000_000)
        prefaulted.ingest(F.event("before"), receivedAt: F.now)
        plain.ingest(F.event("before"), receivedAt: F.now)
        for part in 0..<3 { prefaulted.prefaultDedupTable(part: part, of: 3) }
        // 1,500 events whose ids repeat every 1,000, and a re-send of the one accepted before.
        let events = (0..<1_500).map { F.event("k\($0 % 1_000)") } + [F.event("before")]
        for event in events {
            #expect(prefaulted.ingest(event, receivedAt: F.now) == plain.ingest(event, receivedAt: F.now))
        }
        // 1 + 1,000 accepted; 500 repeats + the re-send = 501 duplicates.
        #expect(prefaulted.counts == plain.counts)
        #expect(prefaulted.counts.accepted == 1_001)
        #expect(prefaulted.counts.count(.duplicate) == 501)
    }
}
#endif
