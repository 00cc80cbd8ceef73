#if canImport(Glibc)
import Glibc
#endif

/// Incremental backups of an open database into a backup directory, as
/// RocksDB's BackupEngine keeps them: a table shared by several backups is
/// stored once. docs/format/backup.md describes the layout:
///
///     LOCK                 held while a backup is made, verified, restored or purged
///     shared/<table>       tables, named <number>-<size>-<properties checksum>.sst
///     private/<id>/        each backup's MANIFEST and log segments
///     meta/<id>            each backup's description (BackupMeta), written last
///
/// A backup exists exactly when its meta file does. Making one copies the
/// tables the directory lacks into shared/ (each under a temporary name,
/// synced, then renamed), the checkpoint's log segments and manifest into
/// private/<id>.tmp (renamed to private/<id> once synced), and only then
/// writes meta/<id> (temporary name, synced, renamed, directory synced). A
/// crash at any point leaves files no meta names, which `garbageCollect`
/// (and the next purge) removes; never a backup listed as complete.
///
/// A shared table's name is its number, size and the checksum of its
/// properties (number, database id, entry count, sequences and key range,
/// TableFormat.propertiesChecksum): two different tables never share a
/// name, even from a restored database that reuses numbers, without
/// reading the table. Each meta records every file's size and CRC-32C, so
/// verification reads every byte of a backup.
struct BackupEngine {
    let directory: String
    let env: Env

    init(directory: String, env: Env = PosixEnv()) {
        self.directory = StorageEngine.trimmedPath(directory)
        self.env = env
    }

    private var sharedDirectory: String { directory + "/shared" }
    private var privateDirectory: String { directory + "/private" }
    private var metaDirectory: String { directory + "/meta" }
    private func privatePath(_ id: UInt64) -> String { privateDirectory + "/" + String(id) }
    private func metaPath(_ id: UInt64) -> String { metaDirectory + "/" + String(id) }

    /// Runs `body` holding the backup directory's lock (created with the
    /// directory and its subdirectories when `creating`).
    private func locked<T>(creating: Bool, _ body: () throws -> T) throws -> T {
        switch env.kind(of: directory) {
        case .directory: break
        case .missing:
            guard creating else { throw CairnError(.notFound, "backup directory \(directory) does not exist") }
            try env.createDirectory(directory)
        case .regularFile, .other: throw CairnError.invalidArgument("\(directory) exists and is not a directory")
        }
        if creating {
            for sub in [sharedDirectory, privateDirectory, metaDirectory] { try env.createDirectory(sub) }
        } else {
            guard env.kind(of: metaDirectory) == .directory else {
                throw CairnError(.notFound, "\(directory) is not a backup directory (no meta/)")
            }
        }
        let lock = try env.lockFile(directory + "/LOCK")
        defer {
            lock.unlock()
            lock.close()
        }
        return try body()
    }

    // MARK: Reading the metas

    /// Every complete backup, oldest first.
    func list() throws -> [BackupMeta] {
        guard env.kind(of: directory) == .directory else { throw CairnError(.notFound, "backup directory \(directory) does not exist") }
        guard env.kind(of: metaDirectory) == .directory else { return [] }
        return try env.listDirectory(metaDirectory).compactMap(BackupEngine.backupID(fromName:)).sorted().map(readMeta)
    }

    /// A meta file's id: a decimal number, nothing else (temporary names
    /// end in ".tmp").
    private static func backupID(fromName name: String) -> UInt64? {
        guard !name.isEmpty, name.utf8.count <= 19, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(name)
    }

    private func readMeta(_ id: UInt64) throws -> BackupMeta {
        let path = metaPath(id)
        guard env.kind(of: path) == .regularFile else { throw CairnError(.notFound, "no backup \(id) in \(directory)") }
        let bytes = try env.openForReading(path).readAll()
        return try bytes.withUnsafeBytes { try BackupMeta.decode($0, what: path) }
    }

    // MARK: Creating

    /// Backs up the open database `engine` (a consistent copy at one
    /// sequence, taken as a checkpoint is, while writes go on).
    func create(from engine: StorageEngine) throws -> BackupMeta {
        try locked(creating: true) {
            let existing = try list()
            // Known checksums of shared files, so a table already stored is
            // neither read nor copied again.
            var known: [String: (size: UInt64, crc: UInt32)] = [:]
            for meta in existing { for file in meta.tables { known[file.stored] = (file.size, file.crc32c) } }
            let privateIDs = try env.listDirectory(privateDirectory).compactMap { name -> UInt64? in
                BackupEngine.backupID(fromName: name.hasSuffix(".tmp") ? String(name.dropLast(4)) : name)
            }
            let id = (existing.map(\.id) + privateIDs).max().map { $0 + 1 } ?? 1
            let files = try engine.captureLiveFiles()
            var meta = BackupMeta(id: id, timestampMillis: env.nowMillis(), sequence: files.sequence,
                                  databaseID: engine.databaseID.description)
            var sharedAdded = false
            for table in files.tables {
                let name = TableFormat.fileName(table.number)
                let checksum = table.smallestUserKey.withUnsafeBytes { smallest in
                    table.largestUserKey.withUnsafeBytes { largest in
                        TableFormat.propertiesChecksum(number: table.number, databaseID: table.databaseID, entryCount: table.entryCount,
                                                       smallestSequence: table.smallestSequence, largestSequence: table.largestSequence,
                                                       smallestUserKey: smallest, largestUserKey: largest)
                    }
                }
                let stored = String(name.dropLast(4)) + "-" + String(table.size) + "-" + hex(checksum) + ".sst"
                let target = sharedDirectory + "/" + stored
                var crc: UInt32
                if let already = known[stored], env.size(of: target) == already.size {
                    crc = already.crc
                    meta.reusedBytes += table.size
                } else if env.size(of: target) == table.size {
                    // Left by a backup that crashed before its meta: whole
                    // (renamed only once synced), but its checksum is unknown.
                    crc = try env.checksum(of: target).crc
                    meta.reusedBytes += table.size
                } else {
                    crc = try env.copyFile(table.path, to: target + ".tmp")
                    try env.rename(target + ".tmp", to: target)
                    sharedAdded = true
                    meta.copiedBytes += table.size
                }
                meta.tables.append(BackupMeta.File(name: name, stored: stored, size: table.size, crc32c: crc))
            }
            if sharedAdded { try env.syncDirectory(sharedDirectory) }
            let temporary = privatePath(id) + ".tmp"
            if env.kind(of: temporary) == .directory { try env.removeTree(temporary) }
            try env.createDirectory(temporary)
            do {
                for segment in files.segments {
                    let name = StorageEngine.walName(segment.number)
                    let crc = try env.copy(segment.file, length: segment.length, to: temporary + "/" + name)
                    meta.privateFiles.append(BackupMeta.File(name: name, stored: name, size: UInt64(segment.length), crc32c: crc))
                    meta.copiedBytes += UInt64(segment.length)
                }
                do {
                    try files.manifest.write(directory: temporary, env: env)
                } catch let failure as Manifest.WriteFailure {
                    throw failure.error
                }
                let (crc, size) = try env.checksum(of: temporary + "/" + Manifest.fileName)
                meta.privateFiles.append(BackupMeta.File(name: Manifest.fileName, stored: Manifest.fileName, size: UInt64(size), crc32c: crc))
                meta.copiedBytes += UInt64(size)
                try env.rename(temporary, to: privatePath(id))
                try env.syncDirectory(privateDirectory)
            } catch {
                try? env.removeTree(temporary)
                throw error
            }
            // The commit point: the backup exists once its meta is in place.
            try writeAtomically(meta.encoded(), to: metaPath(id))
            return meta
        }
    }

    /// Writes `bytes` to `path` under a temporary name, synced, renamed,
    /// and the directory synced.
    private func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let file = try env.create(temporary)
        do {
            try bytes.withUnsafeBytes { try file.append($0) }
            try file.sync()
            file.close()
            try env.rename(temporary, to: path)
        } catch {
            file.close()
            try? env.remove(temporary)
            throw error
        }
        try env.syncDirectory(StorageEngine.parent(of: path))
    }

    // MARK: Verifying and restoring

    /// Reads every file of backup `id` and checks its size and CRC-32C.
    func verify(id: UInt64) throws -> VerifyReport {
        try locked(creating: false) {
            let meta = try readMeta(id)
            var report = VerifyReport(directory: directory)
            report.sequence = meta.sequence
            for (file, path, kind) in locations(of: meta) {
                var result = VerifyReport.File(file: kind == "shared" ? "shared/" + file.stored : "private/\(id)/" + file.name,
                                               kind: kind, bytes: file.size)
                do {
                    guard env.kind(of: path) == .regularFile else { throw CairnError.corruption("\(path) is missing") }
                    let (crc, size) = try env.checksum(of: path)
                    if UInt64(size) != file.size {
                        throw CairnError.corruption("\(path) is \(size) bytes, the backup recorded \(file.size)")
                    }
                    if crc != file.crc32c { throw CairnError.corruption("\(path) fails its checksum (damaged since the backup)") }
                } catch let error as CairnError {
                    result.error = error.message
                }
                report.add(result)
            }
            return report
        }
    }

    private func locations(of meta: BackupMeta) -> [(BackupMeta.File, String, String)] {
        meta.tables.map { ($0, sharedDirectory + "/" + $0.stored, "shared") }
            + meta.privateFiles.map { ($0, privatePath(meta.id) + "/" + $0.stored, "private") }
    }

    /// Restores backup `id` into `target` (absent or an empty directory),
    /// checking every file's checksum as it is copied. Built in a hidden
    /// sibling and renamed into place, as a checkpoint is.
    func restore(id: UInt64, to target: String) throws -> BackupMeta {
        try locked(creating: false) {
            let meta = try readMeta(id)
            let target = StorageEngine.trimmedPath(target)
            let temporary = try StorageEngine.prepareTarget(target, env: env, purpose: "restore")
            do {
                for (file, path, _) in locations(of: meta) where file.name != Manifest.fileName {
                    let crc = try env.copyFile(path, to: temporary + "/" + file.name)
                    guard crc == file.crc32c, env.size(of: temporary + "/" + file.name) == file.size else {
                        throw CairnError.corruption("\(path) fails its checksum (damaged since the backup); nothing was restored")
                    }
                }
                let manifestPath = privatePath(id) + "/" + Manifest.fileName
                let actual = env.kind(of: manifestPath) == .regularFile ? try env.checksum(of: manifestPath) : nil
                guard let recorded = meta.privateFiles.first(where: { $0.name == Manifest.fileName }), let actual,
                      actual.crc == recorded.crc32c, UInt64(actual.size) == recorded.size else {
                    throw CairnError.corruption("\(manifestPath) is missing or fails its checksum; nothing was restored")
                }
                guard let manifest = try Manifest.read(directory: privatePath(id), env: env) else {
                    throw CairnError.corruption("\(manifestPath) is missing; nothing was restored")
                }
                try StorageEngine.install(manifest, in: temporary, as: target, env: env)
            } catch {
                try? env.removeTree(temporary)
                throw error
            }
            return meta
        }
    }

    // MARK: Purging

    /// Deletes the backups `ids` (their metas first: from that moment they
    /// no longer exist), then every file no remaining backup needs.
    func delete(ids: [UInt64]) throws -> PurgeReport {
        try locked(creating: false) {
            var report = PurgeReport()
            for id in ids {
                guard env.kind(of: metaPath(id)) == .regularFile else { throw CairnError(.notFound, "no backup \(id) in \(directory)") }
            }
            for id in ids {
                try env.remove(metaPath(id))
                report.deleted.append(id)
            }
            if !ids.isEmpty { try env.syncDirectory(metaDirectory) }
            try collectGarbage(into: &report)
            return report
        }
    }

    /// Keeps the newest `keep` backups and deletes the others.
    func purge(keepingNewest keep: Int) throws -> PurgeReport {
        guard keep >= 0 else { throw CairnError.invalidArgument("the number of backups to keep is negative") }
        let ids = try list().map(\.id)
        return try delete(ids: Array(ids.dropLast(keep)))
    }

    /// Removes every file no backup's meta names: shared tables, private
    /// directories and temporary files a crash or a deletion left.
    func garbageCollect() throws -> PurgeReport {
        try locked(creating: false) {
            var report = PurgeReport()
            try collectGarbage(into: &report)
            return report
        }
    }

    /// REQUIRES: the lock held.
    private func collectGarbage(into report: inout PurgeReport) throws {
        let metas = try list()
        let referenced = Set(metas.flatMap { $0.tables.map(\.stored) })
        let live = Set(metas.map { String($0.id) })
        for name in try env.listDirectory(metaDirectory) where BackupEngine.backupID(fromName: name) == nil {
            try env.remove(metaDirectory + "/" + name)
            report.removedFiles += 1
        }
        if env.kind(of: sharedDirectory) == .directory {
            for name in try env.listDirectory(sharedDirectory) where !referenced.contains(name) {
                let path = sharedDirectory + "/" + name
                report.freedBytes += env.size(of: path) ?? 0
                try env.remove(path)
                report.removedFiles += 1
            }
        }
        if env.kind(of: privateDirectory) == .directory {
            for name in try env.listDirectory(privateDirectory) where !live.contains(name) {
                let path = privateDirectory + "/" + name
                for file in (try? env.listDirectory(path)) ?? [] {
                    report.freedBytes += env.size(of: path + "/" + file) ?? 0
                    report.removedFiles += 1
                }
                try env.removeTree(path)
            }
        }
    }
}

/// What a purge or garbage collection removed.
public struct PurgeReport: Sendable {
    public var deleted: [UInt64] = []
    public var removedFiles = 0
    public var freedBytes: UInt64 = 0

    public var json: String {
        JSONValue.object([
            ("deleted", .array(deleted.map { .int(Int64(clamping: $0)) })), ("removed_files", .int(Int64(removedFiles))),
            ("freed_bytes", .int(Int64(clamping: freedBytes))),
        ]).serialized
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}
