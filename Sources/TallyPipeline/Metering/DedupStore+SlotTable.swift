#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension DedupStore {
    /// The dedup table's memory: zeroed slots (stamp 0 is "empty"), on huge pages where the system offers them.
    ///
    /// At 10 million keys the table is 256 MB. With 4 KB pages, each probe of a
    /// random slot also misses the TLB, and the page walk that follows costs as
    /// much as the memory load itself (more on a virtual machine, whose page walks
    /// are two-dimensional), and a prefetch cannot hide it. On Linux the table is
    /// mapped directly and marked `MADV_HUGEPAGE`, so 2 MB pages cover it with a
    /// few hundred TLB entries; the kernel also hands the pages out zeroed and
    /// only when first touched, so a large table costs nothing until used.
    ///
    /// A class, for the manual allocation; ``DedupStore`` copies it before
    /// writing when it is shared, so the store keeps value semantics. That is also why it
    /// may cross threads: a table reachable from two stores is never written.
    final class SlotTable: @unchecked Sendable {
        let base: UnsafeMutablePointer<Slot>
        let count: Int
        private let mapped: Bool

        /// A table of `count` empty slots.
        init(count: Int) {
            self.count = count
            let bytes = count * MemoryLayout<Slot>.stride
            #if os(Linux)
            // Below a few huge pages the TLB covers the table anyway: plain zeroed memory will do.
            if bytes >= 8 << 20,
                let region = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                region != MAP_FAILED
            {
                _ = madvise(region, bytes, MADV_HUGEPAGE)  // A hint: without it the table still works.
                base = region.bindMemory(to: Slot.self, capacity: count)
                mapped = true
                return
            }
            #endif
            base = UnsafeMutablePointer<Slot>.allocate(capacity: count)
            base.initialize(repeating: Slot(high: 0, tag: 0, stamp: 0), count: count)
            mapped = false
        }

        deinit {
            #if os(Linux)
            if mapped {
                _ = munmap(UnsafeMutableRawPointer(base), count * MemoryLayout<Slot>.stride)
                return
            }
            #endif
            base.deallocate()
        }

        /// Maps one of `parts` equal pieces of the table's pages now, without writing to them
        /// (why: ``Meter/prefaultDedupTable(part:of:)``).
        ///
        /// Linux's `MADV_POPULATE_WRITE` maps the pages as a first write would and leaves
        /// their contents alone, so this is safe beside readers and writers of the table.
        /// Elsewhere (and before Linux 5.14, or for a table too small to be mapped, which
        /// was zeroed when it was allocated) it does nothing; the table works the same.
        func prefault(part: Int, of parts: Int) {
            #if os(Linux)
            guard mapped, parts > 0, part >= 0, part < parts else { return }
            // Whole huge pages to each piece, so that no two threads fault the same one.
            let page = 2 << 20
            let pages = (bytes + page - 1) / page
            let first = pages * part / parts * page
            let end = Swift.min(pages * (part + 1) / parts * page, bytes)
            guard first < end else { return }
            _ = madvise(UnsafeMutableRawPointer(base) + first, end - first, SlotTable.populateWrite)
            #endif
        }

        /// Linux's `MADV_POPULATE_WRITE` (5.14), named here because older C libraries lack it.
        static let populateWrite: Int32 = 23

        /// A copy with the same slots, for a store about to write to a shared table.
        func copy() -> SlotTable {
            let copy = SlotTable(count: count)
            copy.base.update(from: base, count: count)
            return copy
        }

        var bytes: Int { count * MemoryLayout<Slot>.stride }
    }
}
