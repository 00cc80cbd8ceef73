import ArgumentParser
import Cairn

/// `cairn drop-index DB COLL NAME`.
struct DropIndexCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "drop-index", abstract: "Drop an index by name.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The index name.") var name: String

    func run(in context: CommandContext) throws {
        try context.db.dropIndex(collection: collection, index: name)
        if context.output.json { context.output.report(.object([("dropped", .string(name))])) }
    }
}
