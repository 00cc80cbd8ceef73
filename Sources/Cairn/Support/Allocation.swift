#if canImport(Glibc)
import Glibc
#endif

/// Allocations whose size comes from input (a value, a document, a batch, a
/// block read from a file) go through here, so that running out of memory
/// (an address-space limit, a container's memory cap) is NO_MEMORY and
/// writes nothing, instead of Swift's allocation failure, which aborts the
/// whole process.
///
/// What is protected (include/cairn.h lists the same): key-value puts and
/// batches, document inserts and replacements given as JSON, every write
/// the engine commits, log segments and manifests read at open, and blocks
/// read from tables. What is not: the many small allocations of ordinary
/// work; Swift cannot recover from those, and the limits above keep each
/// one small.
enum Allocation {
    /// Inputs below this are ordinary work, not worth a check.
    static let checkedFrom = 1 << 20

    /// A buffer of `bytes` the caller owns and frees with `deallocate()`.
    static func buffer(_ bytes: Int, for what: @autoclosure () -> String) throws -> UnsafeMutableRawBufferPointer {
        let size = max(bytes, 1)
        guard bytes >= 0, let memory = malloc(size) else { throw failure(bytes, what()) }
        return UnsafeMutableRawBufferPointer(start: memory, count: size)
    }

    /// Checks that `bytes` can be had now, before work that builds them in
    /// Swift arrays (whose growth cannot fail softly): the memory is taken
    /// and given back at once, so the arrays that follow find it.
    static func reserve(_ bytes: Int, for what: @autoclosure () -> String) throws {
        guard bytes >= checkedFrom else { return }
        // mmap, not malloc: the compiler may delete a malloc whose memory is
        // never used, and this probe's never is. A large malloc is an mmap
        // of its own anyway, so the answer is the same.
        let region = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let region, region != MAP_FAILED else { throw failure(bytes, what()) }
        munmap(region, bytes)
    }

    private static func failure(_ bytes: Int, _ what: String) -> CairnError {
        CairnError(.noMemory, "out of memory: \(what) needs \(bytes) bytes; nothing was written")
    }
}
