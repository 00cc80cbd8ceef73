import ArgumentParser
import Cairn

/// `cairn delete DB COLL FILTER [--many]`.
struct DeleteCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete the first (or every) matching document.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The filter, a JSON object.") var filter: String
    @Flag(help: "Delete every match.") var many = false

    func run(in context: CommandContext) throws {
        let deleted = try withBytes(filter) { try context.db.delete(collection: collection, filterJSON: $0, many: many) }
        context.output.report(.object([("deleted", .int(Int64(deleted)))]))
    }
}
