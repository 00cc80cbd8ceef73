/// The iterators the merging iterator combines. Each walks every version of
/// every key in one source, in internal-key order (user key ascending,
/// sequence descending), and can also walk backwards.
///
/// Positions: `seek(userKey)` moves to the first entry whose user key is >=
/// `userKey`; `seekBefore(userKey)` to the last entry whose user key is <
/// `userKey`. After every move the current entry is in stored fields, so
/// the merging iterator compares plain fields instead of calling through a
/// protocol or an enum (a profile showed a third of a scan in the retains
/// those cost). The views `userKey` and `value` are valid until the
/// iterator moves.
class EntryIterator {
    final var isValid = false
    final var userKey = UnsafeRawBufferPointer(start: nil, count: 0)
    final var sequence: UInt64 = 0
    final var kind: UInt8 = 0
    final var expiresAt: Int64 = 0
    final var value = UnsafeRawBufferPointer(start: nil, count: 0)

    func seekToFirst() throws { preconditionFailure("abstract") }
    func seekToLast() throws { preconditionFailure("abstract") }
    func seek(_ userKey: UnsafeRawBufferPointer) throws { preconditionFailure("abstract") }
    func seekBefore(_ userKey: UnsafeRawBufferPointer) throws { preconditionFailure("abstract") }
    func advance() throws { preconditionFailure("abstract") }
    func retreat() throws { preconditionFailure("abstract") }

    /// Whether this source surely holds no user key that starts with
    /// `prefix` (every key in [prefix, end) does): its tables' bloom
    /// filters say so. A merging iterator leaves such a source out of a
    /// prefix scan (MergingIterator.prefix). False when unsure.
    func rulesOut(prefix: [UInt8], end: [UInt8], hash: UInt64) -> Bool { false }

    /// Lets go of what the position holds (a data block, a memtable node)
    /// before the iterator waits in a pool (ReadState.recycle); the next
    /// position call positions it afresh.
    func park() {
        isValid = false
        userKey = UnsafeRawBufferPointer(start: nil, count: 0)
        value = UnsafeRawBufferPointer(start: nil, count: 0)
    }

    @inline(__always)
    final func copyEntry(from other: EntryIterator) {
        isValid = other.isValid
        userKey = other.userKey
        sequence = other.sequence
        kind = other.kind
        expiresAt = other.expiresAt
        value = other.value
    }
}

/// Walks one memtable.
final class MemTableIterator: EntryIterator {
    let table: MemTable
    private var node: MemNode?

    init(table: MemTable) { self.table = table }

    @inline(__always)
    private func load(_ next: MemNode?) {
        node = next
        guard let n = next else {
            isValid = false
            return
        }
        isValid = true
        userKey = n.key
        sequence = n.sequence
        expiresAt = n.expiresAt
        value = n.value
        kind = n.kind == .tombstone ? InternalKey.kindTombstone
            : (expiresAt != 0 ? InternalKey.kindValueWithExpiry : InternalKey.kindValue)
    }

    override func seekToFirst() { load(table.first) }
    override func seekToLast() { load(table.last) }
    override func seek(_ userKey: UnsafeRawBufferPointer) { load(table.seek(key: userKey, sequence: .max)) }
    override func seekBefore(_ userKey: UnsafeRawBufferPointer) { load(table.lastNode(before: userKey)) }
    override func advance() { load(node?.next(0)) }
    override func retreat() {
        guard let current = node else { return }
        load(table.lastNode(before: current.key, sequence: current.sequence))
    }

    override func park() {
        node = nil
        super.park()
    }
}

/// Walks one table: an index iterator picks data blocks, a block iterator
/// walks each. A level iterator moves one table iterator from table to
/// table (`retarget`), so its buffers are allocated once.
final class TableIterator: EntryIterator {
    private(set) var reader: TableReader
    private var index: BlockIterator
    private var data: BlockIterator?
    private var seekKey: [UInt8] = []
    private let dataKey = ByteBuffer()
    private let indexKey = ByteBuffer()

    private let fillCache: Bool

    init(reader: TableReader, fillCache: Bool = true) {
        self.reader = reader
        self.fillCache = fillCache
        index = reader.makeIndexIterator(keyBuffer: indexKey)
    }

    /// Points the iterator at another table, unpositioned, keeping its
    /// buffers.
    func retarget(_ reader: TableReader) {
        self.reader = reader
        data = nil
        index = reader.makeIndexIterator(keyBuffer: indexKey)
        super.park()
    }

    override func park() {
        data = nil
        super.park()
    }

    override func rulesOut(prefix: [UInt8], end: [UInt8], hash: UInt64) -> Bool {
        !reader.mayContain(userKeyHash: hash)
    }

    private func loadBlock() throws -> Bool {
        guard index.isValid else {
            data = nil
            return false
        }
        let handle = try TableFormat.BlockHandle.decode(index.value, what: reader.path)
        data = BlockIterator(block: try reader.dataBlock(handle, fillCache: fillCache), keyBuffer: dataKey)
        return true
    }

    /// Decodes the current data entry, or marks the iterator invalid.
    ///
    /// `data` is read in place (`data?.`, `data!.`), never bound to a local:
    /// a copy of the block iterator retains and releases its block and key
    /// buffer, on every step of a scan.
    private func settle() throws {
        guard data?.isValid == true else {
            isValid = false
            return
        }
        let key = data!.keyBytes
        guard key.count >= InternalKey.trailerSize else { throw CairnError.corruption("\(reader.path): key shorter than its trailer") }
        let trailer = InternalKey.trailer(key)
        let rawValue = data!.value
        userKey = UnsafeRawBufferPointer(start: key.baseAddress, count: key.count - InternalKey.trailerSize)
        sequence = trailer >> 8
        kind = UInt8(truncatingIfNeeded: trailer)
        (expiresAt, value) = try InternalKey.decodeValue(kind: kind, stored: rawValue, what: reader.path)
        isValid = true
    }

    /// Moves forward over empty or exhausted blocks.
    private func skipForward() throws {
        while data?.isValid != true {
            guard index.isValid else { isValid = false; return }
            try index.advance()
            guard try loadBlock() else { isValid = false; return }
            try data!.seekToFirst()
        }
        try settle()
    }

    private func skipBackward() throws {
        while data?.isValid != true {
            guard index.isValid else { isValid = false; return }
            try index.retreat()
            guard try loadBlock() else { isValid = false; return }
            try data!.seekToLast()
        }
        try settle()
    }

    override func seekToFirst() throws {
        try index.seekToFirst()
        guard try loadBlock() else { isValid = false; return }
        try data!.seekToFirst()
        try skipForward()
    }

    override func seekToLast() throws {
        try index.seekToLast()
        guard try loadBlock() else { isValid = false; return }
        try data!.seekToLast()
        try skipBackward()
    }

    override func seek(_ userKey: UnsafeRawBufferPointer) throws {
        seekKey.removeAll(keepingCapacity: true)
        InternalKey.append(userKey: userKey, sequence: InternalKey.maxSequence, kind: 0xFF, to: &seekKey)
        try seekKey.withUnsafeBytes { target in
            try index.seek(target, compare: InternalKey.compare)
            guard try loadBlock() else { isValid = false; data = nil; return }
            try data!.seek(target, compare: InternalKey.compare)
        }
        try skipForward()
    }

    override func seekBefore(_ userKey: UnsafeRawBufferPointer) throws {
        try seek(userKey)
        if isValid {
            try retreat()
        } else {
            try seekToLast()
        }
    }

    override func advance() throws {
        guard isValid else { return }
        try data!.advance()
        try skipForward()
    }

    override func retreat() throws {
        guard isValid else { return }
        try data!.retreat()
        try skipBackward()
    }
}

/// Walks one level of non-overlapping tables, sorted by key, opening each
/// table only when the walk reaches it. One table iterator serves every
/// table of the level (retargeted as the walk moves), and a seek that lands
/// in the table it already points at keeps it as it is: seeks allocate
/// nothing once the first has run.
final class LevelIterator: EntryIterator {
    let files: [TableFile]
    private let fillCache: Bool
    private var fileIndex = -1
    /// The table iterator, made by the first open and kept.
    private var table: TableIterator?
    /// `table` while positioned in a table; nil past either end.
    private var current: TableIterator?

    init(files: [TableFile], fillCache: Bool = true) {
        self.files = files
        self.fillCache = fillCache
    }

    /// Mirrors the current table's entry into this iterator's fields.
    @inline(__always)
    private func publish() {
        guard current != nil else { isValid = false; return }
        // Safe: `table` owns the iterator, and only this object's own
        // moves replace it (no retain and release per step).
        unowned(unsafe) let iterator = current!
        copyEntry(from: iterator)
    }

    private func open(_ index: Int) throws -> TableIterator? {
        guard index >= 0, index < files.count else { return nil }
        // Asked every time: the table cache may have closed the reader, and
        // the call marks the table used for the cache's sweep.
        let reader = try files[index].reader()
        if let table {
            if table.reader !== reader { table.retarget(reader) }
        } else {
            table = TableIterator(reader: reader, fillCache: fillCache)
        }
        fileIndex = index
        return table
    }

    override func park() {
        table?.park()
        current = nil
        super.park()
    }

    /// Every table of the level whose key range meets [prefix, end) rules
    /// the prefix out (a table that does not open is never ruled out: its
    /// error shows when it is read).
    override func rulesOut(prefix: [UInt8], end: [UInt8], hash: UInt64) -> Bool {
        // The first table whose largest key is >= prefix (the tables are
        // sorted and do not overlap), then each one that starts before end.
        var low = 0, high = files.count
        prefix.withUnsafeBytes { start in
            while low < high {
                let mid = (low + high) / 2
                if files[mid].largestUserKey.withUnsafeBytes({ compareBytes($0, start) }) < 0 { low = mid + 1 } else { high = mid }
            }
        }
        return end.withUnsafeBytes { limit in
            var index = low
            while index < files.count, files[index].smallestUserKey.withUnsafeBytes({ compareBytes($0, limit) }) < 0 {
                guard let reader = try? files[index].reader(), !reader.mayContain(userKeyHash: hash) else { return false }
                index += 1
            }
            return true
        }
    }

    override func seekToFirst() throws {
        current = try open(0)
        try current?.seekToFirst()
        try skipForward()
    }

    override func seekToLast() throws {
        current = try open(files.count - 1)
        try current?.seekToLast()
        try skipBackward()
    }

    override func seek(_ userKey: UnsafeRawBufferPointer) throws {
        // The first file whose largest user key is >= userKey.
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].largestUserKey.withUnsafeBytes({ compareBytes($0, userKey) }) < 0 { low = mid + 1 } else { high = mid }
        }
        current = try open(low)
        try current?.seek(userKey)
        try skipForward()
    }

    override func seekBefore(_ userKey: UnsafeRawBufferPointer) throws {
        // The last file whose smallest user key is < userKey.
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].smallestUserKey.withUnsafeBytes({ compareBytes($0, userKey) }) < 0 { low = mid + 1 } else { high = mid }
        }
        current = try open(low - 1)
        try current?.seekBefore(userKey)
        try skipBackward()
    }

    override func advance() throws {
        if current != nil {
            // Safe: as in `publish`.
            unowned(unsafe) let iterator = current!
            try iterator.advance()
            if iterator.isValid {
                copyEntry(from: iterator)
                return
            }
        }
        try skipForward()
    }

    override func retreat() throws {
        if current != nil {
            // Safe: as in `publish`.
            unowned(unsafe) let iterator = current!
            try iterator.retreat()
            if iterator.isValid {
                copyEntry(from: iterator)
                return
            }
        }
        try skipBackward()
    }

    private func skipForward() throws {
        while let iterator = current, !iterator.isValid {
            current = try open(fileIndex + 1)
            try current?.seekToFirst()
        }
        publish()
    }

    private func skipBackward() throws {
        while let iterator = current, !iterator.isValid {
            current = try open(fileIndex - 1)
            try current?.seekToLast()
        }
        publish()
    }
}

