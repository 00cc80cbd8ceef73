import ArgumentParser
import Cairn
#if canImport(Glibc)
import Glibc
#endif

/// What every database command takes: the directory, then how to print.
struct CommonOptions: ParsableArguments {
    @Argument(help: "The database directory.")
    var database: String

    @Flag(name: .long, help: "Print results as JSON, for scripts.")
    var json = false

    @Option(name: .long, help: "How to print documents: json (pretty), ndjson (the default), table or csv.")
    var format: OutputMode?
}

/// Where a command runs: the open database and the output. One-shot, the
/// command opens the database and prints to stdout; in the shell, the
/// session's database and output modes are used.
struct CommandContext {
    let db: Database
    let output: Output
    /// True in `cairn shell`.
    let interactive: Bool
}

/// A command that works on an open database. It implements
/// `run(in:)`; the one-shot `run()` opens the database, runs it and maps
/// the core's errors to a message and an exit status.
protocol DatabaseCommand: ParsableCommand {
    var common: CommonOptions { get }
    /// Whether the command may create the database (it writes). Read
    /// commands on a missing directory fail with NOT_FOUND instead.
    static var createsDatabase: Bool { get }
    /// Whether the command only reads. Its one-shot run then opens the
    /// database read-only: without the lock, so it works beside a service
    /// that has the database open, and creating no file.
    static var readsOnly: Bool { get }
    /// Opens the database of a one-shot run. The default opens it for
    /// writing, creating it only when `createsDatabase`, or read-only for a
    /// command that `readsOnly`; a command that needs another open
    /// implements this.
    static func openDatabase(path: String) throws -> Database
    func run(in context: CommandContext) throws
}

extension DatabaseCommand {
    static var createsDatabase: Bool { false }
    static var readsOnly: Bool { false }

    static func openDatabase(path: String) throws -> Database {
        var options = DatabaseOptions()
        options.createIfMissing = createsDatabase
        options.readOnly = readsOnly
        return try Database.open(path: path, options: options)
    }

    func run() throws {
        let db: Database
        do {
            db = try Self.openDatabase(path: common.database)
        } catch let error as CairnError {
            throw ToolFailure(error)
        }
        let output = Output(mode: common.format ?? .ndjson, json: common.json)
        var failure: Error?
        do {
            try run(in: CommandContext(db: db, output: output, interactive: false))
        } catch {
            failure = error
        }
        output.finish()
        do { try db.close() } catch { if failure == nil { failure = error } }
        if let failure {
            if let error = failure as? CairnError { throw ToolFailure(error) }
            throw failure
        }
    }
}

/// A failure of the core, printed as `cairn: CODE: message` and returned as
/// the exit status 1 (argument errors are ArgumentParser's: status 64).
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: CairnError) { description = error.description }
    init(_ message: String) { description = message }
}

extension ToolFailure {
    /// Prints to stderr and exits; used by `main` below.
    func report() -> Never {
        printError("cairn: \(description)")
        exit(1)
    }
}

func printError(_ text: String) {
    writeStandardError(text + "\n")
}

/// Parses a JSON argument with the core's parser, naming the argument in
/// the message.
func parseJSON(_ text: String, what: String) throws -> JSONValue {
    try JSONValue.parse(text, what: what)
}

/// Calls `body` with the UTF-8 bytes of `text` (empty: an empty buffer).
func withBytes<T>(_ text: String?, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    guard var text else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
}

/// The JSON of find options from the usual flags; nil members are left out.
func findOptionsJSON(sort: String?, skip: Int?, limit: Int?, projection: String?) throws -> String? {
    var members: [(key: String, value: JSONValue)] = []
    if let sort { members.append(("sort", try parseJSON(sort, what: "--sort"))) }
    if let skip { members.append(("skip", .int(Int64(skip)))) }
    if let limit { members.append(("limit", .int(Int64(limit)))) }
    if let projection { members.append(("projection", try parseJSON(projection, what: "--projection"))) }
    return members.isEmpty ? nil : JSONValue.object(members).serialized
}

/// Writes straight to file descriptor 2 (unbuffered, as stderr is).
func writeStandardError(_ text: String) {
    var copy = text
    copy.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
