/* Small C helpers for the Swift core, where C reaches the CPU more directly
 * than Swift can. Internal: not part of include/cairn.h, not exported from
 * libcairn.so (the version script keeps only cairn_* symbols). */
#ifndef CAIRN_SUPPORT_H
#define CAIRN_SUPPORT_H
#include <stddef.h>
#include <stdint.h>

/* Extends a CRC-32C (Castagnoli) over `length` bytes; start with crc = 0.
 * Uses the SSE4.2 crc32 instruction when the CPU has it. */
__attribute__((visibility("hidden")))
uint32_t cairn_support_crc32c(uint32_t crc, const void *data, size_t length);

/* Asks the CPU to start loading the cache line at `address` (a hint: no
 * fault, no effect on results). The skiplist prefetches the node after the
 * one it compares next, as RocksDB's InlineSkipList does. */
static inline void cairn_support_prefetch(const void *address) { __builtin_prefetch(address, 0, 1); }

#endif
