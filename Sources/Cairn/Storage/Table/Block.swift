/// A decoded block (see BlockBuilder for the layout), owning its bytes.
/// Immutable once made, so the block cache shares one instance between
/// any number of readers.
///
/// Reading never trusts the bytes: a restart array or an entry that points
/// outside the block is CORRUPTION, never an out-of-bounds read.
final class Block: @unchecked Sendable {
    let storage: UnsafeMutableRawBufferPointer
    let what: String
    /// Where the restart array starts; entries live before it.
    let restartsOffset: Int
    let restartCount: Int

    /// Takes ownership of `storage`.
    init(storage: UnsafeMutableRawBufferPointer, what: String) throws {
        self.storage = storage
        self.what = what
        guard storage.count >= 4 else {
            storage.deallocate()
            throw CairnError.corruption("\(what): block too short")
        }
        let count = Int(UInt32(littleEndian: UnsafeRawBufferPointer(storage).loadUnaligned(fromByteOffset: storage.count - 4, as: UInt32.self)))
        guard count >= 1, count <= (storage.count - 4) / 4 else {
            storage.deallocate()
            throw CairnError.corruption("\(what): bad restart count \(count)")
        }
        restartCount = count
        restartsOffset = storage.count - 4 - count * 4
    }

    deinit { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(storage) }

    /// Memory charged to the block cache.
    var charge: Int { storage.count + 64 }

    @inline(__always)
    func restart(_ index: Int) -> Int {
        Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: restartsOffset + index * 4, as: UInt32.self)))
    }

    /// Decodes the varint at `offset`, moving it past; CORRUPTION when it
    /// runs past the entries.
    @inline(__always)
    func varint(_ offset: inout Int) throws -> Int {
        let base = UnsafeRawPointer(storage.baseAddress!)
        var result = 0
        var shift = 0
        while true {
            guard offset < restartsOffset, shift <= 28 else { throw CairnError.corruption("\(what): bad varint in block") }
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            result |= Int(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// The point-read path: finds the first entry whose key is >= `target`
    /// under `compare` and calls `body` with its key and value (views valid
    /// for the call), or returns nil when every key is smaller.
    ///
    /// Binary search compares restart keys in place (they share no prefix);
    /// only the scan after the last restart before `target` rebuilds keys,
    /// into a buffer on the stack for keys up to 512 bytes.
    ///
    /// Inlined into its callers (a table's point read), so that `compare`
    /// (InternalKey.compare) is inlined too: called through a closure it was
    /// a fifth of a point read in a profile of the document finds.
    @inline(__always)
    func find<T>(_ target: UnsafeRawBufferPointer,
                 compare: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Int,
                 _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> T) throws -> T? {
        let base = UnsafeRawPointer(storage.baseAddress!)
        var low = 0, high = restartCount - 1
        while low < high {
            let mid = (low + high + 1) / 2
            var offset = restart(mid)
            let shared = try varint(&offset)
            let unshared = try varint(&offset)
            _ = try varint(&offset)
            guard shared == 0, unshared <= restartsOffset - offset else { throw CairnError.corruption("\(what): bad restart entry") }
            if compare(UnsafeRawBufferPointer(start: base + offset, count: unshared), target) < 0 { low = mid } else { high = mid - 1 }
        }
        var offset = restart(low)
        guard offset <= restartsOffset else { throw CairnError.corruption("\(what): restart out of range") }
        return try withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { stack in
            var heap: UnsafeMutableRawBufferPointer?
            defer { heap?.deallocate() }
            var key = stack
            var keyLength = 0
            while offset < restartsOffset {
                let shared = try varint(&offset)
                let unshared = try varint(&offset)
                let valueLength = try varint(&offset)
                guard shared <= keyLength, unshared <= restartsOffset - offset, valueLength <= restartsOffset - offset - unshared else {
                    throw CairnError.corruption("\(what): bad entry at byte \(offset)")
                }
                let length = shared + unshared
                if length > key.count {
                    let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, key.count * 2), alignment: 8)
                    bigger.baseAddress!.copyMemory(from: key.baseAddress!, byteCount: keyLength)
                    heap?.deallocate()
                    heap = bigger
                    key = bigger
                }
                (key.baseAddress! + shared).copyMemory(from: base + offset, byteCount: unshared)
                keyLength = length
                offset += unshared
                let fullKey = UnsafeRawBufferPointer(start: key.baseAddress, count: keyLength)
                if compare(fullKey, target) >= 0 {
                    return try body(fullKey, UnsafeRawBufferPointer(start: base + offset, count: valueLength))
                }
                offset += valueLength
            }
            return nil
        }
    }
}

/// Walks the entries of one block in either direction. Keys are rebuilt
/// into a reused buffer; `key` and `value` are views valid until the
/// iterator moves. Comparisons use `compare`, so the same iterator serves
/// internal keys (data blocks) and index blocks.
struct BlockIterator {
    let block: Block
    /// The current key, rebuilt from prefix-compressed entries. A table
    /// iterator passes one buffer for all its blocks, so moving to the next
    /// block allocates nothing.
    private let key: ByteBuffer
    private(set) var valueRange: Range<Int> = 0..<0
    /// Offset of the current entry, and of the one after it.
    private(set) var current: Int
    private var next: Int
    private(set) var isValid = false

    init(block: Block, keyBuffer: ByteBuffer = ByteBuffer()) {
        self.block = block
        self.key = keyBuffer
        keyBuffer.removeAll()
        current = block.restartsOffset
        next = block.restartsOffset
    }

    var value: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: block.bytes[valueRange]) }

    /// The current key as a view into the iterator's key buffer, valid
    /// until the iterator moves (the buffer is only changed by moves).
    var keyBytes: UnsafeRawBufferPointer { key.bytes }

    /// Decodes the entry at `next`, with `key` holding the previous key.
    private mutating func decodeNext() throws -> Bool {
        current = next
        guard current < block.restartsOffset else {
            isValid = false
            return false
        }
        var offset = current
        let shared = try block.varint(&offset)
        let unshared = try block.varint(&offset)
        let valueLength = try block.varint(&offset)
        let limit = block.restartsOffset
        guard shared <= key.count, unshared <= limit - offset, valueLength <= limit - offset - unshared else {
            throw CairnError.corruption("\(block.what): bad entry at byte \(current)")
        }
        key.truncate(to: shared)
        key.append(UnsafeRawBufferPointer(start: block.storage.baseAddress! + offset, count: unshared))
        let valueStart = offset + unshared
        valueRange = valueStart..<(valueStart + valueLength)
        next = valueRange.upperBound
        isValid = true
        return true
    }

    private mutating func seekToRestart(_ index: Int) {
        key.removeAll()
        let offset = block.restart(index)
        next = offset
        current = offset
    }

    mutating func seekToFirst() throws {
        seekToRestart(0)
        _ = try decodeNext()
    }

    mutating func seekToLast() throws {
        seekToRestart(block.restartCount - 1)
        guard try decodeNext() else { return }
        while next < block.restartsOffset { _ = try decodeNext() }
    }

    mutating func advance() throws {
        guard isValid else { return }
        _ = try decodeNext()
    }

    /// Moves to the entry before the current one (LevelDB's approach: back
    /// up to the restart point before it and scan forward).
    mutating func retreat() throws {
        guard isValid else { return }
        let target = current
        var index = block.restartCount - 1
        while index > 0 && block.restart(index) >= target { index -= 1 }
        if block.restart(index) >= target {
            isValid = false
            return
        }
        seekToRestart(index)
        while true {
            guard try decodeNext() else { return }
            if next >= target { return }
        }
    }

    /// Positions at the first entry whose key is >= `target` under
    /// `compare`; invalid when every key is smaller. Restart keys are
    /// compared in place (they share no prefix), so only the final scan
    /// rebuilds keys.
    mutating func seek(_ target: UnsafeRawBufferPointer, compare: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Int) throws {
        let base = UnsafeRawPointer(block.storage.baseAddress!)
        var low = 0, high = block.restartCount - 1
        while low < high {
            let mid = (low + high + 1) / 2
            var offset = block.restart(mid)
            let shared = try block.varint(&offset)
            let unshared = try block.varint(&offset)
            _ = try block.varint(&offset)
            guard shared == 0, unshared <= block.restartsOffset - offset else {
                throw CairnError.corruption("\(block.what): bad restart entry")
            }
            if compare(UnsafeRawBufferPointer(start: base + offset, count: unshared), target) < 0 { low = mid } else { high = mid - 1 }
        }
        seekToRestart(low)
        while try decodeNext() {
            if compare(key.bytes, target) >= 0 { return }
        }
    }
}
