import Synchronization

/// What the links layer keeps for an open database: whether any link may
/// exist. Every document delete removes the document's links in its own
/// transaction; while no link was ever written, that costs nothing (no
/// scan), which is every database that does not use links.
final class LinkLayer: Sendable {
    private let mayExistFlag = Atomic<Bool>(false)

    var mayExist: Bool { mayExistFlag.load(ordering: .acquiring) }

    /// Set before the first link's write commits, never cleared while open.
    func noteLinkWritten() { mayExistFlag.store(true, ordering: .releasing) }
}

extension Database {
    /// At open: whether the links namespace holds anything.
    func openLinks() throws {
        let lower: [UInt8] = [Namespace.links.rawValue]
        let upper = Namespace.links.upperBound
        let found = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false).iterator.next() }
        }
        if found { links.noteLinkWritten() }
    }
}
