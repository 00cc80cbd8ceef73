/// The iterators the merging iterator combines. Each walks every version of
/// every key in one source, in internal-key order (user key ascending,
/// sequence descending), and can also walk backwards.
///
/// Positions: `seek(userKey)` moves to the first entry whose user key is >=
/// `userKey`; `seekBefore(userKey)` to the last entry whose user key is <
/// `userKey`. The views `userKey` and `value` are valid until the iterator
/// moves.

/// Walks one memtable.
final class MemTableIterator {
    let table: MemTable
    private var node: MemNode?

    init(table: MemTable) { self.table = table }

    var isValid: Bool { node != nil }
    var userKey: UnsafeRawBufferPointer { node!.key }
    var sequence: UInt64 { node!.sequence }
    var value: UnsafeRawBufferPointer { node!.value }
    var expiresAt: Int64 { node!.expiresAt }
    var kind: UInt8 {
        let n = node!
        if n.kind == .tombstone { return InternalKey.kindTombstone }
        return n.expiresAt != 0 ? InternalKey.kindValueWithExpiry : InternalKey.kindValue
    }

    func seekToFirst() { node = table.first }
    func seekToLast() { node = table.last }
    func seek(_ userKey: UnsafeRawBufferPointer) { node = table.seek(key: userKey, sequence: .max) }
    func seekBefore(_ userKey: UnsafeRawBufferPointer) { node = table.lastNode(before: userKey) }
    func advance() { node = node?.next(0) }
    func retreat() {
        guard let current = node else { return }
        node = table.lastNode(before: current.key, sequence: current.sequence)
    }
}

/// Walks one table: an index iterator picks data blocks, a block iterator
/// walks each.
final class TableIterator {
    let reader: TableReader
    private var index: BlockIterator
    private var data: BlockIterator?
    private var entryKind: UInt8 = 0
    private var entrySequence: UInt64 = 0
    private var entryExpiry: Int64 = 0
    private var valueView = UnsafeRawBufferPointer(start: nil, count: 0)
    private var seekKey: [UInt8] = []
    private(set) var isValid = false

    private let fillCache: Bool

    init(reader: TableReader, fillCache: Bool = true) {
        self.reader = reader
        self.fillCache = fillCache
        index = reader.makeIndexIterator()
    }

    var userKey: UnsafeRawBufferPointer {
        data!.key.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count - InternalKey.trailerSize) }
    }
    var sequence: UInt64 { entrySequence }
    var kind: UInt8 { entryKind }
    var expiresAt: Int64 { entryExpiry }
    var value: UnsafeRawBufferPointer { valueView }

    private func loadBlock() throws -> Bool {
        guard index.isValid else {
            data = nil
            return false
        }
        let handle = try TableFormat.BlockHandle.decode(index.value, what: reader.path)
        data = BlockIterator(block: try reader.dataBlock(handle, fillCache: fillCache))
        return true
    }

    /// Decodes the current data entry, or marks the iterator invalid.
    private func settle() throws {
        guard let data, data.isValid else {
            isValid = false
            return
        }
        let (trailer, rawValue) = data.key.withUnsafeBytes { key -> (UInt64, UnsafeRawBufferPointer) in
            (InternalKey.trailer(key), data.value)
        }
        guard data.key.count >= InternalKey.trailerSize else { throw CairnError.corruption("\(reader.path): key shorter than its trailer") }
        entrySequence = trailer >> 8
        entryKind = UInt8(truncatingIfNeeded: trailer)
        switch entryKind {
        case InternalKey.kindValue, InternalKey.kindTombstone:
            entryExpiry = 0
            valueView = rawValue
        case InternalKey.kindValueWithExpiry:
            guard rawValue.count >= 8 else { throw CairnError.corruption("\(reader.path): value too short for its expiry") }
            entryExpiry = Int64(bitPattern: UInt64(littleEndian: rawValue.loadUnaligned(as: UInt64.self)))
            valueView = UnsafeRawBufferPointer(rebasing: rawValue[8...])
        default:
            throw CairnError.corruption("\(reader.path): unknown entry kind \(entryKind)")
        }
        isValid = true
    }

    /// Moves forward over empty or exhausted blocks.
    private func skipForward() throws {
        while data == nil || !data!.isValid {
            guard index.isValid else { isValid = false; return }
            try index.advance()
            guard try loadBlock() else { isValid = false; return }
            try data!.seekToFirst()
        }
        try settle()
    }

    private func skipBackward() throws {
        while data == nil || !data!.isValid {
            guard index.isValid else { isValid = false; return }
            try index.retreat()
            guard try loadBlock() else { isValid = false; return }
            try data!.seekToLast()
        }
        try settle()
    }

    func seekToFirst() throws {
        try index.seekToFirst()
        guard try loadBlock() else { isValid = false; return }
        try data!.seekToFirst()
        try skipForward()
    }

    func seekToLast() throws {
        try index.seekToLast()
        guard try loadBlock() else { isValid = false; return }
        try data!.seekToLast()
        try skipBackward()
    }

    func seek(_ userKey: UnsafeRawBufferPointer) throws {
        seekKey.removeAll(keepingCapacity: true)
        InternalKey.append(userKey: userKey, sequence: InternalKey.maxSequence, kind: 0xFF, to: &seekKey)
        try seekKey.withUnsafeBytes { target in
            try index.seek(target, compare: InternalKey.compare)
            guard try loadBlock() else { isValid = false; data = nil; return }
            try data!.seek(target, compare: InternalKey.compare)
        }
        try skipForward()
    }

    func seekBefore(_ userKey: UnsafeRawBufferPointer) throws {
        try seek(userKey)
        if isValid {
            try retreat()
        } else {
            try seekToLast()
        }
    }

    func advance() throws {
        guard isValid else { return }
        try data!.advance()
        try skipForward()
    }

    func retreat() throws {
        guard isValid else { return }
        try data!.retreat()
        try skipBackward()
    }
}

/// Walks one level of non-overlapping tables, sorted by key, opening each
/// table only when the walk reaches it.
final class LevelIterator {
    let files: [TableFile]
    private let fillCache: Bool
    private var fileIndex = 0
    private var current: TableIterator?

    init(files: [TableFile], fillCache: Bool = true) {
        self.files = files
        self.fillCache = fillCache
    }

    var isValid: Bool { current?.isValid ?? false }
    var userKey: UnsafeRawBufferPointer { current!.userKey }
    var sequence: UInt64 { current!.sequence }
    var kind: UInt8 { current!.kind }
    var expiresAt: Int64 { current!.expiresAt }
    var value: UnsafeRawBufferPointer { current!.value }

    private func open(_ index: Int) throws -> TableIterator? {
        guard index >= 0, index < files.count else { return nil }
        fileIndex = index
        return TableIterator(reader: try files[index].reader(), fillCache: fillCache)
    }

    func seekToFirst() throws {
        current = try open(0)
        try current?.seekToFirst()
        try skipForward()
    }

    func seekToLast() throws {
        current = try open(files.count - 1)
        try current?.seekToLast()
        try skipBackward()
    }

    func seek(_ userKey: UnsafeRawBufferPointer) throws {
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

    func seekBefore(_ userKey: UnsafeRawBufferPointer) throws {
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

    func advance() throws {
        try current?.advance()
        try skipForward()
    }

    func retreat() throws {
        try current?.retreat()
        try skipBackward()
    }

    private func skipForward() throws {
        while let iterator = current, !iterator.isValid {
            current = try open(fileIndex + 1)
            try current?.seekToFirst()
        }
    }

    private func skipBackward() throws {
        while let iterator = current, !iterator.isValid {
            current = try open(fileIndex - 1)
            try current?.seekToLast()
        }
    }
}

/// One source of the merging iterator. An enum rather than a protocol
/// existential, so each step is a switch, not a witness-table call.
enum SourceIterator {
    case memtable(MemTableIterator)
    case table(TableIterator)
    case level(LevelIterator)

    var isValid: Bool {
        switch self {
        case .memtable(let i): return i.isValid
        case .table(let i): return i.isValid
        case .level(let i): return i.isValid
        }
    }

    var userKey: UnsafeRawBufferPointer {
        switch self {
        case .memtable(let i): return i.userKey
        case .table(let i): return i.userKey
        case .level(let i): return i.userKey
        }
    }

    var sequence: UInt64 {
        switch self {
        case .memtable(let i): return i.sequence
        case .table(let i): return i.sequence
        case .level(let i): return i.sequence
        }
    }

    var kind: UInt8 {
        switch self {
        case .memtable(let i): return i.kind
        case .table(let i): return i.kind
        case .level(let i): return i.kind
        }
    }

    var expiresAt: Int64 {
        switch self {
        case .memtable(let i): return i.expiresAt
        case .table(let i): return i.expiresAt
        case .level(let i): return i.expiresAt
        }
    }

    var value: UnsafeRawBufferPointer {
        switch self {
        case .memtable(let i): return i.value
        case .table(let i): return i.value
        case .level(let i): return i.value
        }
    }

    func seekToFirst() throws {
        switch self {
        case .memtable(let i): i.seekToFirst()
        case .table(let i): try i.seekToFirst()
        case .level(let i): try i.seekToFirst()
        }
    }

    func seekToLast() throws {
        switch self {
        case .memtable(let i): i.seekToLast()
        case .table(let i): try i.seekToLast()
        case .level(let i): try i.seekToLast()
        }
    }

    func seek(_ key: UnsafeRawBufferPointer) throws {
        switch self {
        case .memtable(let i): i.seek(key)
        case .table(let i): try i.seek(key)
        case .level(let i): try i.seek(key)
        }
    }

    func seekBefore(_ key: UnsafeRawBufferPointer) throws {
        switch self {
        case .memtable(let i): i.seekBefore(key)
        case .table(let i): try i.seekBefore(key)
        case .level(let i): try i.seekBefore(key)
        }
    }

    func advance() throws {
        switch self {
        case .memtable(let i): i.advance()
        case .table(let i): try i.advance()
        case .level(let i): try i.advance()
        }
    }

    func retreat() throws {
        switch self {
        case .memtable(let i): i.retreat()
        case .table(let i): try i.retreat()
        case .level(let i): try i.retreat()
        }
    }
}
