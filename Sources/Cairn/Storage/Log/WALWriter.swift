/// Appends framed records to one write-ahead log segment.
///
/// REQUIRES: the caller holds the engine's walLock (appends come from the
/// group-commit leader).
/// A failed append leaves the segment exactly as it was before the call, so a
/// half-written record never sits in front of later, acknowledged ones.
///
/// The segment's space is allocated ahead of its records, in steps that
/// double from 1 MiB to 16 MiB (FileHandle.preallocate): a synced write
/// into space already allocated leaves the file's size alone, so its
/// fdatasync has no inode to write (on this project's ext4 machine an
/// append and its fdatasync took about 30% less time; bench/RESULTS.md,
/// "A lighter put, and the log allocated ahead"). The file therefore ends
/// in zeros past the last record until the segment is closed (cut back to
/// its records) or after a crash; readers take an all-zero header for the
/// end of the records (RecordReader, docs/format/records.md).
final class WALWriter {
    let file: FileHandle
    let number: UInt64
    /// Bytes of records written: where the next one goes.
    private(set) var size: Int
    /// How long the file is, its space allocated (>= size).
    private var allocated: Int
    /// False once the file system refused to allocate ahead: records are
    /// then appended as they come.
    private var preallocating = true
    private var framed: [UInt8] = []

    static let firstAllocation = 1 << 20
    static let largestAllocationStep = 16 << 20

    /// Opens a new, empty segment and writes its header record (synced
    /// with the first synced write; a segment whose header was lost holds
    /// no records either).
    init(file: FileHandle, number: UInt64, header: WALFormat.Header) throws {
        self.file = file
        self.number = number
        self.size = try file.size
        self.allocated = size
        if size == 0 { try header.encode().withUnsafeBytes { try append($0, sync: false) } }
    }

    /// Ends the segment with a record naming the one that follows, synced
    /// together with everything before it.
    func appendNextSegment(_ next: UInt64) throws {
        try WALFormat.nextSegmentRecord(next).withUnsafeBytes { try append($0, sync: true) }
    }

    /// Appends one record; with `sync`, returns only once it is on stable storage.
    func append(_ payload: UnsafeRawBufferPointer, sync: Bool) throws {
        framed.removeAll(keepingCapacity: true)
        RecordFormat.frame(payload, into: &framed)
        try write(framed, sync: sync)
        if framed.capacity > 1 << 20 { framed = [] }  // do not pin one huge batch's buffer
    }

    /// Appends one record built in place (RecordFormat.fillHeader): its
    /// header is filled here, and the bytes go to the file as they are.
    func append(record: inout [UInt8], sync: Bool) throws {
        record.withUnsafeMutableBytes { RecordFormat.fillHeader(of: $0) }
        try write(record, sync: sync)
    }

    /// Appends one record whose header is already filled
    /// (RecordFormat.fillHeader) and syncs it, calling `meanwhile` once the
    /// record is written and before the sync, so the caller can work while
    /// the disk flushes (GroupApplier). `meanwhile` is not called when the
    /// write itself fails; a failed sync cuts the record off again, as any
    /// failed append does.
    func appendAndSync(framed record: [UInt8], meanwhile: () -> Void) throws {
        try write(record, sync: true, meanwhile: meanwhile)
    }

    /// Writes a framed record; a failure truncates what it may have left
    /// (and the space allocated ahead, which the next write allocates again).
    private func write(_ record: [UInt8], sync: Bool, meanwhile: () -> Void = {}) throws {
        let end = size + record.count
        if preallocating && end > allocated {
            let step = min(max(allocated, WALWriter.firstAllocation), WALWriter.largestAllocationStep)
            let target = max(end, allocated + step)
            if file.preallocate(to: target) { allocated = target } else { preallocating = false }
        }
        do {
            try record.withUnsafeBytes { try file.write($0, at: size) }
            if sync {
                meanwhile()
                try file.sync()
            }
        } catch {
            try? file.truncate(to: size)
            allocated = size
            throw error
        }
        size = end
        allocated = max(allocated, size)
    }

    func sync() throws { try file.sync() }

    /// Closes the segment, first cutting off the space allocated past its
    /// records (a failure to cut leaves zeros, which readers skip).
    func close() {
        if allocated > size { try? file.truncate(to: size) }
        file.close()
    }
}
