import ArgumentParser
import Cairn

/// `cairn update DB COLL FILTER UPDATE [--many] [--upsert]`.
struct UpdateCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "update",
        abstract: "Update the first (or every) matching document with update operators or a replacement.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The filter, a JSON object.") var filter: String
    @Argument(help: "Update operators ({\"$set\": ...}), a pipeline, or a replacement document.") var update: String
    @Flag(help: "Update every match.") var many = false
    @Flag(help: "Insert a document when nothing matches.") var upsert = false

    func run(in context: CommandContext) throws {
        let result = try withBytes(filter) { f in
            try withBytes(update) { u in
                try context.db.update(collection: collection, filterJSON: f, updateJSON: u, mode: many ? .many : .oneAnyForm, upsert: upsert)
            }
        }
        var members: [(key: String, value: JSONValue)] = [("matched", .int(Int64(result.matched))), ("modified", .int(Int64(result.modified)))]
        if let id = result.upsertedID { members.append(("upserted_id", try JSONValue.parse(id, what: "id"))) }
        context.output.report(.object(members))
    }
}
