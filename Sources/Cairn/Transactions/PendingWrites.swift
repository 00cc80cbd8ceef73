import CCairnSupport

/// A transaction's writes not yet committed, by engine key, readable by
/// cursors that must keep seeing them as they were when they were opened.
///
/// A cursor could keep a copy of a plain dictionary, but then the
/// transaction's next write copies the whole dictionary (copy-on-write,
/// the cursor holding the other reference), and a transaction that
/// alternates finds and writes while its cursors stay open pays for every
/// write it holds on every operation: quadratic. Instead the writes live
/// in layers, as an LSM's memtables do:
/// - the transaction writes into its `top` layer in place while nobody
///   else holds it;
/// - when a reader (a cursor) still holds `top` at the next write, `top`
///   freezes: it becomes an immutable layer the reader shares, and the
///   write starts a new `top`;
/// - a frozen layer at least half the size of the one below it is merged
///   into it (in place when no reader holds that one any more), so there
///   are at most about log2(n) layers and each write is copied O(log n)
///   times in all.
/// A lookup checks `top`, then the layers from the newest. A transaction
/// whose readers never outlive a write (the documents layer's single
/// operations) never freezes and works on `top` alone.
///
/// Readers on other threads only ever read frozen layers: the transaction
/// changes a layer only after `isKnownUniquelyReferenced` says it holds
/// the only reference.
///
/// Each layer is a WriteTable: the written bytes back to back in one log,
/// which the commit sorts in place (see WriteTable for why).
struct PendingWrites {
    /// A transaction's write of a key, borrowed from its layer.
    enum Write {
        case put(UnsafeRawBufferPointer, ttlMillis: Int64)
        case deletion
    }

    /// Frozen layers, oldest first.
    private var layers: [WriteTable] = []
    private var top = WriteTable()

    /// How many layers there are, `top` included (for tests: about log2 of
    /// the writes at most).
    var layerCount: Int { layers.count + 1 }

    /// True when no key was ever written (a key written and then undone may
    /// keep this false: a fast path may only skip lookups when it is true).
    var isEmpty: Bool { top.isEmpty && layers.isEmpty }

    /// At least as many as the keys written (a key in several layers counts
    /// once per layer): room to reserve before `forEach`.
    var countBound: Int { layers.reduce(top.count) { $0 + $1.count } }

    /// At least the bytes of a write batch holding every write (a record's
    /// header in a layer is larger than an operation's framing).
    var byteCountBound: Int { layers.reduce(top.logBytes) { $0 + $1.logBytes } }

    /// At least the bytes of every key written.
    var keyByteCountBound: Int { layers.reduce(top.keyBytes) { $0 + $1.keyBytes } }

    /// Calls `body` with the write of `key` (nil when the transaction has
    /// not written it: reads go to the snapshot). The value is borrowed
    /// for the call.
    func withWrite<T>(_ key: UnsafeRawBufferPointer, _ body: (Write?) throws -> T) rethrows -> T {
        guard !isEmpty else { return try body(nil) }
        let found: WriteTable.Write?? = top.withWrite(key) { write in write.map { Optional($0) } }
        if let found { return try Self.call(body, with: found) }
        for layer in layers.reversed() {
            if let found = layer.withWrite(key, { write in write.map { Optional($0) } }) { return try Self.call(body, with: found) }
        }
        return try body(nil)
    }

    @inline(__always)
    private static func call<T>(_ body: (Write?) throws -> T, with write: WriteTable.Write?) rethrows -> T {
        switch write {
        case .put(let value, let ttl)?: return try body(.put(value, ttlMillis: ttl))
        case .deletion?: return try body(.deletion)
        case .unwritten?, nil: return try body(nil)
        }
    }

    /// Whether the transaction wrote `key` (a put or a deletion).
    func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        withWrite(key) { $0 != nil }
    }

    /// The pending write of `key` as a copy, or nil when the transaction
    /// has not written it (reads go to the snapshot). For the undo log and
    /// tests; reads borrow through `withWrite`.
    subscript(key: EngineKey) -> Transaction.PendingWrite? {
        key.bytes.withUnsafeBytes { copyOfWrite($0) }
    }

    private func copyOfWrite(_ key: UnsafeRawBufferPointer) -> Transaction.PendingWrite? {
        withWrite(key) { write -> Transaction.PendingWrite? in
            switch write {
            case .put(let value, let ttl)?: return Transaction.PendingWrite(value: Array(value), ttlMillis: ttl)
            case .deletion?: return Transaction.PendingWrite(value: nil, ttlMillis: 0)
            case nil: return nil
            }
        }
    }

    /// Writes `key` (a nil value: a deletion). Returns what the transaction
    /// had written before when `previous` is true (for an undo log), else
    /// nil without looking.
    @discardableResult
    mutating func set(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, ttlMillis: Int64,
                      previous: Bool) -> Transaction.PendingWrite? {
        makeTopWritable()
        let before = previous ? copyOfWrite(key) : nil
        top.set(key, value.map { .put($0, ttlMillis: ttlMillis) } ?? .deletion)
        return before
    }

    /// Writes `key`; returns what the transaction had written before (nil:
    /// nothing), for an undo log.
    @discardableResult
    mutating func set(_ key: EngineKey, _ write: Transaction.PendingWrite) -> Transaction.PendingWrite? {
        key.bytes.withUnsafeBytes { bytes in
            if let value = write.value {
                return value.withUnsafeBytes { set(bytes, value: $0, ttlMillis: write.ttlMillis, previous: true) }
            }
            return set(bytes, value: nil, ttlMillis: 0, previous: true)
        }
    }

    /// Undoes a write: `key` reads `previous` again (nil: the snapshot).
    mutating func restore(_ key: EngineKey, to previous: Transaction.PendingWrite?) {
        makeTopWritable()
        key.bytes.withUnsafeBytes { bytes in
            if let previous {
                if let value = previous.value {
                    value.withUnsafeBytes { top.set(bytes, .put($0, ttlMillis: previous.ttlMillis)) }
                } else {
                    top.set(bytes, .deletion)
                }
            } else if layers.contains(where: { $0.contains(bytes) }) {
                top.set(bytes, .unwritten)
            } else {
                top.remove(bytes)
            }
        }
    }

    mutating func reserveCapacity(_ additional: Int) {
        makeTopWritable()
        top.reserve(additional)
    }

    /// Freezes `top` when a reader still holds it, and merges layers of
    /// similar size (see the type's comment).
    private mutating func makeTopWritable() {
        guard !isKnownUniquelyReferenced(&top) else { return }
        layers.append(top)
        top = WriteTable()
        while layers.count >= 2 && layers[layers.count - 1].count * 2 >= layers[layers.count - 2].count {
            let newest = layers.removeLast()
            let last = layers.count - 1
            if !isKnownUniquelyReferenced(&layers[last]) { layers[last] = layers[last].copy() }
            layers[last].merge(newest)
        }
    }

    /// Every key written, with its write, once each (the newest layer
    /// wins), in no particular order; undone keys are left out.
    func forEach(_ body: (UnsafeRawBufferPointer, Write) throws -> Void) rethrows {
        let all = layers + [top]
        for (position, layer) in all.enumerated().reversed() {
            try layer.forEach { key, write in
                // A newer layer's write of the key hides this one.
                if position < all.count - 1 && all[(position + 1)...].contains(where: { $0.contains(key) }) { return }
                switch write {
                case .put(let value, let ttl): try body(key, .put(value, ttlMillis: ttl))
                case .deletion: try body(key, .deletion)
                case .unwritten: break
                }
            }
        }
    }

    /// Every key written, once each with its newest write, in the engine's
    /// key order; undone keys are left out. Sorts the keys where they lie
    /// (in one layer, the usual case; several are merged into one first).
    func forEachInKeyOrder(_ body: (UnsafeRawBufferPointer, Write) throws -> Void) rethrows {
        var table = top
        if !layers.isEmpty {
            table = layers[0].copy()
            for layer in layers.dropFirst() + [top] { table.merge(layer) }
        }
        let (starts, lengths) = table.keyPositions()
        let bytes = table.bytes
        let order = ByteStringSort.order(flat: bytes, starts: starts, lengths: lengths)
        // The records lie in the order written, so a large commit's walk
        // in key order misses the cache at each; asking for the record a
        // few keys ahead overlaps those misses.
        let ahead = 8
        for (rank, position) in order.enumerated() {
            if rank + ahead < order.count, let base = bytes.baseAddress { cairn_support_prefetch(base + starts[order[rank + ahead]]) }
            let start = starts[position]
            let key = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + lengths[position])])
            switch table.write(ofKeyAt: start) {
            case .put(let value, let ttl): try body(key, .put(value, ttlMillis: ttl))
            case .deletion: try body(key, .deletion)
            case .unwritten: break
            }
        }
    }
}
