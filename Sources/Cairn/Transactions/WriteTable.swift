/// One layer of a transaction's pending writes (see PendingWrites): each
/// write is a record appended to one flat log, found through an
/// open-addressing index of hashes.
///
/// Why flat: one insert_many of 100,000 graph edges writes 300,000 keys.
/// As a `[EngineKey: Slot]` dictionary each write kept its key's and its
/// value's arrays alive (two allocations, reference counted on every pass
/// over them), the commit chased them in random order to copy them back to
/// back for its sort, and the end of the commit freed them one by one: a
/// profile put those passes at half of the commit. Here the bytes are
/// copied once, as they are written, into memory that the commit sorts in
/// place, and a whole layer is two allocations.
///
/// A record, at its offset in the log:
///
///     hash        UInt64  (of the key, with the process's seed)
///     keyLength   Int     (negative, -1 - length: superseded; see below)
///     valueLength Int     (>= 0: a put; -1: a deletion; -2: unwritten)
///     ttlMillis   Int64
///     key bytes, then value bytes
///
/// A key written again with a value of the same length is changed in
/// place (a counter); otherwise the new record is appended and the old one
/// marked superseded, so a walk of the log meets each key's live record
/// once. Lengths are machine integers, loaded unaligned, so no key or
/// value size can overflow a narrower field.
///
/// Not thread-safe: PendingWrites changes a table only while it holds the
/// only reference, and readers on other threads only read frozen tables.
final class WriteTable {
    /// What a record says of its key.
    enum Write {
        /// A put of the value (borrowed from the table's log).
        case put(UnsafeRawBufferPointer, ttlMillis: Int64)
        case deletion
        /// Written in an older layer, then undone by a savepoint: the key
        /// reads from the snapshot again.
        case unwritten
    }

    private static let headerSize = 32
    private static let deletionLength = -1
    private static let unwrittenLength = -2
    /// Slots hold the key's hash tag (its top 24 bits) and its record's
    /// offset + 1 (the low 40 bits: a log of up to a terabyte).
    private static let offsetBits: UInt64 = 40
    private static let offsetMask: UInt64 = (1 << offsetBits) - 1
    private static let tagMask: UInt64 = ~offsetMask
    /// A seed chosen per process, so keys cannot be chosen to collide.
    private static let seed = UInt64.random(in: 1 ... .max)

    private var log: UnsafeMutableRawPointer?
    private var logCapacity = 0
    /// Bytes of the log in use.
    private(set) var logBytes = 0
    /// Records appended, superseded ones included.
    private(set) var recordCount = 0
    /// Keys with a live record (puts, deletions and unwritten marks).
    private(set) var count = 0
    /// Bytes of every key appended, superseded ones included.
    private(set) var keyBytes = 0
    /// Bytes of superseded and removed records, which `compact` gives back.
    private var deadBytes = 0
    private var slots: UnsafeMutablePointer<UInt64>?
    private var slotMask = -1

    init() {}

    deinit {
        log?.deallocate()
        slots?.deallocate()
    }

    /// True when nothing was ever written to this table.
    var isEmpty: Bool { recordCount == 0 }

    /// A copy that later writes to either leave the other unchanged.
    func copy() -> WriteTable {
        let copy = WriteTable()
        if let log, logBytes > 0 {
            copy.growLog(to: logBytes)
            copy.log!.copyMemory(from: log, byteCount: logBytes)
        }
        copy.logBytes = logBytes
        copy.recordCount = recordCount
        copy.count = count
        copy.keyBytes = keyBytes
        copy.deadBytes = deadBytes
        if let slots {
            let n = slotMask + 1
            copy.slots = .allocate(capacity: n)
            copy.slots!.update(from: slots, count: n)
            copy.slotMask = slotMask
        }
        return copy
    }

    // MARK: Lookups

    /// The live write of `key`, borrowed for `body`; nil when this table
    /// does not hold the key.
    @inline(__always)
    func withWrite<T>(_ key: UnsafeRawBufferPointer, _ body: (Write?) throws -> T) rethrows -> T {
        guard count > 0, let offset = find(key, hash: Self.hash(key)).offset else { return try body(nil) }
        return try body(write(at: offset))
    }

    /// Whether this table holds a live record of `key`.
    func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        count > 0 && find(key, hash: Self.hash(key)).offset != nil
    }

    /// Calls `body` with each live record's key and write, in the order
    /// first written (a key changed in place keeps its place).
    func forEach(_ body: (UnsafeRawBufferPointer, Write) throws -> Void) rethrows {
        guard let log else { return }
        var offset = 0
        while offset < logBytes {
            let keyLength = log.loadUnaligned(fromByteOffset: offset + 8, as: Int.self)
            let length = keyLength >= 0 ? keyLength : -1 - keyLength
            if keyLength >= 0 {
                try body(UnsafeRawBufferPointer(start: log + offset + Self.headerSize, count: length), write(at: offset))
            }
            offset = next(after: offset, keyLength: length)
        }
    }

    /// The start and length of each live record's key in `log`, in the
    /// order first written: what ByteStringSort sorts in place.
    func keyPositions() -> (starts: [Int], lengths: [Int]) {
        var starts: [Int] = [], lengths: [Int] = []
        starts.reserveCapacity(count)
        lengths.reserveCapacity(count)
        guard let log else { return (starts, lengths) }
        var offset = 0
        while offset < logBytes {
            let keyLength = log.loadUnaligned(fromByteOffset: offset + 8, as: Int.self)
            let length = keyLength >= 0 ? keyLength : -1 - keyLength
            if keyLength >= 0 {
                starts.append(offset + Self.headerSize)
                lengths.append(length)
            }
            offset = next(after: offset, keyLength: length)
        }
        return (starts, lengths)
    }

    /// The log's bytes, for keys at the positions of `keyPositions`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: log, count: logBytes) }

    /// The write of the record whose key starts at `keyStart` (a position
    /// from `keyPositions`).
    func write(ofKeyAt keyStart: Int) -> Write { write(at: keyStart - Self.headerSize) }

    // MARK: Changes

    /// Writes `key`. Returns true when the table held a live record of it
    /// before (which this write replaces).
    @discardableResult
    func set(_ key: UnsafeRawBufferPointer, _ write: Write) -> Bool {
        let hash = Self.hash(key)
        let (slot, found) = find(key, hash: hash)
        let (valueLength, value, ttl) = Self.parts(of: write)
        if let found {
            if log!.loadUnaligned(fromByteOffset: found + 16, as: Int.self) == valueLength {
                // Same kind and length (a counter's new count): in place.
                log!.storeBytes(of: ttl, toByteOffset: found + 24, as: Int64.self)
                if valueLength > 0 {
                    (log! + found + Self.headerSize + key.count).copyMemory(from: value.baseAddress!, byteCount: valueLength)
                }
                return true
            }
            // Superseded: a walk of the log skips it from now on.
            markDead(at: found, keyLength: key.count)
            let offset = append(key, hash: hash, valueLength: valueLength, value: value, ttl: ttl)
            slots![slot] = (hash & Self.tagMask) | UInt64(offset + 1)
            compactIfMostlyDead()
            return true
        }
        if slots == nil || 2 * (count + 1) > slotMask + 1 {
            growSlots(toHold: count + 1)
        }
        let offset = append(key, hash: hash, valueLength: valueLength, value: value, ttl: ttl)
        insertSlot(hash: hash, offset: offset)
        count += 1
        return false
    }

    /// Forgets `key` (a savepoint undoing its only write). Does nothing
    /// when the table does not hold it.
    func remove(_ key: UnsafeRawBufferPointer) {
        guard count > 0 else { return }
        let (slot, found) = find(key, hash: Self.hash(key))
        guard let found else { return }
        markDead(at: found, keyLength: key.count)
        count -= 1
        // Linear probing's deletion: move later entries of the same run
        // back into the hole, so every lookup still finds them.
        let slots = slots!
        var hole = slot
        var next = (slot + 1) & slotMask
        while slots[next] != 0 {
            let home = Int(truncatingIfNeeded: hashOfSlot(slots[next])) & slotMask
            // The entry may move to the hole when its home is not
            // cyclically within (hole, next].
            let distanceToHole = (next - hole) & slotMask
            let distanceToHome = (next - home) & slotMask
            if distanceToHome >= distanceToHole {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & slotMask
        }
        slots[hole] = 0
        compactIfMostlyDead()
    }

    /// Makes room for `additional` more keys at once (a large insert).
    func reserve(_ additional: Int) {
        guard additional > 0 else { return }
        let needed = count + additional
        if slots == nil || 2 * needed > slotMask + 1 { growSlots(toHold: needed) }
    }

    /// Writes every live record of `newer` over this table's (the newer
    /// write of a key wins).
    func merge(_ newer: WriteTable) {
        reserve(newer.count)
        newer.forEach { key, write in set(key, write) }
    }

    // MARK: Internals

    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        Hash64.hash(key, seed: seed)
    }

    @inline(__always)
    private static func parts(of write: Write) -> (length: Int, value: UnsafeRawBufferPointer, ttl: Int64) {
        switch write {
        case .put(let value, let ttl): return (value.count, value, ttl)
        case .deletion: return (deletionLength, UnsafeRawBufferPointer(start: nil, count: 0), 0)
        case .unwritten: return (unwrittenLength, UnsafeRawBufferPointer(start: nil, count: 0), 0)
        }
    }

    @inline(__always)
    private func write(at offset: Int) -> Write {
        let log = log!
        let keyLength = log.loadUnaligned(fromByteOffset: offset + 8, as: Int.self)
        let valueLength = log.loadUnaligned(fromByteOffset: offset + 16, as: Int.self)
        switch valueLength {
        case Self.deletionLength: return .deletion
        case Self.unwrittenLength: return .unwritten
        default:
            let ttl = log.loadUnaligned(fromByteOffset: offset + 24, as: Int64.self)
            return .put(UnsafeRawBufferPointer(start: log + offset + Self.headerSize + keyLength, count: valueLength), ttlMillis: ttl)
        }
    }

    @inline(__always)
    private func next(after offset: Int, keyLength: Int) -> Int {
        let valueLength = log!.loadUnaligned(fromByteOffset: offset + 16, as: Int.self)
        return offset + Self.headerSize + keyLength + max(valueLength, 0)
    }

    /// The slot where `key` is (with its record's offset) or where it would
    /// go (offset nil). REQUIRES: slots exist, or the offset is nil.
    @inline(__always)
    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (slot: Int, offset: Int?) {
        guard let slots, let log else { return (0, nil) }
        let tag = hash & Self.tagMask
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { return (slot, nil) }
            if entry & Self.tagMask == tag {
                let offset = Int(truncatingIfNeeded: entry & Self.offsetMask) - 1
                if log.loadUnaligned(fromByteOffset: offset + 8, as: Int.self) == key.count
                    && compareBytes(UnsafeRawBufferPointer(start: log + offset + Self.headerSize, count: key.count), key) == 0 {
                    return (slot, offset)
                }
            }
            slot = (slot + 1) & slotMask
        }
    }

    private func markDead(at offset: Int, keyLength: Int) {
        deadBytes += Self.headerSize + keyLength + max(log!.loadUnaligned(fromByteOffset: offset + 16, as: Int.self), 0)
        log!.storeBytes(of: -1 - keyLength, toByteOffset: offset + 8, as: Int.self)
    }

    /// Rewrites the log with its live records only once superseded ones
    /// are most of it: a transaction that grows one document many times
    /// (a $push in a loop) would otherwise hold every version until its
    /// commit, quadratic in memory. Amortized: the live bytes copied are
    /// at most the dead bytes given back. Offsets change, so no pointer
    /// into the log may be held across a change (none is: only frozen
    /// tables are read while the transaction writes).
    private func compactIfMostlyDead() {
        guard deadBytes > (1 << 16) && deadBytes * 2 > logBytes, let old = log else { return }
        let oldBytes = logBytes
        log = nil
        logCapacity = 0
        logBytes = 0
        deadBytes = 0
        keyBytes = 0
        recordCount = 0
        slots!.update(repeating: 0, count: slotMask + 1)
        var offset = 0
        while offset < oldBytes {
            let stored = old.loadUnaligned(fromByteOffset: offset + 8, as: Int.self)
            let keyLength = stored >= 0 ? stored : -1 - stored
            let valueLength = old.loadUnaligned(fromByteOffset: offset + 16, as: Int.self)
            if stored >= 0 {
                let hash = old.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let key = UnsafeRawBufferPointer(start: old + offset + Self.headerSize, count: keyLength)
                let value = UnsafeRawBufferPointer(start: old + offset + Self.headerSize + keyLength, count: max(valueLength, 0))
                let ttl = old.loadUnaligned(fromByteOffset: offset + 24, as: Int64.self)
                insertSlot(hash: hash, offset: append(key, hash: hash, valueLength: valueLength, value: value, ttl: ttl))
            }
            offset += Self.headerSize + keyLength + max(valueLength, 0)
        }
        old.deallocate()
    }

    @inline(__always)
    private func hashOfSlot(_ entry: UInt64) -> UInt64 {
        log!.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: entry & Self.offsetMask) - 1, as: UInt64.self)
    }

    private func insertSlot(hash: UInt64, offset: Int) {
        let slots = slots!
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while slots[slot] != 0 { slot = (slot + 1) & slotMask }
        slots[slot] = (hash & Self.tagMask) | UInt64(offset + 1)
    }

    /// At most half full, so probe runs stay short.
    private func growSlots(toHold keys: Int) {
        var size = max(16, slotMask + 1)
        while size < 2 * keys { size *= 2 }
        guard size != slotMask + 1 || slots == nil else { return }
        let old = slots, oldSize = slotMask + 1
        slots = .allocate(capacity: size)
        slots!.initialize(repeating: 0, count: size)
        slotMask = size - 1
        if let old {
            for i in 0..<oldSize where old[i] != 0 {
                insertSlot(hash: hashOfSlot(old[i]), offset: Int(truncatingIfNeeded: old[i] & Self.offsetMask) - 1)
            }
            old.deallocate()
        }
    }

    private func append(_ key: UnsafeRawBufferPointer, hash: UInt64, valueLength: Int, value: UnsafeRawBufferPointer, ttl: Int64) -> Int {
        let offset = logBytes
        let size = Self.headerSize + key.count + max(valueLength, 0)
        if offset + size > logCapacity { growLog(to: offset + size) }
        // Our own bound, not the caller's: Transaction refuses writes past
        // Transaction.maxPendingBytes (24 GiB), far below a terabyte.
        precondition(UInt64(offset) < Self.offsetMask, "WriteTable: a transaction's log past 2^40 bytes")
        let log = log!
        log.storeBytes(of: hash, toByteOffset: offset, as: UInt64.self)
        log.storeBytes(of: key.count, toByteOffset: offset + 8, as: Int.self)
        log.storeBytes(of: valueLength, toByteOffset: offset + 16, as: Int.self)
        log.storeBytes(of: ttl, toByteOffset: offset + 24, as: Int64.self)
        if key.count > 0 { (log + offset + Self.headerSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if valueLength > 0 { (log + offset + Self.headerSize + key.count).copyMemory(from: value.baseAddress!, byteCount: valueLength) }
        logBytes = offset + size
        keyBytes += key.count
        recordCount += 1
        return offset
    }

    private func growLog(to needed: Int) {
        var capacity = max(logCapacity * 2, 256)
        while capacity < needed { capacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        if let log {
            if logBytes > 0 { grown.copyMemory(from: log, byteCount: logBytes) }
            log.deallocate()
        }
        log = grown
        logCapacity = capacity
    }
}
