/// A group of puts, deletes and range deletes applied atomically: the whole
/// batch becomes one write-ahead log record, so after a crash either all of
/// it is there or none of it.
///
/// Encoded as it is built, so committing it copies the encoded bytes three
/// times and re-encodes nothing: into the log record's payload, into that
/// record's frame, and into the memtable (StorageEngine.write reserves
/// memory for all three). The layout of one operation (part of the WAL format, see docs/format/records.md):
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
/// The batch does not validate sizes: the key-value layer does, before it
/// adds an operation.
public struct WriteBatch: Sendable {
    enum Operation: UInt8 {
        case put = 1
        case delete = 2
        case deleteRange = 3
        case putWithExpiry = 4
    }

    /// Where each TTL put's expiry slot is in `encoded`, and its TTL in ms.
    private var expirySlots: [(offset: Int, ttlMillis: Int64)] = []

    private(set) var encoded: [UInt8] = []
    public private(set) var count: Int = 0
    /// Set by transactions: the commit fails with CONFLICT when another
    /// write changed one of these keys after the transaction's snapshot.
    var conflictCheck: ConflictCheck?
    /// Bytes of keys and values, for statistics.
    private(set) var payloadBytes: Int = 0

    public init() {}

    /// A batch with room for `bytes` of encoded operations, so that a
    /// single put encodes with one allocation.
    public init(reservingCapacity bytes: Int) {
        encoded.reserveCapacity(bytes)
    }

    public var isEmpty: Bool { count == 0 }

    /// Bytes of the encoded operations.
    var encodedSize: Int { encoded.count }

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
            expirySlots.append((encoded.count, ttlMillis))
            encoded.appendUInt64LE(0)
        }
        count += 1
        payloadBytes += key.count + value.count
    }

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
        conflictCheck = nil
        encoded.removeAll(keepingCapacity: true)
        expirySlots.removeAll(keepingCapacity: true)
        count = 0
        payloadBytes = 0
    }

    /// The WAL payload of a group of batches committed together:
    /// `u64 LE first sequence | varint count | operations`, with every TTL
    /// turned into an absolute expiry counted from `now`.
    static func walPayload(of group: [WriteQueue.Pending], firstSequence: UInt64, now: Int64, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.appendUInt64LE(firstSequence)
        Varint.append(UInt64(group.reduce(0) { $0 + $1.batch!.count }), to: &out)
        for pending in group { pending.batch!.appendOperations(now: now, to: &out) }
    }

    private func appendOperations(now: Int64, to out: inout [UInt8]) {
        let base = out.count
        out.append(contentsOf: encoded)
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
    let keys: [[UInt8]]
    let written: Int
    /// False for the single operations of the document layer, true for an
    /// explicit transaction's commit (counted in the stats).
    let explicit: Bool
}
