/// The options of `Database.open`, parsed from the JSON object that every
/// language passes. Unknown keys and wrong types are INVALID_ARGUMENT naming
/// the option, so a typo never silently falls back to a default.
public struct DatabaseOptions: Sendable {
    /// Create the directory and database when absent.
    public var createIfMissing = true
    /// Fail when a database already exists.
    public var errorIfExists = false
    /// When an acknowledged write reaches stable storage.
    public var sync: SyncMode = .always
    /// Write a checkpoint when the write-ahead log grows past this many MiB.
    public var checkpointMB = 64

    public init() {}

    public static let names = ["create_if_missing", "error_if_exists", "sync", "checkpoint_mb"]

    /// Parses an options object; empty input means all defaults.
    public static func parse(json bytes: UnsafeRawBufferPointer) throws -> DatabaseOptions {
        var options = DatabaseOptions()
        guard bytes.count > 0 else { return options }
        let value = try JSONValue.parse(bytes, what: "options JSON")
        guard case .object(let members) = value else {
            throw CairnError.invalidArgument("options must be a JSON object, not \(value.typeName)")
        }
        for (key, value) in members {
            switch key {
            case "create_if_missing": options.createIfMissing = try boolean(value, key)
            case "error_if_exists": options.errorIfExists = try boolean(value, key)
            case "sync":
                guard case .string(let text) = value, let mode = SyncMode(rawValue: text) else {
                    throw CairnError.invalidArgument("option 'sync' must be \"always\" or \"never\"")
                }
                options.sync = mode
            case "checkpoint_mb":
                guard case .int(let mb) = value, (1...65536).contains(mb) else {
                    throw CairnError.invalidArgument("option 'checkpoint_mb' must be an integer from 1 to 65536")
                }
                options.checkpointMB = Int(mb)
            default:
                throw CairnError.invalidArgument("unknown option '\(key)' (known: \(names.joined(separator: ", ")))")
            }
        }
        return options
    }

    private static func boolean(_ value: JSONValue, _ key: String) throws -> Bool {
        guard case .bool(let flag) = value else {
            throw CairnError.invalidArgument("option '\(key)' must be true or false, not \(value.typeName)")
        }
        return flag
    }
}
