import ArgumentParser
import Cairn

/// `cairn create-index DB COLL SPEC`: SPEC is an index spec
/// ({"keys": {...}, "name", "unique", "sparse", ...}) or just its keys.
struct CreateIndexCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "create-index",
        abstract: "Create an index and index the existing documents.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "An index spec such as {\"keys\": {\"age\": 1}, \"unique\": true}, or its keys {\"age\": 1}.") var spec: String
    @Flag(help: "A unique index.") var unique = false
    @Option(help: "The index name.") var name: String?
    @Option(help: "A TTL index: documents whose date in the field is older than this many seconds expire.")
    var expireAfterSeconds: Int64?

    func run(in context: CommandContext) throws {
        var value = try parseJSON(spec, what: "index spec")
        guard case .object(var members) = value else { throw ValidationError("the index spec must be a JSON object") }
        if !members.contains(where: { $0.key == "keys" }) { members = [("keys", value)] }
        if unique { members.append(("unique", .bool(true))) }
        if let name { members.append(("name", .string(name))) }
        if let expireAfterSeconds { members.append(("expireAfterSeconds", .int(expireAfterSeconds))) }
        value = .object(members)
        let created = try withBytes(value.serialized) { try context.db.createIndex(collection: collection, specJSON: $0) }
        context.output.report(.object([("created", .string(created))]))
    }
}
