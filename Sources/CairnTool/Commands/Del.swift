import ArgumentParser
import Cairn

/// `cairn del DB KEY`.
struct DelCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a key.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text).") var key: String

    func run(in context: CommandContext) throws {
        try withBytes(key) { try context.db.delete(key: $0) }
        if context.output.json { context.output.report(.object([("ok", .bool(true))])) }
    }
}
