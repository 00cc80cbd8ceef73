import Synchronization

/// What the full-text layer keeps for an open database: analyzers, built
/// once per set of options, and each text index's term dictionary, which
/// prefix and fuzzy queries expand against. `Database.fullText` holds it.
/// Its locks are leaves (docs/architecture.md, "Locks").
final class FullTextLayer: @unchecked Sendable {
    private let analyzers = Mutex<[AnalyzerOptions: Analyzer]>([:])
    private let dictionaries = Mutex<[UInt64: TermDictionary]>([:])

    func analyzer(_ options: AnalyzerOptions) -> Analyzer {
        if let known = analyzers.withLock({ $0[options] }) { return known }
        let made = Analyzer(options)
        return analyzers.withLock { cache in
            if let raced = cache[options] { return raced }
            cache[options] = made
            return made
        }
    }

    /// The term dictionary of an index, once loaded (see TermDictionary).
    func dictionary(collection: UInt32, index: UInt32) -> TermDictionary {
        let id = UInt64(collection) << 32 | UInt64(index)
        return dictionaries.withLock { known in
            if let dictionary = known[id] { return dictionary }
            let made = TermDictionary()
            known[id] = made
            return made
        }
    }

    /// Forgets every index's state: a secondary caught up with its
    /// writer, whose indexes may have changed in any way.
    func forgetAll() { dictionaries.withLock { $0.removeAll() } }

    /// Forgets an index's dictionary (its index or collection was dropped).
    func forget(collection: UInt32, index: UInt32? = nil) {
        dictionaries.withLock { known in
            if let index {
                known[UInt64(collection) << 32 | UInt64(index)] = nil
            } else {
                known = known.filter { $0.key >> 32 != UInt64(collection) }
            }
        }
    }
}
