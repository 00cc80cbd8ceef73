import ArgumentParser
import Cairn

/// `cairn backup DB BACKUPDIR`: an incremental backup of the open database
/// into a backup directory, where tables shared between backups are stored
/// once (docs/format/backup.md).
struct BackupCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "backup",
        abstract: "Add an incremental backup of the database to a backup directory.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup directory (created when missing).") var backups: String

    func run(in context: CommandContext) throws {
        let made = try BackupDirectory(path: backups).create(from: context.db)
        context.output.report(try parseJSON(made.json, what: "backup"))
    }
}

/// `cairn backups list|verify|delete|purge BACKUPDIR ...`: the backups of a
/// backup directory, without a database.
struct BackupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backups",
        abstract: "List, verify, delete or purge the backups of a backup directory.",
        subcommands: [List.self, VerifyOne.self, Delete.self, Purge.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The backups, oldest first.")
        @Argument(help: "The backup directory.") var backups: String
        func run() throws { try printing { try parseJSON(try BackupDirectory(path: backups).listJSON(), what: "backups") } }
    }

    struct VerifyOne: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check every byte of one backup.")
        @Argument(help: "The backup directory.") var backups: String
        @Argument(help: "The backup's id.") var id: UInt64
        func run() throws {
            var damaged = false
            try printing {
                let report = try BackupDirectory(path: backups).verify(id: id)
                damaged = !report.ok
                return try parseJSON(report.json, what: "verify report")
            }
            if damaged { throw ToolFailure("backup \(id) is damaged (see the files above)") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one backup (and the tables only it held).")
        @Argument(help: "The backup directory.") var backups: String
        @Argument(help: "The backup's id.") var id: UInt64
        func run() throws { try printing { try parseJSON(try BackupDirectory(path: backups).delete(id: id).json, what: "purge report") } }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "purge", abstract: "Keep only the newest backups.")
        @Argument(help: "The backup directory.") var backups: String
        @Option(help: "How many of the newest backups to keep.") var keep: Int
        func run() throws {
            try printing { try parseJSON(try BackupDirectory(path: backups).purge(keepingNewest: keep).json, what: "purge report") }
        }
    }
}

/// `cairn restore BACKUPDIR ID DIR`: a backup into a new directory, which
/// then opens as a database.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore",
        abstract: "Restore one backup into a new directory (checking every checksum).")
    @Argument(help: "The backup directory.") var backups: String
    @Argument(help: "The backup's id (`cairn backups list`).") var id: UInt64
    @Argument(help: "The new database directory (missing or empty).") var directory: String

    func run() throws {
        try printing { try parseJSON(try BackupDirectory(path: backups).restore(id: id, to: directory).json, what: "backup") }
    }
}

/// Runs `body` and prints what it returns as JSON; the core's errors become
/// `cairn: CODE: message` and exit status 1, as for database commands.
private func printing(_ body: () throws -> JSONValue) throws {
    let value: JSONValue
    do {
        value = try body()
    } catch let error as CairnError {
        throw ToolFailure(error)
    }
    let output = Output(mode: .json, json: true)
    output.report(value)
    output.finish()
}
