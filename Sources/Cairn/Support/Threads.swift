#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new OS thread (the engine's background worker, index
/// builds, the change feed). No Foundation: a plain pthread, detached. A
/// thread the system refuses (out of threads or memory) is IO_ERROR, not a
/// crash.
///
/// The thread starts with every asynchronous signal blocked (it inherits
/// the mask in force at pthread_create). Signals sent to the process
/// (SIGINT, SIGTERM, SIGCHLD...) belong to the host: if one of our threads
/// took them, the host's handler would run on a thread it never made, and
/// a thread waiting in read() for that signal to interrupt it would not
/// be woken. (The shell lost Ctrl-C this way: libedit re-raises SIGINT
/// while the main thread blocks it, and one of our threads ran the
/// handler too late.) Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP)
/// go to the faulting thread whatever the mask, and blocking them is
/// undefined; they stay open, and so does SIGABRT, for abort().
func startThread(_ body: @escaping @Sendable () -> Void) throws {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var blocked = sigset_t()
    var previous = sigset_t()
    sigfillset(&blocked)
    for fault in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT] { sigdelset(&blocked, fault) }
    pthread_sigmask(SIG_SETMASK, &blocked, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
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
