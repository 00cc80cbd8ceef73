import ArgumentParser
import Cairn

/// `cairn scan DB [PREFIX] [--limit N]`: keys and values in key order.
struct ScanCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "scan", abstract: "List keys and values, in key order.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "Only keys starting with this prefix.") var prefix: String = ""
    @Option(help: "At most this many pairs.") var limit: Int?
    @Flag(help: "In reverse key order.") var reverse = false

    func run(in context: CommandContext) throws {
        let iterator = try withBytes(prefix) { try context.db.makeIterator(prefix: $0, reverse: reverse) }
        var count = 0
        while limit.map({ count < $0 }) ?? true, try iterator.next() {
            count += 1
            let key = keyValueJSON(iterator.key), value = keyValueJSON(iterator.value)
            if !context.output.json, case .string(let k) = key, case .string(let v) = value {
                context.output.line("\(k)\t\(v)")
            } else {
                context.output.line(JSONValue.object([("key", key), ("value", value)]).serialized)
            }
        }
    }
}
