import ArgumentParser
import Cairn

/// `cairn insert DB COLL DOC [--ttl 1h]`: one document, or an array of
/// them (atomic).
struct InsertCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "insert", abstract: "Insert a document, or a JSON array of documents.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection (created on first insert).") var collection: String
    @Argument(help: "A JSON object, or an array of objects (inserted all or none).") var document: String
    @Option(help: "The documents expire after this long (30s, 5m, 1h, 2d, 1w): stored with _expiresAt.") var ttl: String?

    func run(in context: CommandContext) throws {
        let trimmed = document.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" })
        let ttlMillis = try ttl.map { try Cairn.Duration.milliseconds(in: $0) }
        let ids: [String]
        if trimmed.first == "[" {
            if let ttlMillis {
                let options = JSONValue.object([("atomic", .bool(true)), ("ttl", .int(ttlMillis))]).serialized
                let result = try withBytes(document) { d in try withBytes(options) { try context.db.insertMany(into: collection, arrayJSON: d, optionsJSON: $0) } }
                if let failure = result.errors.first { throw failure.error }
                ids = result.insertedIDs
            } else {
                ids = try withBytes(document) { try context.db.insertMany(into: collection, arrayJSON: $0) }
            }
        } else if let ttlMillis {
            ids = [try withBytes(document) { try context.db.insertOne(into: collection, json: $0, ttlMillis: ttlMillis) }]
        } else {
            ids = [try withBytes(document) { try context.db.insertOne(into: collection, json: $0) }]
        }
        let values = try ids.map { try JSONValue.parse($0, what: "id") }
        if context.output.json || ids.count > 1 {
            context.output.report(.object([("inserted_ids", .array(values))]))
        } else {
            context.output.report(.object([("inserted_id", values[0])]))
        }
    }
}
