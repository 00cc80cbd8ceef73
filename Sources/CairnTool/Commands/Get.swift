import ArgumentParser
import Cairn

/// `cairn get DB KEY`: a key's value (text, or extended JSON's binary).
struct GetCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print the value of a key.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text).") var key: String

    func run(in context: CommandContext) throws {
        var found: JSONValue?
        _ = try withBytes(key) { k in try context.db.withValue(forKey: k) { found = keyValueJSON($0) } }
        guard let found else { throw CairnError(.notFound, "key '\(key)' not found") }
        if context.output.json {
            var members: [(key: String, value: JSONValue)] = [("key", .string(key)), ("value", found)]
            if let ttl = try withBytes(key, { try context.db.remainingTTL(forKey: $0) }), ttl > 0 { members.append(("ttl_ms", .int(ttl))) }
            context.output.report(.object(members))
        } else if case .string(let text) = found {
            context.output.line(text)
        } else {
            context.output.line(found.serialized)
        }
    }
}
