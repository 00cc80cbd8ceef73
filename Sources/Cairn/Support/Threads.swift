#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new OS thread (the engine's background worker, index
/// builds). No Foundation: a plain pthread, detached. A thread the system
/// refuses (out of threads or memory) is IO_ERROR, not a crash.
func startThread(_ body: @escaping @Sendable () -> Void) throws {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
        box.body()
        return nil
    }, context)
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        throw CairnError(.ioError, "cannot start a thread: \(String(cString: strerror(result)))")
    }
    pthread_detach(thread)
}
