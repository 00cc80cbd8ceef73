import Cairn
#if canImport(Glibc)
import Glibc
#endif

/// The table behind every opaque handle of include/cairn.h.
///
/// A handle is never a pointer to an object: it is an address inside a
/// region of address space reserved with PROT_NONE and never reused, and
/// the table maps it to the object. So a closed, double-closed or made-up
/// handle is recognized (CAIRN_CLOSED) instead of being dereferenced, and
/// the values look like ordinary C pointers to every language (Go's
/// garbage collector rejects small integers in pointer variables, but
/// ignores addresses outside its own heap).
final class HandleTable: @unchecked Sendable {
    static let shared = HandleTable()

    /// 2^36 bytes of reserved address space at 8 bytes a handle: 8 billion
    /// handles in a process lifetime.
    private static let regionSize = 1 << 36
    private let base: UInt
    private var mutex = pthread_mutex_t()
    private var objects: [UInt: AnyObject] = [:]
    private var nextSlot: UInt = 1

    private init() {
        let region = mmap(nil, HandleTable.regionSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        precondition(region != MAP_FAILED, "cannot reserve address space for handles")
        base = UInt(bitPattern: region)
        pthread_mutex_init(&mutex, nil)
    }

    private func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Registers `object` and returns its new handle.
    func register(_ object: AnyObject) -> OpaquePointer {
        withLock {
            let slot = nextSlot
            precondition(Int(slot) * 8 < HandleTable.regionSize, "handle space exhausted")
            nextSlot += 1
            objects[slot] = object
            return OpaquePointer(bitPattern: base + slot * 8)!
        }
    }

    private func slot(of handle: OpaquePointer) -> UInt? {
        let address = UInt(bitPattern: handle)
        guard address > base, address < base + UInt(HandleTable.regionSize), (address - base) % 8 == 0 else { return nil }
        return (address - base) / 8
    }

    /// The live object behind `handle`: CLOSED when it was closed or never
    /// existed, INVALID_ARGUMENT when NULL or of another handle type.
    func object<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type, _ what: String) throws -> T {
        guard let handle else { throw CairnError(.invalidArgument, "the \(what) handle is NULL") }
        let found: AnyObject? = withLock { slot(of: handle).flatMap { objects[$0] } }
        guard let found else { throw CairnError(.closed, "the \(what) handle is closed") }
        guard let typed = found as? T else { throw CairnError(.invalidArgument, "the handle is not a \(what) handle") }
        return typed
    }

    /// Removes `handle` and returns its object, or nil when already removed.
    func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        guard let handle else { return nil }
        return withLock {
            guard let slot = slot(of: handle), let typed = objects[slot] as? T else { return nil }
            objects[slot] = nil
            return typed
        }
    }
}

/// A write batch behind a cairn_batch handle.
final class BatchBox {
    var batch = KeyValueBatch()
}

/// An iterator behind a cairn_iter handle.
final class IteratorBox {
    let iterator: KeyValueIterator
    init(_ iterator: KeyValueIterator) { self.iterator = iterator }
}
