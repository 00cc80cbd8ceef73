/// The `change_feed` open option: whether this open records the feed's
/// history, and how much of it to keep.
///
///     "change_feed": true
///     "change_feed": {"retention_seconds": 3600, "retention_bytes": 67108864}
///     "change_feed": false            (the default)
///
/// Off by default, because recording is not free: every change writes its
/// event (a key-value put writes its key and value twice) in the same
/// batch, and a database nobody watches should not pay for it. Resuming
/// after a restart needs history, so a database that is watched is opened
/// with the feed on every time; an open without it records nothing, and a
/// later open with it treats everything before as lost history (a resume
/// token from before then fails with HISTORY_LOST, never skips silently).
///
/// History older than `retention_seconds`, and the oldest history beyond
/// `retention_bytes` (keys and values of the events), is trimmed by a
/// background thread about once a second, whole commits at a time. 0
/// turns a limit off; at least one stays on, so history never grows
/// without bound. Defaults: 24 hours and 256 MiB.
public struct ChangeFeedOptions: Sendable, Equatable {
    public var retentionSeconds: Int64 = 86_400
    public var retentionBytes: Int64 = 256 << 20

    public init() {}

    static func parse(_ value: JSONValue) throws -> ChangeFeedOptions? {
        switch value {
        case .bool(let on): return on ? ChangeFeedOptions() : nil
        case .object(let members):
            var options = ChangeFeedOptions()
            for (key, value) in members {
                guard case .int(let number) = value, number >= 0 else {
                    throw CairnError.invalidArgument("option 'change_feed.\(key)' must be a non-negative integer")
                }
                switch key {
                case "retention_seconds":
                    guard number <= 100 * 365 * 86_400 else { throw CairnError.invalidArgument("option 'change_feed.retention_seconds' is over 100 years") }
                    options.retentionSeconds = number
                case "retention_bytes": options.retentionBytes = number
                default:
                    throw CairnError.invalidArgument("unknown option 'change_feed.\(key)' (known: retention_seconds, retention_bytes)")
                }
            }
            guard options.retentionSeconds > 0 || options.retentionBytes > 0 else {
                throw CairnError.invalidArgument("option 'change_feed': retention_seconds and retention_bytes may not both be 0 (history would grow without bound)")
            }
            return options
        default:
            throw CairnError.invalidArgument("option 'change_feed' must be true, false or an object, not \(value.typeName)")
        }
    }
}
