import CEdit
#if canImport(Glibc)
import Glibc
#endif

/// Where the shell's lines come from: libedit on a terminal (line editing,
/// history kept in ~/.cairn_history), plain reads otherwise (a pipe, a
/// file), without prompts, as sqlite3 does.
protocol LineReader: AnyObject {
    /// The next line without its newline; nil at the end of input.
    /// `.cancelled` when Ctrl-C interrupted the read.
    func readLine(prompt: String) -> LineRead
    func remember(_ entry: String)
    func close()
}

enum LineRead {
    case line(String)
    case cancelled
    case end
}

func makeLineReader() -> LineReader {
    isatty(0) == 1 ? EditLineReader() : PlainLineReader()
}

/// libedit's readline interface.
final class EditLineReader: LineReader {
    private let historyPath: String?

    init() {
        // libedit reads multibyte characters only in a UTF-8 locale; the
        // environment's, or C.UTF-8 when it names none (documents are UTF-8).
        let current = setlocale(LC_CTYPE, "").map { String(cString: $0) } ?? "C"
        if !current.lowercased().contains("utf") { _ = setlocale(LC_CTYPE, "C.UTF-8") }
        if let home = getenv("HOME") { historyPath = String(cString: home) + "/.cairn_history" } else { historyPath = nil }
        using_history()
        stifle_history(1000)
        if let historyPath { _ = read_history(historyPath) }
    }

    func readLine(prompt: String) -> LineRead {
        shellSawInterrupt = 0
        errno = 0
        // A read that Ctrl-C interrupted ends with EINTR, even when the
        // handler that notes the signal has not run yet (libedit re-raises
        // SIGINT from its own handler; the kernel may hand it to another
        // thread of the host). Only a NULL without it is the end of input.
        guard let raw = readline(prompt) else { return shellSawInterrupt != 0 || errno == EINTR ? .cancelled : .end }
        defer { free(raw) }
        if shellSawInterrupt != 0 { return .cancelled }
        return .line(String(cString: raw))
    }

    func remember(_ entry: String) {
        _ = add_history(entry)
    }

    func close() {
        if let historyPath { _ = write_history(historyPath) }
    }
}

/// Lines from a pipe or a file.
final class PlainLineReader: LineReader {
    private let input: UnsafeMutablePointer<FILE>? = fdopen(0, "r")
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    func readLine(prompt: String) -> LineRead {
        shellSawInterrupt = 0
        let length = getline(&buffer, &capacity, input)
        guard length >= 0, let buffer else {
            if shellSawInterrupt != 0 { clearerr(input); return .cancelled }
            return .end
        }
        var line = String(cString: buffer)
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        return .line(line)
    }

    func remember(_ entry: String) {}

    func close() {
        free(buffer)
        buffer = nil
    }
}
