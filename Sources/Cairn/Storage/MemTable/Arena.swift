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
    /// Chunks of 2 MiB in ordinary pages. They were once aligned huge pages
    /// (`madvise(MADV_HUGEPAGE)`), for the TLB misses of skiplist searches,
    /// but the first touch of each huge page stalled its writer: the kernel
    /// compacts memory to find 2 MiB free, and on this project's VM a
    /// chunk's first touch took 6–31 ms against 0.8 ms in 4 KiB pages. A
    /// group commit waited on it, and the fills were faster and steadier
    /// without (bench/RESULTS.md, "The memtable in small pages").
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

    /// Where dead arenas' chunks wait for the next (the process's pool,
    /// or a test's own).
    private let pool: ArenaChunkPool

    init(pool: ArenaChunkPool = .shared) {
        self.pool = pool
        pool.arenaCreated()
    }

    deinit {
        var mapped: [UnsafeMutableRawPointer] = []
        for chunk in chunks {
            #if os(Linux)
            if chunk.mapped {
                if chunk.size == Arena.chunkSize {
                    mapped.append(chunk.base)
                } else {
                    munmap(chunk.base, chunk.size)
                }
                continue
            }
            #endif
            chunk.base.deallocate()
        }
        // Chunks the pool does not keep, and the pool's own when this was
        // the last arena.
        for base in pool.arenaDestroyed(releasing: mapped) { munmap(base, Arena.chunkSize) }
    }

    /// Chunks are mapped from the kernel rather than taken from malloc, so
    /// that a flushed memtable's memory goes back to the system: glibc
    /// keeps freed heap memory, and a process that had written 1M series
    /// held the memtables' high-water mark after every flush (about 180
    /// bytes a series of the 300 its resident set grew by; bench/RESULTS.md).
    /// A chunk of a dead memtable is taken first (ArenaChunkPool, which
    /// keeps a bounded few). Falls back to malloc when the kernel refuses a
    /// mapping.
    private func newChunk(_ size: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        if size == Arena.chunkSize, let base = pool.take() {
            chunks.append((base, size, true))
            reserved.add(size, ordering: .relaxed)
            return base
        }
        let length = (size + 4095) & ~4095
        if let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           base != UnsafeMutableRawPointer(bitPattern: -1) {
            chunks.append((base, length, true))
            reserved.add(length, ordering: .relaxed)
            return base
        }
        #endif
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
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
                return newChunk(rounded)
            }
            let chunk = newChunk(Arena.chunkSize)
            cursor = chunk
            remaining = Arena.chunkSize
        }
        let result = cursor!
        cursor = result + rounded
        remaining -= rounded  // Safe: rounded <= remaining was ensured above.
        return result
    }
}

/// Chunks of flushed memtables, kept mapped for the next memtables: a
/// fresh mapping costs a page fault and a zeroed page for every 4 KiB the
/// writer touches (512 a chunk), and a fill of 1,000,000 small pairs took
/// about 39,000 of them, every one in the group-commit leader's path
/// (bench/RESULTS.md, "Memtable chunks reused"). A reused chunk's pages
/// are already resident and hold old entries, which is fine: the arena
/// hands out uninitialized memory, and MemTable writes every field of a
/// node before linking it.
///
/// Bounded, and only while it can be used: at most `capacity` chunks wait
/// here (8, 16 MiB, in the shared pool, whatever the number of open
/// databases); and once the last arena is gone (every database closed and
/// released) the pool unmaps what it holds, so a program that is done
/// with its databases gets their memory back. A writing database's
/// memtable fills from the chunks of the one whose flush just ended; what
/// waits meanwhile stays resident (a fill's peak resident set grew by
/// 2-9 MiB).
final class ArenaChunkPool: Sendable {
    /// The pool every memtable uses.
    static let shared = ArenaChunkPool(capacity: 8)

    let capacity: Int

    private struct State {
        /// Chunk addresses (bit patterns: raw pointers are not Sendable).
        var chunks: [UInt] = []
        var liveArenas = 0
    }
    /// A leaf lock (docs/architecture.md, "Locks").
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    func arenaCreated() {
        state.withLock { $0.liveArenas += 1 }
    }

    /// A dying arena's full-size mapped chunks come in; returns those to
    /// unmap: what does not fit, and everything once no arena is left.
    func arenaDestroyed(releasing chunks: [UnsafeMutableRawPointer]) -> [UnsafeMutableRawPointer] {
        let unmap: [UInt] = state.withLock { state in
            state.liveArenas -= 1
            var rest = chunks.map { UInt(bitPattern: $0) }
            if state.liveArenas <= 0 {
                rest += state.chunks
                state.chunks = []
                return rest
            }
            let kept = min(rest.count, capacity - state.chunks.count)
            state.chunks += rest.prefix(kept)
            return Array(rest.dropFirst(kept))
        }
        return unmap.compactMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// A pooled chunk of `Arena.chunkSize` bytes, or nil when none waits.
    func take() -> UnsafeMutableRawPointer? {
        state.withLock { $0.chunks.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// How many chunks wait (for tests).
    var count: Int { state.withLock { $0.chunks.count } }
}
