/// The change feed's public API: watches on the database (a transaction
/// has nothing to watch: its changes appear when it commits).
extension Database {
    /// Opens a watch on `target` with options given as JSON (WatchOptions).
    ///
    /// - Throws: INVALID_ARGUMENT (the feed is off, bad options or target),
    ///   HISTORY_LOST (the start point is older than the history), CLOSED.
    public func watch(_ target: WatchTarget, optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> ChangeStream {
        try ChangeStream(database: self, target: target, options: WatchOptions.parse(json: optionsJSON))
    }

    /// The same, with options as a Swift string.
    public func watch(_ target: WatchTarget, options: String) throws -> ChangeStream {
        var text = options
        return try text.withUTF8 { try watch(target, optionsJSON: UnsafeRawBufferPointer($0)) }
    }
}
