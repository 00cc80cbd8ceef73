import ArgumentParser
import Cairn

/// `cairn find DB COLL [FILTER] [--sort S --skip N --limit N --projection P]`.
struct FindCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "find", abstract: "Find documents with a MongoDB filter.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The filter, a JSON object (default: every document).") var filter: String = "{}"
    @Option(help: "The sort, a JSON object such as {\"age\": -1}.") var sort: String?
    @Option(help: "Skip this many documents.") var skip: Int?
    @Option(help: "At most this many documents.") var limit: Int?
    @Option(help: "The projection, a JSON object.") var projection: String?

    func run(in context: CommandContext) throws {
        let options = try findOptionsJSON(sort: sort, skip: skip, limit: limit, projection: projection)
        let cursor = try withBytes(filter) { f in try withBytes(options) { o in try context.db.find(collection: collection, filterJSON: f, optionsJSON: o) } }
        while try cursor.next() { try context.output.document(cursor.json) }
    }
}
