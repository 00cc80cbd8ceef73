import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Ctrl-C in the shell: the SIGINT handler calls Database.interrupt() (an
// atomic increment: every operation running then stops with INTERRUPTED;
// those started afterwards are unaffected, so nothing needs clearing) and
// notes the signal, so that a line being typed is dropped instead of
// ending the shell.

/// The shell's database, unretained (the shell keeps it alive while the
/// handler is installed).
nonisolated(unsafe) var shellInterruptTarget: UnsafeMutableRawPointer?
nonisolated(unsafe) var shellSawInterrupt: sig_atomic_t = 0

/// Installs the handler without SA_RESTART, so a blocking read returns.
func installShellInterruptHandler(for database: Database) {
    shellInterruptTarget = Unmanaged.passUnretained(database).toOpaque()
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in
        shellSawInterrupt = 1
        if let target = shellInterruptTarget { Unmanaged<Database>.fromOpaque(target).takeUnretainedValue().interrupt() }
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
}

func removeShellInterruptHandler() {
    signal(SIGINT, SIG_DFL)
    shellInterruptTarget = nil
}
