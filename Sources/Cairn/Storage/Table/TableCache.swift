import Synchronization

/// Bounds the number of tables whose files are open at once (each open
/// table holds a file descriptor, its index and its bloom filter).
///
/// CLOCK replacement: a read marks its table recently used with one relaxed
/// store; when opening a table would exceed the capacity, a hand sweeps the
/// open tables, clearing marks, and closes the first unmarked one. A closed
/// table reopens on its next read; readers that still hold its old reader
/// keep it (and its descriptor) until they finish.
final class TableCache: @unchecked Sendable {
    private final class Slot {
        weak var file: TableFile?
        init(_ file: TableFile) { self.file = file }
    }

    let capacity: Int
    /// A leaf lock: no other lock is taken inside it (docs/architecture.md, "Locks").
    private let lock = Lock()
    private var slots: [Slot] = []
    private var hand = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    var openTables: Int { lock.withLock { slots.count } }

    /// Records that `file` opened its reader; returns the tables to close.
    func opened(_ file: TableFile) -> [TableFile] {
        lock.withLock {
            slots.removeAll { $0.file == nil }
            slots.append(Slot(file))
            var victims: [TableFile] = []
            var sweeps = 0
            while slots.count > capacity && sweeps < 2 * slots.count + 2 {
                sweeps += 1
                if hand >= slots.count { hand = 0 }
                guard let candidate = slots[hand].file, candidate !== file else {
                    hand += 1
                    continue
                }
                if candidate.takeRecentUse() {
                    hand += 1
                    continue
                }
                victims.append(candidate)
                slots.remove(at: hand)
            }
            return victims
        }
    }

    /// Forgets `file` (its reader was closed or the file deleted).
    func closed(_ file: TableFile) {
        lock.withLock { slots.removeAll { $0.file == nil || $0.file === file } }
    }
}
