/// The index builds of one database: how far each has got (list_indexes
/// shows it), and the background thread that finishes the builds a crash
/// or a close interrupted (Database+Collections.swift, resumeIndexBuilds).
///
/// A build stops at its next chunk once `stop()` is called (close does),
/// leaving its index "building"; the next open resumes it.
final class IndexBuilds: @unchecked Sendable {
    /// A leaf lock: held briefly to read or change the builds' state, with
    /// no other Cairn lock taken inside it (docs/architecture.md, "Locks").
    private let state = Condition()
    /// "collection\0index" -> documents indexed so far, for builds running.
    private var indexed: [String: Int] = [:]
    private var threads = 0
    private var stopping = false

    private static func key(_ collection: String, _ index: String) -> String { collection + "\u{0}" + index }

    var isStopping: Bool { state.withLock { stopping } }

    func started(_ collection: String, _ index: String) {
        state.withLock { indexed[IndexBuilds.key(collection, index)] = 0 }
    }

    func advanced(_ collection: String, _ index: String, by documents: Int) {
        state.withLock { indexed[IndexBuilds.key(collection, index), default: 0] += documents }
    }

    func ended(_ collection: String, _ index: String) {
        state.withLock { _ = indexed.removeValue(forKey: IndexBuilds.key(collection, index)) }
    }

    /// Documents indexed so far by a running build, or nil.
    func progress(_ collection: String, _ index: String) -> Int? {
        state.withLock { indexed[IndexBuilds.key(collection, index)] }
    }

    /// Runs `body` on a background thread that `stop()` waits for.
    func startThread(env: Env, _ body: @escaping @Sendable () -> Void) throws {
        state.withLock { threads += 1 }
        do {
            try env.startThread { [self] in
                body()
                state.withLock {
                    threads -= 1
                    state.broadcast()
                }
            }
        } catch {
            state.withLock { threads -= 1 }
            throw error
        }
    }

    /// Asks every build to stop at its next chunk and waits for the
    /// background builds to end.
    func stop() {
        state.withLock {
            stopping = true
            while threads > 0 { state.wait(milliseconds: 50) }
        }
    }
}
