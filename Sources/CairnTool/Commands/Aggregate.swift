import ArgumentParser
import Cairn

/// `cairn aggregate DB COLL PIPELINE`.
struct AggregateCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "aggregate", abstract: "Run an aggregation pipeline.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The pipeline, a JSON array of stages.") var pipeline: String

    func run(in context: CommandContext) throws {
        let cursor = try withBytes(pipeline) { try context.db.aggregate(collection: collection, pipelineJSON: $0) }
        while try cursor.next() { try context.output.document(cursor.json) }
    }
}
