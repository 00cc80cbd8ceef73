import ArgumentParser
import Cairn

/// `cairn keys DB [--prefix P] [--limit N]`: key listing (cairn_keys).
struct KeysCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "List keys, filtered and paged.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Option(help: "Keys starting with this.") var prefix: String?
    @Option(help: "Keys ending with this.") var suffix: String?
    @Option(help: "Keys containing this.") var contains: String?
    @Option(help: "Skip this many matches first.") var offset: Int?
    @Option(help: "At most this many keys.") var limit: Int?

    func run(in context: CommandContext) throws {
        var listing = Database.KeyListing()
        if let prefix { listing.prefix = Array(prefix.utf8) }
        if let suffix { listing.suffix = Array(suffix.utf8) }
        if let contains { listing.contains = Array(contains.utf8) }
        if let offset { guard offset >= 0 else { throw ValidationError("--offset must not be negative") }; listing.offset = offset }
        if let limit { guard limit >= 0 else { throw ValidationError("--limit must not be negative") }; listing.limit = limit }
        var keys: [JSONValue] = []
        try context.db.listKeys(listing) { key in
            let value = keyValueJSON(key)
            if context.output.json { keys.append(value) } else if case .string(let text) = value { context.output.line(text) } else { context.output.line(value.serialized) }
        }
        if context.output.json { context.output.report(.array(keys)) }
    }
}
