import ArgumentParser
import Cairn

/// `cairn checkpoint DB DIR`: a consistent copy of the open database, while
/// writes go on (tables hard-linked when DIR is on the same file system).
struct CheckpointCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint",
        abstract: "Copy the database, consistent at one sequence, into a new directory that opens as a database.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The new directory (missing or empty).") var directory: String

    func run(in context: CommandContext) throws {
        let report = try context.db.checkpoint(to: directory)
        context.output.report(try parseJSON(report.json, what: "checkpoint report"))
    }
}
