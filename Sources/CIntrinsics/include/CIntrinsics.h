#ifndef TALLY_CINTRINSICS_H
#define TALLY_CINTRINSICS_H

#include <stdint.h>

/// The few CPU instructions Swift cannot spell, for the per-event paths that need them.

/// Asks the CPU to start loading the cache line at `address` for a write soon.
///
/// Swift has no prefetch instruction of its own. The dedup table is far larger
/// than the caches, so each event's probe would otherwise wait ~150 ns for
/// memory; issued a few events ahead, the load overlaps other work. A hint
/// only: it never faults and changes no result.
static inline __attribute__((always_inline)) void tally_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to start loading the cache line at `address` for a read soon. A hint only,
/// as ``tally_prefetch_for_write``.
static inline __attribute__((always_inline)) void tally_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// ⌊(high · 2^64 + low) / divisor⌋, for `high < divisor` (so the quotient fits 64 bits).
///
/// Swift's `dividingFullWidth` compiles to a call of the 128-bit division
/// routine `__udivti3`, several times slower than the one `divq` instruction
/// x86-64 has for exactly this; arrival times divide three times per event.
/// Callers must check `high < divisor`: `divq` faults otherwise.
static inline __attribute__((always_inline)) uint64_t tally_divide_wide(uint64_t high, uint64_t low, uint64_t divisor) {
#if defined(__x86_64__)
    uint64_t quotient, remainder;
    __asm__("divq %4" : "=a"(quotient), "=d"(remainder) : "a"(low), "d"(high), "rm"(divisor));
    (void)remainder;
    return quotient;
#else
    unsigned __int128 numerator = ((unsigned __int128)high << 64) | low;
    return (uint64_t)(numerator / divisor);
#endif
}

#endif
