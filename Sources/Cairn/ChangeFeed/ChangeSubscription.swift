#if canImport(Glibc)
import Glibc
#endif

/// A push subscription: a thread of its own pulls a watch and hands each
/// event to a handler, in order, one at a time, never two at once. When
/// the watch fails (HISTORY_LOST, the database closed) the handler gets
/// the error once and the thread ends.
///
/// `close` stops it: from another thread it waits for a running handler
/// call to return, so that no call follows; from the handler itself it
/// only asks, and the thread ends when the handler returns. `onEnd` runs
/// exactly once, after the last handler call: in `close`, or at the
/// thread's end when `close` came from the handler.
public final class ChangeSubscription: @unchecked Sendable {
    public enum Delivery {
        case event(String)
        case failure(CairnError)
    }

    let stream: ChangeStream
    private let handler: @Sendable (Delivery) -> Void
    private let onEnd: @Sendable () -> Void
    /// A leaf lock: the subscription thread's state, with no other lock
    /// taken inside it (docs/architecture.md, "Locks").
    private let condition = Condition()
    private var stopping = false
    private var running = true
    private var ended = false
    private var thread: pthread_t?

    /// How long one pull waits before it looks at `stopping` again; a
    /// `close` (and the database's) wakes it at once, so this only bounds
    /// how often an idle subscription looks at the history for nothing.
    static let pollMillis = 10_000

    public init(stream: ChangeStream, handler: @escaping @Sendable (Delivery) -> Void, onEnd: @escaping @Sendable () -> Void) throws {
        self.stream = stream
        self.handler = handler
        self.onEnd = onEnd
        try startThread { [self] in run() }
    }

    private func run() {
        condition.withLock { thread = pthread_self() }
        while !condition.withLock({ stopping }) {
            do {
                guard let event = try stream.next(timeoutMillis: ChangeSubscription.pollMillis) else { continue }
                handler(.event(event))
            } catch let error as CairnError {
                // A close from this side is no failure to report.
                if !condition.withLock({ stopping }) { handler(.failure(error)) }
                break
            } catch {
                handler(.failure(CairnError(.internal, "\(error)")))
                break
            }
        }
        let endHere = condition.withLock { () -> Bool in
            running = false
            condition.broadcast()
            // close() came from the handler: it could not wait, so the end is ours.
            return stopping && !ended && closedFromHandler
        }
        if endHere { finish() }
    }

    private var closedFromHandler = false

    private func finish() {
        let first = condition.withLock { () -> Bool in
            defer { ended = true }
            return !ended
        }
        if first { onEnd() }
    }

    /// Stops the subscription (see the type's comment). Idempotent.
    public func close() {
        let fromHandler = condition.withLock { () -> Bool in
            stopping = true
            let mine = thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
            if mine { closedFromHandler = true }
            return mine
        }
        stream.close()
        if fromHandler { return }
        condition.withLock { while running { condition.wait(milliseconds: 100) } }
        finish()
    }
}
