import ArgumentParser
import Cairn

/// `cairn explain DB COLL FILTER [--sort ...]`: the planner's choice and work.
struct ExplainCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Describe how a find runs: its plan and its work.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The filter, a JSON object.") var filter: String = "{}"
    @Option(help: "The sort, a JSON object.") var sort: String?
    @Option(help: "Skip this many documents.") var skip: Int?
    @Option(help: "At most this many documents.") var limit: Int?
    @Option(help: "The projection, a JSON object.") var projection: String?

    func run(in context: CommandContext) throws {
        let options = try findOptionsJSON(sort: sort, skip: skip, limit: limit, projection: projection)
        let plan = try withBytes(filter) { f in try withBytes(options) { o in try context.db.explain(collection: collection, filterJSON: f, optionsJSON: o) } }
        context.output.write(pretty: try JSONValue.parse(plan, what: "plan"))
    }
}
