import ArgumentParser
import Cairn
import CCairn

/// The `cairn` tool: a look inside a database without writing a program.
///
/// Every subcommand is one file in Commands/ (a `DatabaseCommand`, which
/// opens the database, or any `ParsableCommand`) listed once here; the
/// shell runs the same list, so a command added here works one-shot and in
/// `cairn shell` alike. The behaviour is the core's public Swift API; the
/// tool parses arguments and formats what the core returns.
@main
struct CairnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Look inside and operate a Cairn database.",
        discussion: """
            Every command takes the database directory first. JSON arguments are one shell word:
              cairn find DB users '{"age": {"$gt": 30}}' --limit 5
            Run `cairn shell DB` for an interactive shell with the same commands.
            """,
        version: "cairn \(CAIRN_VERSION_STRING)",
        subcommands: CairnCommand.all)

    /// The subcommands, in the order `cairn --help` lists them. Adding one
    /// is a file in Commands/ and a line here.
    static let all: [ParsableCommand.Type] = [
        // The shell and bulk transfer.
        ShellCommand.self, ImportCommand.self, ExportCommand.self,
        // Keys.
        GetCommand.self, PutCommand.self, DelCommand.self, ScanCommand.self, KeysCommand.self,
        // Collections.
        CollectionsCommand.self, FindCommand.self, CountCommand.self, InsertCommand.self, UpdateCommand.self,
        DeleteCommand.self, AggregateCommand.self, ExplainCommand.self, IndexesCommand.self, CreateIndexCommand.self,
        DropIndexCommand.self,
        // Links between keys and documents.
        LinkCommand.self, UnlinkCommand.self, LinksCommand.self,
        // The database.
        StatsCommand.self, MetricsCommand.self, CompactCommand.self, VerifyCommand.self,
        // Copies.
        CheckpointCommand.self, BackupCommand.self, BackupsCommand.self, RestoreCommand.self,
    ]
}
