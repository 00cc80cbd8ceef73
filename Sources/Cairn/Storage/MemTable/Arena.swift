import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bump allocation for memtable nodes: many small allocations carved out
/// of large chunks and freed all at once when the memtable dies. No
/// per-entry object, no reference counting on the hot path.
///
/// REQUIRES: one allocating thread at a time (the group-commit leader).
/// Memory handed out is never moved or reused while the arena lives, so
/// readers may hold raw pointers into it for as long as they retain the
/// owning memtable.
final class Arena {
    /// Chunks are one huge page each, aligned to it, and the kernel is
    /// asked to back them with huge pages (transparent huge pages, where
    /// it allows them): a skiplist search jumps between nodes spread over
    /// the whole memtable, and with 4 KiB pages nearly every jump was a
    /// TLB miss besides its cache miss.
    static let chunkSize = 2 << 20

    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    /// Total bytes reserved from the system (read by statistics threads).
    private let reserved = Atomic<Int>(0)
    /// Bytes handed out, which is what decides when a memtable is full.
    private let used = Atomic<Int>(0)

    var reservedBytes: Int { reserved.load(ordering: .relaxed) }
    var usedBytes: Int { used.load(ordering: .relaxed) }

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Returns `size` bytes aligned to 8, uninitialized.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (size + 7) & ~7
        used.add(rounded, ordering: .relaxed)
        if rounded > remaining {
            // A large entry gets a chunk of its own, so it does not waste the
            // rest of the current chunk.
            if rounded > Arena.chunkSize / 4 {
                let chunk = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: 8)
                chunks.append(chunk)
                reserved.add(rounded, ordering: .relaxed)
                return chunk
            }
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: Arena.chunkSize, alignment: Arena.chunkSize)
            #if os(Linux)
            _ = madvise(chunk, Arena.chunkSize, MADV_HUGEPAGE)  // a hint: refused, the chunk works with small pages
            #endif
            chunks.append(chunk)
            reserved.add(Arena.chunkSize, ordering: .relaxed)
            cursor = chunk
            remaining = Arena.chunkSize
        }
        let result = cursor!
        cursor = result + rounded
        remaining -= rounded  // Safe: rounded <= remaining was ensured above.
        return result
    }
}
