import ArgumentParser
import Cairn

/// `cairn indexes DB COLL`.
struct IndexesCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "indexes", abstract: "List a collection's indexes.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String

    func run(in context: CommandContext) throws {
        let list = try JSONValue.parse(try context.db.listIndexes(collection: collection), what: "indexes")
        guard case .array(let indexes) = list else { return context.output.report(list) }
        if context.output.json { return context.output.report(list) }
        for index in indexes { try context.output.document(index.serialized) }
    }
}
