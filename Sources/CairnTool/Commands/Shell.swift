import ArgumentParser
import Cairn
#if canImport(Glibc)
import Glibc
#endif

/// `cairn shell DB`: an interactive shell in the spirit of sqlite3 and
/// mongosh. It runs every other command of the tool on the open database
/// (`find users {"age": {"$gt": 30}} --limit 5`), reads JSON over several
/// lines while brackets are open, and has dot commands for itself
/// (`.mode`, `.timer`, `.help`, `.quit`). Ctrl-C stops the running command
/// through Database.interrupt() and returns to the prompt.
struct ShellCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "shell", abstract: "An interactive shell on the database.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions

    func run(in context: CommandContext) throws {
        let session = ShellSession(db: context.db, mode: common.format ?? .json, json: common.json)
        installShellInterruptHandler(for: context.db)
        defer { removeShellInterruptHandler() }
        session.loop(reader: makeLineReader())
    }
}

final class ShellSession {
    let db: Database
    var mode: OutputMode
    var json: Bool
    var timer = false
    private let output: Output

    init(db: Database, mode: OutputMode, json: Bool) {
        self.db = db
        self.mode = mode
        self.json = json
        output = Output(mode: mode, json: json)
    }

    func loop(reader: LineReader) {
        defer { reader.close() }
        if isatty(0) == 1 {
            output.line("cairn shell on \(db.path). Enter \".help\" for usage hints.")
            output.flush()
        }
        var pending = ""
        var balance = BracketBalance()
        while true {
            switch reader.readLine(prompt: pending.isEmpty ? "cairn> " : "   ...> ") {
            case .end:
                if isatty(0) == 1 { output.line("") }
                output.flush()
                return
            case .cancelled:
                // Ctrl-C at the prompt drops what was typed.
                pending = ""
                balance = BracketBalance()
                output.line("^C")
                output.flush()
            case .line(let line):
                let trimmed = line.trimmingWhitespace()
                if pending.isEmpty {
                    if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("//") { continue }
                    if trimmed.hasPrefix(".") {
                        reader.remember(trimmed)
                        if !dotCommand(trimmed) { return }
                        continue
                    }
                }
                pending += pending.isEmpty ? line : "\n" + line
                balance.feed(line.utf8)
                balance.feed("\n".utf8)
                // More lines while a JSON bracket is open.
                if balance.depth > 0 { continue }
                reader.remember(pending)
                execute(pending)
                pending = ""
                balance = BracketBalance()
            }
        }
    }

    /// Runs one command line; prints its result or its error.
    func execute(_ line: String) {
        let started = monotonicSeconds()
        do {
            var words = try ShellWords.split(line)
            guard !words.isEmpty else { return }
            if words[0] == "help" {
                printHelp(words.count > 1 ? words[1] : nil)
                return
            }
            guard words[0] != "shell" else { throw ShellError("already in the shell") }
            words.insert(db.path, at: 1)
            let parsed = try CairnCommand.parseAsRoot(words)
            guard let command = parsed as? DatabaseCommand else { throw ShellError("\(words[0]) does not run in the shell") }
            // Database.interrupt() stops only what is running, so a Ctrl-C
            // between the Enter and the command's start would be lost and
            // the command would run on; the handler's flag (cleared when
            // the line was read) catches it.
            if shellSawInterrupt != 0 { throw CairnError(.interrupted, "interrupted before it started") }
            output.mode = command.common.format ?? mode
            output.json = command.common.json || json
            defer { output.finish() }
            try command.run(in: CommandContext(db: db, output: output, interactive: true))
        } catch let error as CairnError {
            output.finish()
            printError(error.code == .interrupted ? "interrupted" : "Error: \(error)")
        } catch let error as ShellError {
            printError("Error: \(error)")
        } catch {
            let message = CairnCommand.fullMessage(for: error)
            if !message.isEmpty { printError(message) }
        }
        if timer { printError(String(format2Places(monotonicSeconds() - started))) }
    }

    /// Handles a dot command; false for `.quit`.
    func dotCommand(_ line: String) -> Bool {
        let words = (try? ShellWords.split(line)) ?? [line]
        switch words[0] {
        case ".quit", ".exit", ".q":
            return false
        case ".help":
            printHelp(nil)
        case ".mode":
            guard words.count == 2, let newMode = OutputMode(rawValue: words[1]) else {
                output.line("current mode: \(mode.rawValue)  (.mode json|ndjson|table|csv)")
                break
            }
            mode = newMode
        case ".timer":
            guard words.count == 2, words[1] == "on" || words[1] == "off" else { output.line(".timer on|off"); break }
            timer = words[1] == "on"
        case ".json":
            guard words.count == 2, words[1] == "on" || words[1] == "off" else { output.line(".json on|off"); break }
            json = words[1] == "on"
        case ".collections", ".tables":
            execute("collections")
        default:
            printError("Error: unknown command \(words[0]); enter \".help\"")
        }
        output.flush()
        return true
    }

    private func printHelp(_ command: String?) {
        if let command {
            output.line(helpText(command))
            output.flush()
            return
        }
        output.line("""
            Commands (the database is implied; JSON needs no quotes and may span lines):
              get KEY | put KEY VALUE [--ttl 1h] | del KEY | scan [PREFIX] [--limit N] | keys [--prefix P] [--limit N]
              collections | find COLL [FILTER] [--sort S] [--skip N] [--limit N] [--projection P] | count COLL [FILTER]
              insert COLL DOC|[DOCS] | update COLL FILTER UPDATE [--many] [--upsert] | delete COLL FILTER [--many]
              aggregate COLL PIPELINE | explain COLL FILTER | indexes COLL | create-index COLL SPEC | drop-index COLL NAME
              stats [COLL...] | metrics | compact | import ... | export ...
              help COMMAND          the options of one command
            Dot commands:
              .mode json|ndjson|table|csv   how documents print (now: \(mode.rawValue))
              .timer on|off                 print each command's time
              .json on|off                  reports as JSON
              .help  .quit
            Ctrl-C stops a running command; Ctrl-D or .quit leaves.
            """)
        output.flush()
    }

    private func helpText(_ command: String) -> String {
        do {
            _ = try CairnCommand.parseAsRoot([command, "--help"])
            return ""
        } catch {
            return CairnCommand.fullMessage(for: error)
        }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func format2Places(_ seconds: Double) -> String {
    let millis = (seconds * 1000).rounded() / 1000
    return "Run Time: \(millis) s"
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
