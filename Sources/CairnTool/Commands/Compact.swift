import ArgumentParser
import Cairn

/// `cairn compact DB`: flush, then compact everything to the bottom level.
struct CompactCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "compact",
        abstract: "Flush the memtable and compact the whole database (drops deleted and expired entries).")
    @OptionGroup var common: CommonOptions

    func run(in context: CommandContext) throws {
        try context.db.flush()
        try context.db.compactRange()
        if context.output.json { context.output.report(.object([("ok", .bool(true))])) }
    }
}
