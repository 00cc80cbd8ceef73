import Synchronization

/// cairn_interrupt's signal, as sqlite3_interrupt's: every operation
/// running on a database when it is interrupted (a query, a cursor still
/// open, an aggregation, an index build, a manual compaction) stops at its
/// next check with INTERRUPTED; operations started afterwards run normally.
///
/// An operation takes a ticket (the current generation) when it starts and
/// checks it as it goes; interrupting bumps the generation, so every
/// ticket taken before is stale. A check is one relaxed atomic load.
final class Interrupts: Sendable {
    private let generation = Atomic<UInt64>(0)

    init() {}

    /// Interrupts everything running now. Thread-safe.
    func interrupt() {
        generation.add(1, ordering: .relaxed)
    }

    /// A ticket for an operation starting now.
    var ticket: UInt64 { generation.load(ordering: .relaxed) }

    /// Throws INTERRUPTED when an interrupt came after `ticket`.
    @inline(__always)
    func check(_ ticket: UInt64) throws {
        if generation.load(ordering: .relaxed) != ticket {
            throw CairnError(.interrupted, "interrupted by cairn_interrupt()")
        }
    }
}
