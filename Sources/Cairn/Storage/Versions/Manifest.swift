/// The manifest records which tables make up the database, so that a
/// flush or compaction changes the set of live files atomically: the whole
/// manifest is written to `MANIFEST.tmp`, synced, renamed over `MANIFEST`,
/// and the directory synced. docs/format/sstable.md describes it.
///
/// One framed record (RecordFormat) whose payload is (part of the on-disk
/// format; never change):
///
///     "CAIRNMF2" | database id (16 bytes) | varint generation
///     | varint next file number | varint last sequence | varint log number
///     | varint flushed sequence | varint durable sequence | varint identity-from file number
///     | varint level count | per level: varint table count | per table:
///         varint number | varint size | lp smallest user key | lp largest user key
///         | varint smallest sequence | varint largest sequence | varint entry count
///     | varint range tombstone count | per tombstone: lp start | lp end | varint sequence
///
/// (lp: varint length then bytes.) "log number" is the oldest write-ahead
/// log segment still needed: older ones are covered by tables. Version 1
/// ("CAIRNMF1", written before table identities) lacks the fields from the
/// database id to the identity-from number and is still read.
///
/// What recovery proves with these fields (StorageEngine+Recovery.swift):
///  - the generation grows with every manifest written, and every table and
///    log segment records the generation current when it was made, so a
///    file newer than the manifest shows the manifest is stale;
///  - every sequence up to "flushed sequence" is in tables, and every one up
///    to "durable sequence" was in tables or synced in the log, so the log
///    segments from "log number" on must hold every sequence in between;
///  - tables numbered from "identity-from" on carry an identity footer
///    (older tables were written before identities existed).
struct Manifest {
    static let fileName = "MANIFEST"
    static let magic: [UInt8] = Array("CAIRNMF2".utf8)
    static let legacyMagic: [UInt8] = Array("CAIRNMF1".utf8)

    struct Table {
        var number: UInt64
        var size: UInt64
        var smallestUserKey: [UInt8]
        var largestUserKey: [UInt8]
        var smallestSequence: UInt64
        var largestSequence: UInt64
        var entryCount: UInt64
    }

    /// nil only in a version 1 manifest.
    var databaseID: DatabaseID?
    var generation: UInt64 = 0
    var nextFileNumber: UInt64 = 1
    var lastSequence: UInt64 = 0
    var logNumber: UInt64 = 0
    /// nil in a version 1 manifest (which did not record them) and in one
    /// repair wrote (which cannot know them); written as `unknown`.
    var flushedSequence: UInt64?
    var durableSequence: UInt64?
    static let unknown = UInt64.max
    var identityFromFile: UInt64 = .max
    var levels: [[Table]] = Array(repeating: [], count: Version.levelCount)
    var rangeTombstones: [RangeTombstone] = []

    /// Encodes version 2. Every manifest written has a database id (only
    /// a decoded version 1 manifest lacks one, and none is written back).
    func encode() -> [UInt8] {
        var out = Manifest.magic
        out.append(contentsOf: (databaseID ?? DatabaseID(bytes: Array(repeating: 0, count: DatabaseID.byteCount))).bytes)
        Varint.append(generation, to: &out)
        Varint.append(nextFileNumber, to: &out)
        Varint.append(lastSequence, to: &out)
        Varint.append(logNumber, to: &out)
        Varint.append(flushedSequence ?? Manifest.unknown, to: &out)
        Varint.append(durableSequence ?? Manifest.unknown, to: &out)
        Varint.append(identityFromFile, to: &out)
        Varint.append(UInt64(levels.count), to: &out)
        for level in levels {
            Varint.append(UInt64(level.count), to: &out)
            for table in level {
                Varint.append(table.number, to: &out)
                Varint.append(table.size, to: &out)
                table.smallestUserKey.withUnsafeBytes { out.appendLengthPrefixed($0) }
                table.largestUserKey.withUnsafeBytes { out.appendLengthPrefixed($0) }
                Varint.append(table.smallestSequence, to: &out)
                Varint.append(table.largestSequence, to: &out)
                Varint.append(table.entryCount, to: &out)
            }
        }
        Varint.append(UInt64(rangeTombstones.count), to: &out)
        for tombstone in rangeTombstones {
            tombstone.start.withUnsafeBytes { out.appendLengthPrefixed($0) }
            tombstone.end.withUnsafeBytes { out.appendLengthPrefixed($0) }
            Varint.append(tombstone.sequence, to: &out)
        }
        return out
    }

    static func decode(_ payload: UnsafeRawBufferPointer, path: String) throws -> Manifest {
        var reader = ByteReader(payload, what: path)
        guard payload.count >= 8 else { throw CairnError.corruption("\(path): not a Cairn manifest") }
        let head = try reader.readBytes(8)
        let version2 = head.elementsEqual(magic)
        guard version2 || head.elementsEqual(legacyMagic) else { throw CairnError.corruption("\(path): not a Cairn manifest") }
        var manifest = Manifest()
        if version2 {
            manifest.databaseID = try DatabaseID(from: &reader)
            manifest.generation = try reader.readVarint()
        }
        manifest.nextFileNumber = try reader.readVarint()
        manifest.lastSequence = try reader.readVarint()
        manifest.logNumber = try reader.readVarint()
        if version2 {
            let flushed = try reader.readVarint(), durable = try reader.readVarint()
            manifest.flushedSequence = flushed == unknown ? nil : flushed
            manifest.durableSequence = durable == unknown ? nil : durable
            manifest.identityFromFile = try reader.readVarint()
        }
        // Numbers that never occur (file names have at most 16 digits, and
        // sequences 56 bits), refused so no arithmetic on them can overflow.
        guard manifest.nextFileNumber < 10_000_000_000_000_000, manifest.lastSequence < 1 << 56, manifest.generation < 1 << 56,
              (manifest.flushedSequence ?? 0) < 1 << 56, (manifest.durableSequence ?? 0) < 1 << 56 else {
            throw CairnError.corruption("\(path): impossible file number or sequence")
        }
        let levelCount = try reader.readVarint()
        guard levelCount == UInt64(Version.levelCount) else { throw CairnError.corruption("\(path): \(levelCount) levels") }
        for level in 0..<Version.levelCount {
            let count = try reader.readVarint()
            guard count <= UInt64(payload.count) else { throw CairnError.corruption("\(path): impossible table count") }
            for _ in 0..<count {
                manifest.levels[level].append(Table(
                    number: try reader.readVarint(), size: try reader.readVarint(),
                    smallestUserKey: Array(try reader.readLengthPrefixed()), largestUserKey: Array(try reader.readLengthPrefixed()),
                    smallestSequence: try reader.readVarint(), largestSequence: try reader.readVarint(),
                    entryCount: try reader.readVarint()))
            }
        }
        for table in manifest.levels.joined() where table.largestSequence >= 1 << 56 || table.number >= manifest.nextFileNumber {
            throw CairnError.corruption("\(path): table \(table.number) has an impossible number or sequence")
        }
        let tombstones = try reader.readVarint()
        guard tombstones <= UInt64(payload.count) else { throw CairnError.corruption("\(path): impossible tombstone count") }
        for _ in 0..<tombstones {
            manifest.rangeTombstones.append(RangeTombstone(
                start: Array(try reader.readLengthPrefixed()), end: Array(try reader.readLengthPrefixed()),
                sequence: try reader.readVarint()))
        }
        guard reader.isAtEnd else { throw CairnError.corruption("\(path): stray bytes after the manifest") }
        return manifest
    }

    /// Reads the manifest of `directory`, or nil when there is none yet.
    static func read(directory: String, env: Env) throws -> Manifest? {
        let path = directory + "/" + fileName
        guard env.kind(of: path) == .regularFile else { return nil }
        let bytes = try env.openForReading(path).readAll()
        var manifest: Manifest?
        let outcome = try bytes.withUnsafeBytes { raw in
            try RecordReader(path: path).forEachRecord(in: raw) { payload in
                guard manifest == nil else { throw CairnError.corruption("\(path): more than one record") }
                manifest = try decode(payload, path: path)
            }
        }
        guard let manifest, !outcome.hadTornTail else { throw CairnError.corruption("\(path): incomplete or damaged") }
        return manifest
    }

    /// Why a manifest write failed: before the rename (the old manifest
    /// is current) or after it (the new one may be current: every file it
    /// lists must be kept).
    struct WriteFailure: Error {
        let error: CairnError
        let mayBeInstalled: Bool
    }

    /// Replaces the manifest of `directory` atomically and durably; throws
    /// a WriteFailure.
    func write(directory: String, env: Env) throws(WriteFailure) {
        let temporary = directory + "/" + Manifest.fileName + ".tmp"
        let encoded = encode()
        // A record over the reader's limit would read back as damage. Only
        // thousands of tables with keys near the 64 KiB limit as their
        // bounds come near it; refuse to replace the current manifest then.
        guard encoded.count <= RecordFormat.maxPayload else {
            throw WriteFailure(error: CairnError(.invalidArgument, "the manifest would be \(encoded.count) bytes, more than one record may hold (\(RecordFormat.maxPayload)): too many tables with long boundary keys"), mayBeInstalled: false)
        }
        var framed: [UInt8] = []
        encoded.withUnsafeBytes { RecordFormat.frame($0, into: &framed) }
        var renamed = false
        do {
            let file = try env.create(temporary)
            try framed.withUnsafeBytes { try file.append($0) }
            try file.sync()
            file.close()
            try env.rename(temporary, to: directory + "/" + Manifest.fileName)
            renamed = true
            try env.syncDirectory(directory)
        } catch {
            if !renamed { try? env.remove(temporary) }
            throw WriteFailure(error: (error as? CairnError) ?? CairnError(.ioError, "\(error)"), mayBeInstalled: renamed)
        }
    }
}
