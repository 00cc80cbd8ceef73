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
        /// The file's identity, compared without loading `file`: a strong
        /// reference loaded from a weak one may be the last one left once
        /// another thread lets go of its own, and letting go of it then
        /// runs the table's deinit, which calls `closed`, under this lock.
        let id: ObjectIdentifier
        init(_ file: TableFile) {
            self.file = file
            id = ObjectIdentifier(file)
        }
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
        // Every strong reference taken from a slot is let go after the lock
        // (see Slot.id): the caller closes the victims, and `held` dies here.
        var held: [TableFile] = []
        defer { held.removeAll() }
        return lock.withLock {
            slots.removeAll { slot in
                guard let live = slot.file else { return true }
                held.append(live)
                return false
            }
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
                held.append(candidate)
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
        let id = ObjectIdentifier(file)
        lock.withLock { slots.removeAll { $0.id == id } }
    }
}
