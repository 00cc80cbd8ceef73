import ArgumentParser
import Cairn

/// `cairn put DB KEY VALUE [--ttl 1h]`.
struct PutCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a value under a key.")
    static var createsDatabase: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text).") var key: String
    @Argument(help: "The value (UTF-8 text).") var value: String
    @Option(help: "Expire the key after this long: 30s, 5m, 1h, 2d, 1w.") var ttl: String?

    func run(in context: CommandContext) throws {
        let ttlMillis = try ttl.map { try Cairn.Duration.milliseconds(in: $0) } ?? 0
        try withBytes(key) { k in try withBytes(value) { v in try context.db.put(key: k, value: v, ttlMillis: ttlMillis) } }
        if context.output.json { context.output.report(.object([("ok", .bool(true))])) }
    }
}
