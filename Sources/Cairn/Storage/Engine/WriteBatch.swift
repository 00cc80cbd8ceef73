/// A group of puts, deletes and range deletes applied atomically: the whole
/// batch becomes one write-ahead log record, so after a crash either all of
/// it is there or none of it.
///
/// Encoded as it is built, so committing it copies the encoded bytes twice
/// and re-encodes nothing: into the log record (built in place, framed
/// where it lies), and into the memtable (StorageEngine.write reserves
/// memory for both). The layout of one operation (part of the WAL format, see docs/format/records.md):
///
///     put:          0x01 | varint key length | key | varint value length | value
///     delete:       0x02 | varint key length | key
///     delete range: 0x03 | varint start length | start | varint end length | end
///     put with TTL: 0x04 | varint key length | key | varint value length | value | u64 LE expiry
///
/// A TTL counts from the moment the batch is committed, not from when the
/// put was added: the batch keeps the relative TTL and writes the absolute
/// expiry (ms since the epoch) into its fixed-width slot at commit.
///
/// A stamped put (`putStamped`) is an ordinary put whose key holds an
/// 8-byte slot the engine fills at commit with the batch's commit sequence
/// (the sequence of its first operation, u64 big-endian) and whose value
/// begins with an 8-byte slot it fills with the commit time (ms since the
/// epoch, u64 big-endian), the way it fills a TTL's expiry slot. A layer
/// thus writes records keyed by the commit they belong to in the same
/// atomic batch as the commit itself (the change feed's history), though
/// the sequence is only known once the write queue orders the batch. The
/// slots are filled before the log record is written, so the log holds a
/// plain put (operation 0x01) and recovery replays the very same key: the
/// log format is unchanged and the engine knows nothing of who stamps.
///
/// The batch does not validate sizes: the key-value layer does, before it
/// adds an operation.
public struct WriteBatch: Sendable {
    enum Operation: UInt8 {
        case put = 1
        case delete = 2
        case deleteRange = 3
        case putWithExpiry = 4
    }

    /// What most batches lack, in one box made on first use: TTL and stamp
    /// slots and a conflict check. A plain batch then holds two references
    /// (its bytes and no box) where it held five, and a batch is copied and
    /// destroyed several times on its way from a put to the log: each copy
    /// retained and released every reference (reference counting was a
    /// fifth of a single put's instructions, by callgrind). Copy-on-write:
    /// a batch changes its box only when it is the box's sole owner.
    private final class Extras: @unchecked Sendable {
        /// Where each TTL put's expiry slot is in `encoded`, and its TTL in ms.
        var expirySlots: [(offset: Int, ttlMillis: Int64)] = []
        /// Where each stamped put's sequence slot (in its key) and time slot
        /// (at the start of its value) are in `encoded`.
        var stampSlots: [(sequence: Int, time: Int)] = []
        var conflictCheck: ConflictCheck?

        init() {}

        init(copying other: Extras) {
            expirySlots = other.expirySlots
            stampSlots = other.stampSlots
            conflictCheck = other.conflictCheck
        }
    }

    private var extras: Extras?
    private(set) var encoded: [UInt8] = []
    public private(set) var count: Int = 0
    /// Bytes of keys and values, for statistics.
    private(set) var payloadBytes: Int = 0

    /// The box, unshared, for a change.
    private mutating func writableExtras() -> Extras {
        if isKnownUniquelyReferenced(&extras), let extras { return extras }
        let fresh = extras.map { Extras(copying: $0) } ?? Extras()
        extras = fresh
        return fresh
    }

    /// Set by transactions: the commit fails with CONFLICT when another
    /// write changed one of these keys after the transaction's snapshot.
    var conflictCheck: ConflictCheck? {
        get { extras?.conflictCheck }
        set {
            if newValue == nil && extras == nil { return }
            writableExtras().conflictCheck = newValue
        }
    }

    /// Whether the batch carries a conflict check.
    var isChecked: Bool { extras?.conflictCheck != nil }

    public init() {}

    /// A batch with room for `bytes` of encoded operations, so that a
    /// single put encodes with one allocation.
    public init(reservingCapacity bytes: Int) {
        encoded.reserveCapacity(bytes)
    }

    public var isEmpty: Bool { count == 0 }

    /// Bytes of the encoded operations.
    var encodedSize: Int { encoded.count }

    /// The most encoded bytes one batch commits (CAIRN_MAX_BATCH_SIZE):
    /// 1 GiB less 1 MiB. A batch is one log record, and the log reader
    /// refuses a payload over `RecordFormat.maxPayload` as damage, so a
    /// larger batch, once acknowledged, would read back as corruption at
    /// recovery. The MiB leaves room for the record's sequence and count.
    public static let maxEncodedSize = (1 << 30) - (1 << 20)

    /// The bytes `put` adds for a key and value of these lengths.
    static func putSize(key: Int, value: Int, ttl: Bool, namespaced: Bool) -> Int {
        1 + keySize(key, namespaced) + Varint.length(of: UInt64(value)) + value + (ttl ? 8 : 0)
    }

    /// The bytes `delete` adds for a key of this length.
    static func deleteSize(key: Int, namespaced: Bool) -> Int { 1 + keySize(key, namespaced) }

    /// The bytes `deleteRange` adds for bounds of these lengths.
    static func deleteRangeSize(start: Int, end: Int, namespaced: Bool) -> Int {
        1 + keySize(start, namespaced) + keySize(end, namespaced)
    }

    private static func keySize(_ length: Int, _ namespaced: Bool) -> Int {
        let stored = length + (namespaced ? 1 : 0)
        return Varint.length(of: UInt64(stored)) + stored
    }

    /// Throws INVALID_ARGUMENT, adding nothing, when `bytes` more would
    /// take the batch past `maxEncodedSize`: a batch that can never commit
    /// is refused while it is built, not after it has taken the memory.
    func checkRoom(for bytes: Int) throws {
        guard bytes <= WriteBatch.maxEncodedSize - encoded.count else {
            throw CairnError.invalidArgument("the batch holds \(encoded.count) bytes and this operation \(bytes) more, past the \(WriteBatch.maxEncodedSize) one commit may hold (CAIRN_MAX_BATCH_SIZE); it was not added: write the batch and start another")
        }
    }

    /// Appends `key` length-prefixed, behind its namespace byte if any.
    private mutating func appendKey(_ key: UnsafeRawBufferPointer, _ namespace: Namespace?) {
        guard let namespace else {
            encoded.appendLengthPrefixed(key)
            return
        }
        Varint.append(UInt64(key.count + 1), to: &encoded)
        encoded.append(namespace.rawValue)
        encoded.append(contentsOf: key)
    }

    /// Adds a put; a positive `ttlMillis` makes the key expire that long
    /// after the batch is committed.
    public mutating func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, ttlMillis: Int64) {
        put(key, value, ttlMillis: ttlMillis, namespace: nil)
    }

    mutating func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, ttlMillis: Int64, namespace: Namespace?) {
        encoded.append((ttlMillis > 0 ? Operation.putWithExpiry : Operation.put).rawValue)
        appendKey(key, namespace)
        encoded.appendLengthPrefixed(value)
        if ttlMillis > 0 {
            writableExtras().expirySlots.append((encoded.count, ttlMillis))
            encoded.appendUInt64LE(0)
        }
        count += 1
        payloadBytes += key.count + value.count
    }

    /// Adds a put whose engine key (the namespace byte is byte 0) bytes
    /// [sequenceOffset, sequenceOffset + 8)
    /// receive the batch's commit sequence and whose value's first 8 bytes
    /// receive the commit time, both big-endian, when the batch commits
    /// (see the type's comment). The bytes given there are placeholders.
    /// REQUIRES: the key holds the slot and the value is at least 8 bytes
    /// (our callers' layouts guarantee both).
    mutating func putStamped(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sequenceOffset: Int, namespace: Namespace) {
        precondition(sequenceOffset >= 0 && sequenceOffset + 8 <= key.count + 1 && value.count >= 8, "a stamped put needs room for its stamps")
        encoded.append(Operation.put.rawValue)
        Varint.append(UInt64(key.count + 1), to: &encoded)
        let keyStart = encoded.count
        encoded.append(namespace.rawValue)
        encoded.append(contentsOf: key)
        Varint.append(UInt64(value.count), to: &encoded)
        let valueStart = encoded.count
        encoded.append(contentsOf: value)
        writableExtras().stampSlots.append((keyStart + sequenceOffset, valueStart))
        count += 1
        payloadBytes += key.count + value.count
    }

    /// Calls `body` with each operation in the order it was added, keys
    /// with their namespace byte, and a TTL put's TTL (ms) in `expiresAt`
    /// (the batch holds the relative TTL until it commits).
    func forEachOperation(_ body: (BatchOperation) throws -> Void) throws {
        let expirySlots = extras?.expirySlots ?? []
        try encoded.withUnsafeBytes { raw in
            var reader = ByteReader(raw, what: "write batch")
            var expiry = 0
            while !reader.isAtEnd {
                let tag = try reader.readByte()
                guard let kind = Operation(rawValue: tag) else { throw CairnError(.internal, "write batch: unknown operation \(tag)") }
                let key = try reader.readLengthPrefixed()
                var operation = BatchOperation(kind: kind, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAt: 0)
                switch kind {
                case .put, .deleteRange: operation.value = try reader.readLengthPrefixed()
                case .putWithExpiry:
                    operation.value = try reader.readLengthPrefixed()
                    _ = try reader.readUInt64LE()
                    operation.expiresAt = expirySlots[expiry].ttlMillis
                    expiry += 1
                case .delete: break
                }
                try body(operation)
            }
        }
    }

    /// Whether the batch holds stamped puts.
    var hasStamps: Bool { extras.map { !$0.stampSlots.isEmpty } ?? false }

    /// Whether committing the batch reads the clock (TTL expiries, stamps).
    var needsClock: Bool { extras.map { !$0.expirySlots.isEmpty || !$0.stampSlots.isEmpty } ?? false }

    public mutating func delete(_ key: UnsafeRawBufferPointer) {
        delete(key, namespace: nil)
    }

    mutating func delete(_ key: UnsafeRawBufferPointer, namespace: Namespace?) {
        encoded.append(Operation.delete.rawValue)
        appendKey(key, namespace)
        count += 1
        payloadBytes += key.count
    }

    public mutating func deleteRange(_ start: UnsafeRawBufferPointer, _ end: UnsafeRawBufferPointer) {
        deleteRange(start, end, namespace: nil)
    }

    mutating func deleteRange(_ start: UnsafeRawBufferPointer, _ end: UnsafeRawBufferPointer, namespace: Namespace?) {
        encoded.append(Operation.deleteRange.rawValue)
        appendKey(start, namespace)
        appendKey(end, namespace)
        count += 1
        payloadBytes += start.count + end.count
    }

    public mutating func clear() {
        extras = nil
        encoded.removeAll(keepingCapacity: true)
        count = 0
        payloadBytes = 0
    }

    /// The WAL payload of a group of batches committed together:
    /// `u64 LE first sequence | varint count | operations`, with every TTL
    /// turned into an absolute expiry counted from `now`, and every stamped
    /// put given its batch's commit sequence (the sequence of the batch's
    /// first operation: the batches of a group take consecutive ranges, in
    /// queue order) and `now`. Appended to `out`, which may already hold
    /// the record's header room (RecordFormat.fillHeader). `count` is the
    /// group's operations.
    static func appendWALPayload(of group: [WriteQueue.Pending], count: Int, firstSequence: UInt64, now: Int64, to out: inout [UInt8]) {
        out.appendUInt64LE(firstSequence)
        Varint.append(UInt64(count), to: &out)
        var sequence = firstSequence
        for pending in group {
            pending.batch?.pointee.appendOperations(now: now, sequence: sequence, to: &out)
            // Safe: sequences count operations, far below 2^64.
            sequence += UInt64(pending.count)
        }
    }

    /// Appends the operations, TTL expiries and stamps filled in (see
    /// appendWALPayload).
    func appendOperations(now: Int64, sequence: UInt64, to out: inout [UInt8]) {
        let base = out.count
        out.append(contentsOf: encoded)
        guard let extras else { return }
        let stampSlots = extras.stampSlots, expirySlots = extras.expirySlots
        if !stampSlots.isEmpty {
            let time = UInt64(max(now, 0))
            for slot in stampSlots {
                for i in 0..<8 {
                    out[base + slot.sequence + i] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * UInt64(i)))
                    out[base + slot.time + i] = UInt8(truncatingIfNeeded: time >> (56 - 8 * UInt64(i)))
                }
            }
        }
        for slot in expirySlots {
            let (expiry, overflow) = now.addingReportingOverflow(slot.ttlMillis)
            let absolute = UInt64(overflow ? Int64.max : expiry).littleEndian
            withUnsafeBytes(of: absolute) { bytes in
                for i in 0..<8 { out[base + slot.offset + i] = bytes[i] }
            }
        }
    }
}

/// One decoded operation, borrowing its bytes from the record it came from.
struct BatchOperation {
    var kind: WriteBatch.Operation
    var key: UnsafeRawBufferPointer
    var value: UnsafeRawBufferPointer
    var expiresAt: Int64
}

enum WriteBatchDecoder {
    /// Decodes a WAL payload, calling `body` with the sequence number of
    /// each operation. Throws CORRUPTION for any malformed byte.
    static func forEachOperation(
        in payload: UnsafeRawBufferPointer, what: String,
        _ body: (UInt64, BatchOperation) throws -> Void
    ) throws -> (firstSequence: UInt64, count: Int) {
        var reader = ByteReader(payload, what: what)
        let first = try reader.readUInt64LE()
        let count = try reader.readVarint()
        guard count <= UInt64(payload.count) else { throw CairnError.corruption("\(what): impossible operation count \(count)") }
        for index in 0..<Int(count) {
            let tag = try reader.readByte()
            guard let kind = WriteBatch.Operation(rawValue: tag) else {
                throw CairnError.corruption("\(what): unknown operation \(tag) at byte \(reader.offset - 1)")
            }
            let key = try reader.readLengthPrefixed()
            var value = UnsafeRawBufferPointer(start: nil, count: 0)
            var expiresAt: Int64 = 0
            switch kind {
            case .put:
                value = try reader.readLengthPrefixed()
            case .putWithExpiry:
                value = try reader.readLengthPrefixed()
                let expiry = try reader.readUInt64LE()
                guard expiry <= UInt64(Int64.max) else { throw CairnError.corruption("\(what): bad expiry") }
                expiresAt = Int64(expiry)
            case .delete:
                break
            case .deleteRange:
                value = try reader.readLengthPrefixed()
            }
            try body(first &+ UInt64(index), BatchOperation(kind: kind, key: key, value: value, expiresAt: expiresAt))
        }
        guard reader.isAtEnd else { throw CairnError.corruption("\(what): \(reader.remaining) stray bytes after the operations") }
        return (first, Int(count))
    }
}

/// What a transaction's commit must verify under the write queue's
/// leadership, where no other write can slip in between check and commit.
struct ConflictCheck: Sendable {
    /// The sequence the transaction read at.
    let snapshot: UInt64
    /// Engine keys written by the transaction (the first `written`), then
    /// the keys it read and relied on (catalog entries).
    let keys: KeyList
    let written: Int
    /// False for the single operations of the document layer, true for an
    /// explicit transaction's commit (counted in the stats).
    let explicit: Bool
}

/// Byte strings laid back to back in one buffer: a commit's keys for its
/// conflict check, without an array per key.
struct KeyList: Sendable {
    private var bytes: [UInt8] = []
    /// Where each key ends in `bytes`.
    private var ends: [Int] = []

    init(reservingBytes byteCount: Int = 0, count: Int = 0) {
        bytes.reserveCapacity(byteCount)
        ends.reserveCapacity(count)
    }

    var count: Int { ends.count }

    mutating func append(_ key: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: key)
        ends.append(bytes.count)
    }

    /// Calls `body` with each key in order (the first `limit` only, when
    /// given) until it returns true; returns whether one did.
    func contains(first limit: Int? = nil, where body: (UnsafeRawBufferPointer) throws -> Bool) rethrows -> Bool {
        try bytes.withUnsafeBytes { all in
            var start = 0
            for end in ends.prefix(limit ?? ends.count) {
                if try body(UnsafeRawBufferPointer(rebasing: all[start..<end])) { return true }
                start = end
            }
            return false
        }
    }
}
