import ArgumentParser
import Cairn

/// `cairn collections DB`: the collection names.
struct CollectionsCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "collections", abstract: "List the collections.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions

    func run(in context: CommandContext) throws {
        let names = try context.db.collectionNames()
        if context.output.json { context.output.report(.array(names.map { .string($0) })) } else { names.forEach(context.output.line) }
    }
}
