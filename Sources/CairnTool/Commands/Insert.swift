import ArgumentParser
import Cairn

/// `cairn insert DB COLL DOC`: one document, or an array of them (atomic).
struct InsertCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "insert", abstract: "Insert a document, or a JSON array of documents.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection (created on first insert).") var collection: String
    @Argument(help: "A JSON object, or an array of objects (inserted all or none).") var document: String

    func run(in context: CommandContext) throws {
        let trimmed = document.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" })
        let ids: [String]
        if trimmed.first == "[" {
            ids = try withBytes(document) { try context.db.insertMany(into: collection, arrayJSON: $0) }
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
