import ArgumentParser
import Cairn

/// `cairn count DB COLL [FILTER]`.
struct CountCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Count the documents matching a filter.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The filter, a JSON object.") var filter: String = "{}"

    func run(in context: CommandContext) throws {
        let count = try withBytes(filter) { try context.db.count(collection: collection, filterJSON: $0) }
        if context.output.json { context.output.report(.object([("count", .int(Int64(count)))])) } else { context.output.line(String(count)) }
    }
}
