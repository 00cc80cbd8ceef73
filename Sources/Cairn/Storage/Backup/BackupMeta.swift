/// The description of one backup, `meta/<id>` in a backup directory
/// (docs/format/backup.md). A JSON object, so an operator can read it;
/// part of the backup format (version 1); fields may be added, never
/// changed:
///
///     {"format": 1, "id": 3, "timestamp_ms": 1765000000000, "sequence": 4812,
///      "database_id": "…", "copied_bytes": …, "reused_bytes": …,
///      "tables":  [{"name": "000000000012.sst", "stored": "000000000012-4096-1a2b3c4d.sst",
///                   "size": 4096, "crc32c": 123456}],
///      "private": [{"name": "wal-0000000000000013.log", "stored": "…", "size": …, "crc32c": …},
///                  {"name": "MANIFEST", …}]}
///
/// "tables" live in shared/ under "stored"; "private" in private/<id>/.
/// "name" is the file's name in the database a restore writes.
public struct BackupMeta: Sendable {
    public struct File: Sendable {
        public var name: String
        public var stored: String
        public var size: UInt64
        public var crc32c: UInt32
    }

    public var id: UInt64
    /// When the backup was taken, in milliseconds since the Unix epoch.
    public var timestampMillis: Int64
    /// The backup holds every write up to this sequence and none after.
    public var sequence: UInt64
    public var databaseID: String
    public var tables: [File] = []
    public var privateFiles: [File] = []
    /// Bytes this backup copied, and bytes of shared tables it found stored.
    public var copiedBytes: UInt64 = 0
    public var reusedBytes: UInt64 = 0

    init(id: UInt64, timestampMillis: Int64, sequence: UInt64, databaseID: String) {
        self.id = id
        self.timestampMillis = timestampMillis
        self.sequence = sequence
        self.databaseID = databaseID
    }

    /// The bytes a restore of this backup writes.
    public var size: UInt64 { (tables + privateFiles).reduce(0) { $0 &+ $1.size } }
    public var fileCount: Int { tables.count + privateFiles.count }

    static let format: Int64 = 1

    private static func fileJSON(_ file: File) -> JSONValue {
        .object([("name", .string(file.name)), ("stored", .string(file.stored)), ("size", .int(Int64(clamping: file.size))),
                 ("crc32c", .int(Int64(file.crc32c)))])
    }

    /// The meta file's contents.
    func encoded() -> [UInt8] {
        Array(JSONValue.object([
            ("format", .int(BackupMeta.format)), ("id", .int(Int64(clamping: id))), ("timestamp_ms", .int(timestampMillis)),
            ("sequence", .int(Int64(clamping: sequence))), ("database_id", .string(databaseID)),
            ("copied_bytes", .int(Int64(clamping: copiedBytes))), ("reused_bytes", .int(Int64(clamping: reusedBytes))),
            ("tables", .array(tables.map(BackupMeta.fileJSON))), ("private", .array(privateFiles.map(BackupMeta.fileJSON))),
        ]).serialized.utf8)
    }

    /// The summary `list` reports (no file lists).
    public var summaryJSON: JSONValue {
        .object([
            ("id", .int(Int64(clamping: id))), ("timestamp_ms", .int(timestampMillis)), ("sequence", .int(Int64(clamping: sequence))),
            ("size", .int(Int64(clamping: size))), ("files", .int(Int64(fileCount))), ("database_id", .string(databaseID)),
            ("copied_bytes", .int(Int64(clamping: copiedBytes))), ("reused_bytes", .int(Int64(clamping: reusedBytes))),
        ])
    }

    public var json: String { summaryJSON.serialized }

    static func decode(_ bytes: UnsafeRawBufferPointer, what: String) throws -> BackupMeta {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes, what: what)
        } catch let error as CairnError {
            throw CairnError.corruption("\(what): not a backup description (\(error.message))")
        }
        guard case .object(let members) = value else { throw CairnError.corruption("\(what): not a backup description") }
        func field(_ name: String) -> JSONValue? { members.first { $0.key == name }?.value }
        func integer(_ name: String, in object: [(key: String, value: JSONValue)]? = nil) throws -> Int64 {
            let found = object.map { o in o.first { $0.key == name }?.value } ?? field(name)
            guard case .int(let number)? = found, number >= 0 else { throw CairnError.corruption("\(what): no valid \"\(name)\"") }
            return number
        }
        func files(_ name: String) throws -> [File] {
            guard case .array(let items)? = field(name) else { throw CairnError.corruption("\(what): no valid \"\(name)\"") }
            return try items.map { item in
                guard case .object(let file) = item,
                      case .string(let fileName)? = file.first(where: { $0.key == "name" })?.value,
                      case .string(let stored)? = file.first(where: { $0.key == "stored" })?.value,
                      !fileName.contains("/"), !stored.contains("/"), !fileName.isEmpty, !stored.isEmpty else {
                    throw CairnError.corruption("\(what): a file entry of \"\(name)\" is not valid")
                }
                let crc = try integer("crc32c", in: file)
                guard let checksum = UInt32(exactly: crc) else { throw CairnError.corruption("\(what): impossible crc32c") }
                return File(name: fileName, stored: stored, size: UInt64(try integer("size", in: file)), crc32c: checksum)
            }
        }
        guard try integer("format") == format else { throw CairnError.corruption("\(what): unknown backup format") }
        guard case .string(let database)? = field("database_id") else { throw CairnError.corruption("\(what): no valid \"database_id\"") }
        var meta = BackupMeta(id: UInt64(try integer("id")), timestampMillis: try integer("timestamp_ms"),
                              sequence: UInt64(try integer("sequence")), databaseID: database)
        meta.tables = try files("tables")
        meta.privateFiles = try files("private")
        meta.copiedBytes = UInt64(try integer("copied_bytes"))
        meta.reusedBytes = UInt64(try integer("reused_bytes"))
        return meta
    }
}
