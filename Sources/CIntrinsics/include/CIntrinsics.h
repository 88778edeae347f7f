#ifndef TALLY_CPREFETCH_H
#define TALLY_CPREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for a write soon.
///
/// Swift has no prefetch instruction of its own. The dedup table is far larger
/// than the caches, so each event's probe would otherwise wait ~150 ns for
/// memory; issued a few events ahead, the load overlaps other work. A hint
/// only: it never faults and changes no result.
static inline __attribute__((always_inline)) void tally_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
