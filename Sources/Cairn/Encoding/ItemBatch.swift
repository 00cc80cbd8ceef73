/// Many items handed over in one call (cairn_iter_next_batch,
/// cairn_cursor_next_batch): their bytes back to back, and the length of
/// each as a native-endian UInt32. A binding that crosses the C ABI once
/// per batch instead of once per item pays its per-call cost (ctypes' is
/// microseconds) a thousand times less often, and can split a batch with a
/// few vectorized calls (Python's struct) instead of one call per item.
///
/// The two buffers live at stable addresses and are reused from batch to
/// batch; the caller borrows them until its next call on the same handle.
public final class ItemBatch {
    private let data = ByteBuffer(capacity: 4096)
    private let lengthBytes = ByteBuffer(capacity: 1024)
    /// Items in the batch (a key-value pair counts once).
    public private(set) var count = 0
    /// The next batch's size when the caller leaves it to us.
    private var adaptiveItems = ItemBatch.firstAdaptiveItems

    /// The adaptive policy: the first batch holds 64 items and each later
    /// one twice as many as the last, up to 4096. A caller that stops after
    /// a few items has not paid for a large read-ahead, and a long scan
    /// crosses the boundary about once per 4096 items.
    static let firstAdaptiveItems = 64
    static let mostAdaptiveItems = 4096
    /// The byte budget when the caller gives none, and the most it may give
    /// (so that every offset fits in the UInt32 lengths: one item may pass
    /// the budget, by at most a value's 256 MiB).
    static let defaultBytes = 1 << 20
    static let mostBytes = 1 << 30

    public init() {}

    /// The items' bytes, back to back; valid until the next batch.
    public var bytes: UnsafeRawBufferPointer { data.bytes }
    /// Each piece's length, one native-endian UInt32 per piece (a key and
    /// its value are two pieces); valid until the next batch.
    public var lengths: UnsafeRawBufferPointer { lengthBytes.bytes }
    var byteCount: Int { data.count }

    /// Empties the batch and returns its limits: `maxItems` 0 means the
    /// adaptive size, `maxBytes` 0 the default budget.
    func begin(maxItems: Int, maxBytes: Int) throws -> (items: Int, bytes: Int) {
        guard maxItems >= 0, maxBytes >= 0 else { throw CairnError.invalidArgument("batch limits must not be negative") }
        data.removeAll()
        lengthBytes.removeAll()
        count = 0
        let items: Int
        if maxItems == 0 {
            items = adaptiveItems
            adaptiveItems = min(adaptiveItems * 2, ItemBatch.mostAdaptiveItems)
        } else {
            items = maxItems
        }
        return (items, maxBytes == 0 ? ItemBatch.defaultBytes : min(maxBytes, ItemBatch.mostBytes))
    }

    /// Appends one piece: its bytes and its length.
    @inline(__always)
    func append(_ piece: UnsafeRawBufferPointer) {
        data.append(piece)
        lengthBytes.append(native: UInt32(truncatingIfNeeded: piece.count))
    }

    /// Records the length of a piece whose bytes the caller placed itself.
    func appendLength(_ length: Int) {
        lengthBytes.append(native: UInt32(truncatingIfNeeded: length))
    }

    /// Replaces the bytes (a cursor builds its JSON array elsewhere first).
    func setBytes(_ bytes: UnsafeRawBufferPointer) { data.set(bytes) }

    /// The buffer the items' bytes go into, for a writer that places them
    /// itself (a find's cursor writes its JSON straight into it).
    var text: ByteBuffer { data }

    func finishItem() { count += 1 }
}
