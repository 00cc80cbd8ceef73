/// Verification: reads every byte that carries a checksum (every table
/// block, every log record, the manifest) and reports damage by file, as
/// `cairn verify`, backups and `ldb checkconsistency` need. It never changes
/// a file.
///
/// A table is checked as a read would check it (footer, identity against
/// the manifest, index and filter blocks), then every data block's CRC and
/// decompression, then every entry in it: the count must equal the one its
/// footer records. A log segment is read record by record: damage followed
/// by intact records is damage; a torn last record is what a crash (or a
/// writer appending right now) leaves, reported as a note.
extension StorageEngine {
    /// Verifies the database in `directory` as its files are now. Takes no
    /// lock: for a database another process is writing, files may change
    /// under it; verify through the open handle (`verifyLive`) instead.
    static func verify(directory: String, env: Env = PosixEnv()) throws -> VerifyReport {
        guard env.kind(of: directory) == .directory else { throw CairnError(.notFound, "database \(directory) does not exist") }
        var report = VerifyReport(directory: directory)
        let names = try env.listDirectory(directory)
        let manifest: Manifest
        do {
            guard let read = try Manifest.read(directory: directory, env: env) else {
                throw CairnError(.notFound, "\(directory) holds no \(Manifest.fileName): not a Cairn database")
            }
            manifest = read
            report.add(file: Manifest.fileName, kind: "manifest", bytes: env.size(of: directory + "/" + Manifest.fileName) ?? 0)
        } catch let error as CairnError where error.code == .corruption {
            report.add(file: Manifest.fileName, kind: "manifest", bytes: env.size(of: directory + "/" + Manifest.fileName) ?? 0, error: error.message)
            return report
        }
        let id = manifest.databaseID ?? DatabaseID(bytes: Array(repeating: 0, count: DatabaseID.byteCount))
        let context = TableContext(directory: directory, env: env, cache: nil, maxOpenTables: 16, mapReads: false, stats: EngineStats())
        var listed = Set<UInt64>()
        for table in manifest.levels.joined() {
            listed.insert(table.number)
            let file = TableFile(number: table.number, size: table.size, smallestUserKey: table.smallestUserKey,
                                 largestUserKey: table.largestUserKey, smallestSequence: table.smallestSequence,
                                 largestSequence: table.largestSequence, entryCount: table.entryCount, databaseID: id,
                                 requiresIdentity: manifest.databaseID != nil && table.number >= manifest.identityFromFile, context: context)
            report.add(verifyTable(file, env: env))
        }
        for name in names {
            if let number = TableFormat.number(fromFileName: name), !listed.contains(number) {
                report.notes.append("\(name) is not listed in the manifest (the next open deletes it if it is provably obsolete)")
            }
        }
        for number in names.compactMap({ StorageEngine.walNumber(fromFileName: $0) }).sorted() where number >= manifest.logNumber {
            let name = walName(number)
            do {
                let file = try env.openForReading(directory + "/" + name)
                defer { file.close() }
                report.add(verifySegment(name: name, file: file, length: try file.size))
            } catch let error as CairnError {
                report.add(file: name, kind: "log", bytes: 0, error: error.message)
            }
        }
        return report
    }

    /// Verifies the open database's live files: the tables of the current
    /// version and the log up to the last write, pinned as a checkpoint
    /// pins them, so the writer goes on meanwhile.
    func verifyLive() throws -> VerifyReport {
        let files = try captureLiveFiles()
        var report = VerifyReport(directory: directory)
        report.sequence = files.sequence
        for table in files.tables { report.add(StorageEngine.verifyTable(table, env: env)) }
        for segment in files.segments {
            report.add(StorageEngine.verifySegment(name: StorageEngine.walName(segment.number), file: segment.file, length: segment.length))
        }
        return report
    }

    static func verifyTable(_ table: TableFile, env: Env) -> VerifyReport.File {
        let name = TableFormat.fileName(table.number)
        var result = VerifyReport.File(file: name, kind: "table", bytes: table.size)
        do {
            guard env.kind(of: table.path) == .regularFile else { throw CairnError.corruption("\(table.path): table listed in the manifest is missing") }
            let reader = try table.reader()
            var index = reader.makeIndexIterator()
            try index.seekToFirst()
            var entries: UInt64 = 0
            while index.isValid {
                let handle = try TableFormat.BlockHandle.decode(index.value, what: reader.path)
                let block = try reader.readBlockFromFile(handle)
                var iterator = BlockIterator(block: block)
                try iterator.seekToFirst()
                while iterator.isValid {
                    entries += 1
                    try iterator.advance()
                }
                result.units += 1
                try index.advance()
            }
            guard entries == reader.entryCount else {
                throw CairnError.corruption("\(reader.path): the blocks hold \(entries) entries, the footer records \(reader.entryCount)")
            }
        } catch let error as CairnError {
            result.error = error.message
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    static func verifySegment(name: String, file: FileHandle, length: Int) -> VerifyReport.File {
        var result = VerifyReport.File(file: name, kind: "log", bytes: UInt64(length))
        do {
            var bytes = [UInt8](repeating: 0, count: length)
            if length > 0 { try bytes.withUnsafeMutableBytes { try file.read(at: 0, count: length, into: $0.baseAddress!) } }
            var records = 0
            let outcome = try bytes.withUnsafeBytes { raw in
                try RecordReader(path: file.path).forEachRecord(in: raw) { payload in
                    _ = try WALFormat.classify(payload, what: file.path)
                    records += 1
                }
            }
            result.units = records
            if outcome.hadTornTail && !outcome.endsInZeros {
                result.note = outcome.tailFailedChecksum
                    ? "the last record, at byte \(outcome.validLength), fails its checksum (a crash or damage; open cuts it off)"
                    : "a write cut short at byte \(outcome.validLength) (a crash, or a write in progress)"
            }
        } catch let error as CairnError {
            result.error = error.message
        } catch {
            result.error = "\(error)"
        }
        return result
    }
}

/// What verification found, file by file (`cairn_verify`, `cairn verify`,
/// and a backup's verification).
public struct VerifyReport: Sendable {
    public struct File: Sendable {
        public var file: String
        /// "manifest", "table", "log" (a database) or "shared", "private"
        /// (a backup).
        public var kind: String
        public var bytes: UInt64
        /// Blocks of a table, records of a log segment.
        public var units = 0
        /// What is wrong with the file; nil when it verified.
        public var error: String?
        /// Something worth knowing that is not damage (a torn log tail).
        public var note: String?

        init(file: String, kind: String, bytes: UInt64, error: String? = nil) {
            self.file = file
            self.kind = kind
            self.bytes = bytes
            self.error = error
        }
    }

    public var directory: String
    public var files: [File] = []
    public var notes: [String] = []
    /// For a live verification, the sequence its files were pinned at.
    public var sequence: UInt64?

    /// True when every file verified.
    public var ok: Bool { files.allSatisfy { $0.error == nil } }
    public var damaged: [File] { files.filter { $0.error != nil } }

    mutating func add(_ file: File) { files.append(file) }

    mutating func add(file: String, kind: String, bytes: UInt64, error: String? = nil) {
        files.append(File(file: file, kind: kind, bytes: bytes, error: error))
    }

    public var json: String {
        var members: [(key: String, value: JSONValue)] = [
            ("ok", .bool(ok)), ("directory", .string(directory)),
            ("files_checked", .int(Int64(files.count))), ("files_damaged", .int(Int64(damaged.count))),
            ("bytes_checked", .int(Int64(clamping: files.reduce(0) { $0 &+ $1.bytes }))),
        ]
        if let sequence { members.append(("sequence", .int(Int64(clamping: sequence)))) }
        members.append(("files", .array(files.map { file in
            var fields: [(key: String, value: JSONValue)] = [
                ("file", .string(file.file)), ("kind", .string(file.kind)), ("bytes", .int(Int64(clamping: file.bytes))),
            ]
            if file.kind == "table" { fields.append(("blocks", .int(Int64(file.units)))) }
            if file.kind == "log" { fields.append(("records", .int(Int64(file.units)))) }
            fields.append(("ok", .bool(file.error == nil)))
            if let error = file.error { fields.append(("error", .string(error))) }
            if let note = file.note { fields.append(("note", .string(note))) }
            return .object(fields)
        })))
        members.append(("notes", .array(notes.map { .string($0) })))
        return JSONValue.object(members).serialized
    }
}
