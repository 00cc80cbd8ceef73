import Synchronization
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
/// ignores addresses outside its own heap). Only the reservation matters:
/// nothing is ever mapped there, so it costs no memory.
final class HandleTable: @unchecked Sendable {
    static let shared = HandleTable()

    /// Address space tried for the region, largest first: 4 GiB gives 512
    /// million handles before any slot is reused. Smaller reservations keep
    /// the library working under `ulimit -v` and valgrind.
    private static let regionSizes = [1 << 32, 1 << 30, 1 << 26, 1 << 20]
    private let base: UInt
    private let slotCount: UInt

    /// The slots live in shards, each with its own mutex, so that calls on
    /// different handles from different threads never wait for one
    /// process-wide lock (a handle's shard is its slot modulo the count).
    private final class Shard {
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        var objects = SlotMap()
        /// In a child made by fork(): the slots that were live in the
        /// parent. Their objects hold the parent's threads, locks and
        /// files, so every call on them fails at once, and closing one only
        /// forgets it (the object is kept, never torn down: its teardown
        /// would sync, flush or delete files the parent owns, or wait on
        /// threads the child lacks). SQLite documents the same rule: a
        /// connection does not cross fork().
        var inherited = Set<UInt>()
        var forgotten: [AnyObject] = []

        init() {
            mutex = .allocate(capacity: 1)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }

        func withLock<T>(_ body: () throws -> T) rethrows -> T {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body()
        }
    }

    private static let shardCount: UInt = 64
    private let shards = (0..<HandleTable.shardCount).map { _ in Shard() }
    /// Slots are handed out in a cycle over the whole region, skipping live
    /// ones, so a stale handle can meet a new object only after every other
    /// slot has been used since.
    private let nextSlot = Atomic<UInt>(1)
    private let liveCount = Atomic<Int>(0)

    private init() {
        var reserved: (UInt, Int)?
        for size in HandleTable.regionSizes {
            let region = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let region, region != MAP_FAILED {
                reserved = (UInt(bitPattern: region), size)
                break
            }
        }
        // Without any reservation, handles become plain numbers far above
        // small integers; they are never dereferenced either way.
        let (address, size) = reserved ?? (UInt(1) << 46, 1 << 32)
        base = address
        slotCount = UInt(size / 8)
        // The shards' mutexes must be free in the child even when another
        // thread held one at the moment of fork(): take them all around it.
        pthread_atfork({ HandleTable.shared.prepareForFork() },
                       { HandleTable.shared.resumeInParent() },
                       { HandleTable.shared.resumeInChild() })
    }

    private func prepareForFork() { for shard in shards { pthread_mutex_lock(shard.mutex) } }
    private func resumeInParent() { for shard in shards.reversed() { pthread_mutex_unlock(shard.mutex) } }
    private func resumeInChild() {
        // The forking thread took the mutexes in prepareForFork, and is the
        // child's only thread: it may unlock them.
        for shard in shards.reversed() {
            shard.inherited.formUnion(shard.objects.liveKeys)
            pthread_mutex_unlock(shard.mutex)
        }
    }

    private static func inheritedError(_ what: String) -> CairnError {
        CairnError(.invalidArgument, "the \(what) handle was opened by the parent process and used after fork(); open the database again in the child")
    }

    @inline(__always)
    private func shard(_ slot: UInt) -> Shard { shards[Int(slot % HandleTable.shardCount)] }

    /// Registers `object` and returns its new handle.
    func register(_ object: AnyObject) throws -> OpaquePointer {
        guard liveCount.add(1, ordering: .relaxed).newValue < Int(slotCount) - 1 else {
            liveCount.subtract(1, ordering: .relaxed)
            throw CairnError(.internal, "too many open handles (\(liveCount.load(ordering: .relaxed)))")
        }
        while true {
            let slot = nextSlot.add(1, ordering: .relaxed).oldValue % slotCount
            guard slot != 0 else { continue }
            let claimed = shard(slot).withLock { () -> Bool in
                guard shard(slot).objects.get(slot) == nil else { return false }
                shard(slot).objects.set(slot, object)
                return true
            }
            if claimed { return OpaquePointer(bitPattern: base + slot * 8)! }
        }
    }

    private func slot(of handle: OpaquePointer) -> UInt? {
        let address = UInt(bitPattern: handle)
        guard address > base, address < base + slotCount * 8, (address - base) % 8 == 0 else { return nil }
        return (address - base) / 8
    }

    /// The live object behind `handle`: CLOSED when it was closed or never
    /// existed, INVALID_ARGUMENT when NULL or of another handle type.
    func object<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type, _ what: String) throws -> T {
        guard let handle else { throw CairnError(.invalidArgument, "the \(what) handle is NULL") }
        guard let slot = slot(of: handle) else { throw CairnError(.closed, "the \(what) handle is closed") }
        let home = shard(slot)
        let (found, fromParent): (AnyObject?, Bool) = home.withLock {
            (home.objects.get(slot), !home.inherited.isEmpty && home.inherited.contains(slot))
        }
        guard let found else { throw CairnError(.closed, "the \(what) handle is closed") }
        guard !fromParent else { throw HandleTable.inheritedError(what) }
        guard let typed = found as? T else { throw CairnError(.invalidArgument, "the handle is not a \(what) handle") }
        return typed
    }

    /// Removes `handle` and returns its object, or nil when already removed
    /// (or inherited through fork(): then it is only forgotten).
    func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        guard let handle, let slot = slot(of: handle) else { return nil }
        let home = shard(slot)
        return home.withLock {
            guard let typed = home.objects.get(slot) as? T else { return nil }
            home.objects.remove(slot)
            liveCount.subtract(1, ordering: .relaxed)
            if !home.inherited.isEmpty, home.inherited.remove(slot) != nil {
                home.forgotten.append(typed)
                return nil
            }
            return typed
        }
    }
}

/// Slot number -> object, open addressing with linear probing and a
/// multiplicative hash: every ABI call looks its handle up here, and this
/// costs a fraction of a Dictionary's SipHash lookup.
struct SlotMap {
    private var keys: [UInt] = Array(repeating: 0, count: 64)  // 0: empty; tombstone: UInt.max
    private var values: [AnyObject?] = Array(repeating: nil, count: 64)
    private(set) var count = 0
    private var used = 0  // live entries plus tombstones

    @inline(__always)
    private func home(_ key: UInt, _ mask: Int) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    func get(_ key: UInt) -> AnyObject? {
        let mask = keys.count - 1
        var index = home(key, mask)
        while true {
            let k = keys[index]
            if k == key { return values[index] }
            if k == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    mutating func set(_ key: UInt, _ value: AnyObject) {
        if (used + 1) * 2 > keys.count { rehash(to: count * 2 + 2 > keys.count / 2 ? keys.count * 2 : keys.count) }
        let mask = keys.count - 1
        var index = home(key, mask)
        while keys[index] != 0 && keys[index] != UInt.max && keys[index] != key { index = (index + 1) & mask }
        if keys[index] != key {
            if keys[index] == 0 { used += 1 }
            count += 1
        }
        keys[index] = key
        values[index] = value
    }

    /// Every live key.
    var liveKeys: [UInt] { keys.filter { $0 != 0 && $0 != UInt.max } }

    mutating func remove(_ key: UInt) {
        let mask = keys.count - 1
        var index = home(key, mask)
        while keys[index] != 0 {
            if keys[index] == key {
                keys[index] = UInt.max
                values[index] = nil
                count -= 1
                return
            }
            index = (index + 1) & mask
        }
    }

    private mutating func rehash(to capacity: Int) {
        let oldKeys = keys, oldValues = values
        keys = Array(repeating: 0, count: max(capacity, 64))
        values = Array(repeating: nil, count: max(capacity, 64))
        count = 0
        used = 0
        for (index, key) in oldKeys.enumerated() where key != 0 && key != UInt.max { set(key, oldValues[index]!) }
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

/// The store behind a cairn_db handle, which may stand for a transaction
/// (cairn_txn_begin hands out cairn_db handles).
/// The scope a handle stands for: a database or a transaction (both are a
/// `cairn_db *` in the header).
func scope(_ handle: OpaquePointer?) throws -> Scope {
    let object = try HandleTable.shared.object(handle, as: AnyObject.self, "database")
    // A class cast first: the common case, and cheaper than the protocol
    // cast, which looks the conformance up in the runtime's cache.
    if let database = object as? Database { return database }
    if let transaction = object as? Transaction { return transaction }
    guard let scope = object as? Scope else { throw CairnError(.invalidArgument, "the handle is not a database handle") }
    return scope
}

/// A database handle proper: a transaction handle here is INVALID_ARGUMENT.
func databaseOnly(_ handle: OpaquePointer?) throws -> Database {
    let object = try HandleTable.shared.object(handle, as: AnyObject.self, "database")
    if object is Transaction { throw CairnError(.invalidArgument, "this function does not take a transaction handle") }
    guard let database = object as? Database else { throw CairnError(.invalidArgument, "the handle is not a database handle") }
    return database
}
