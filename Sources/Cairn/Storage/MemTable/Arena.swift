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

    /// Each chunk with its size and whether it was mapped (else malloc'd).
    private var chunks: [(base: UnsafeMutableRawPointer, size: Int, mapped: Bool)] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    /// Total bytes reserved from the system (read by statistics threads).
    private let reserved = Atomic<Int>(0)
    /// Bytes handed out, which is what decides when a memtable is full.
    private let used = Atomic<Int>(0)

    var reservedBytes: Int { reserved.load(ordering: .relaxed) }
    var usedBytes: Int { used.load(ordering: .relaxed) }

    deinit {
        for chunk in chunks {
            #if os(Linux)
            if chunk.mapped {
                munmap(chunk.base, chunk.size)
                continue
            }
            #endif
            chunk.base.deallocate()
        }
    }

    /// Chunks are mapped from the kernel rather than taken from malloc, so
    /// that a flushed memtable's memory goes back to the system: glibc
    /// keeps freed heap memory, and a process that had written 1M series
    /// held the memtables' high-water mark after every flush (about 180
    /// bytes a series of the 300 its resident set grew by; bench/RESULTS.md).
    /// Falls back to malloc when the kernel refuses a mapping.
    private func newChunk(_ size: Int, alignment: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        let page = 4096
        let length = (size + page - 1) & ~(page - 1)
        let span = length + (alignment > page ? alignment : 0)
        if let base = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           base != UnsafeMutableRawPointer(bitPattern: -1) {
            let address = UInt(bitPattern: Int(bitPattern: base))
            let mask = UInt(max(alignment, page) - 1)
            let aligned = (address + mask) & ~mask
            let head = Int(aligned - address)
            // The parts before and after the aligned chunk go back at once.
            if head > 0 { munmap(base, head) }
            let tail = span - head - length
            if tail > 0, let after = UnsafeMutableRawPointer(bitPattern: aligned + UInt(length)) { munmap(after, tail) }
            if let chunk = UnsafeMutableRawPointer(bitPattern: aligned) {
                chunks.append((chunk, length, true))
                reserved.add(length, ordering: .relaxed)
                return chunk
            }
        }
        #endif
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
        chunks.append((chunk, size, false))
        reserved.add(size, ordering: .relaxed)
        return chunk
    }

    /// Returns `size` bytes aligned to 8, uninitialized.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (size + 7) & ~7
        used.add(rounded, ordering: .relaxed)
        if rounded > remaining {
            // A large entry gets a chunk of its own, so it does not waste the
            // rest of the current chunk.
            if rounded > Arena.chunkSize / 4 {
                return newChunk(rounded, alignment: 8)
            }
            let chunk = newChunk(Arena.chunkSize, alignment: Arena.chunkSize)
            #if os(Linux)
            _ = madvise(chunk, Arena.chunkSize, MADV_HUGEPAGE)  // a hint: refused, the chunk works with small pages
            #endif
            cursor = chunk
            remaining = Arena.chunkSize
        }
        let result = cursor!
        cursor = result + rounded
        remaining -= rounded  // Safe: rounded <= remaining was ensured above.
        return result
    }
}
