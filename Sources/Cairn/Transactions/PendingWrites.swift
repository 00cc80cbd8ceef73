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
struct PendingWrites {
    /// What a layer says of a key.
    enum Slot {
        /// Written (a put, or a deletion when the value is nil).
        case write(Transaction.PendingWrite)
        /// Written in a lower layer, then undone by a savepoint: the key
        /// reads from the snapshot again.
        case unwritten

        var write: Transaction.PendingWrite? {
            if case .write(let write) = self { return write }
            return nil
        }
    }

    /// One layer. A class, so that sharing it with a reader is visible to
    /// `isKnownUniquelyReferenced`.
    final class Layer {
        var entries: [EngineKey: Slot]
        init(_ entries: [EngineKey: Slot] = [:]) { self.entries = entries }
    }

    /// Frozen layers, oldest first.
    private var layers: [Layer] = []
    private var top = Layer()

    /// How many layers there are, `top` included (for tests: about log2 of
    /// the writes at most).
    var layerCount: Int { layers.count + 1 }

    /// True when no key was ever written (a key written and then undone may
    /// keep this false: a fast path may only skip lookups when it is true).
    var isEmpty: Bool { top.entries.isEmpty && layers.isEmpty }

    /// At least as many as the keys written (a key in several layers counts
    /// once per layer): room to reserve before `forEach`.
    var countBound: Int { layers.reduce(top.entries.count) { $0 + $1.entries.count } }

    /// The pending write of `key`, or nil when the transaction has not
    /// written it (reads go to the snapshot).
    subscript(key: EngineKey) -> Transaction.PendingWrite? {
        if let slot = top.entries[key] { return slot.write }
        for layer in layers.reversed() {
            if let slot = layer.entries[key] { return slot.write }
        }
        return nil
    }

    /// Writes `key`; returns what the transaction had written before (nil:
    /// nothing), for an undo log.
    @discardableResult
    mutating func set(_ key: EngineKey, _ write: Transaction.PendingWrite) -> Transaction.PendingWrite? {
        makeTopWritable()
        guard !layers.isEmpty else { return top.entries.updateValue(.write(write), forKey: key)?.write }
        let previous = self[key]
        top.entries[key] = .write(write)
        return previous
    }

    /// Undoes a write: `key` reads `previous` again (nil: the snapshot).
    mutating func restore(_ key: EngineKey, to previous: Transaction.PendingWrite?) {
        makeTopWritable()
        if let previous {
            top.entries[key] = .write(previous)
        } else if layers.contains(where: { $0.entries[key] != nil }) {
            top.entries[key] = .unwritten
        } else {
            top.entries.removeValue(forKey: key)
        }
    }

    mutating func reserveCapacity(_ additional: Int) {
        makeTopWritable()
        top.entries.reserveCapacity(top.entries.count + additional)
    }

    /// Freezes `top` when a reader still holds it, and merges layers of
    /// similar size (see the type's comment).
    private mutating func makeTopWritable() {
        guard !isKnownUniquelyReferenced(&top) else { return }
        layers.append(top)
        top = Layer()
        while layers.count >= 2 && layers[layers.count - 1].entries.count * 2 >= layers[layers.count - 2].entries.count {
            let newest = layers.removeLast()
            let last = layers.count - 1
            if isKnownUniquelyReferenced(&layers[last]) {
                layers[last].entries.merge(newest.entries) { _, newer in newer }
            } else {
                layers[last] = Layer(layers[last].entries.merging(newest.entries) { _, newer in newer })
            }
        }
    }

    /// Every key written, with its write, once each (the newest layer
    /// wins); undone keys are left out.
    func forEach(_ body: (EngineKey, Transaction.PendingWrite) throws -> Void) rethrows {
        guard !layers.isEmpty else {
            for (key, slot) in top.entries { if let write = slot.write { try body(key, write) } }
            return
        }
        var seen = Set<EngineKey>()
        for layer in [top] + layers.reversed() {
            for (key, slot) in layer.entries where seen.insert(key).inserted {
                if let write = slot.write { try body(key, write) }
            }
        }
    }
}
