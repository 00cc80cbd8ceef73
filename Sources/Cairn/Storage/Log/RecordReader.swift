/// Reads framed records from a whole file in memory and tells a torn tail
/// (expected after a crash: the last write was cut short) from corruption
/// (a damaged record followed by intact ones, which no crash produces).
struct RecordReader {
    let path: String

    struct Outcome {
        /// Bytes from the start of the file up to the end of the last good record.
        var validLength: Int
        /// True when bytes after `validLength` were discarded as a torn tail.
        var hadTornTail: Bool
        /// True when that tail was a whole record whose checksum failed
        /// (damage, or a write the OS lost part of), not a write cut short.
        var tailFailedChecksum = false
        /// Set only with `salvage`: the damage had intact records after it,
        /// which were not read.
        var damagedInTheMiddle = false
        /// True when everything after `validLength` is zeros: space the
        /// log writer allocated ahead of its records (WALWriter), or records
        /// the OS had not written yet when it stopped. No write was cut
        /// short in the middle; `hadTornTail` is true as well, so readers
        /// that take no tail (the manifest) still refuse it.
        var endsInZeros = false
    }

    /// Calls `body` with each record's payload, in order. With `salvage`
    /// (repair), damage followed by intact records ends the reading there
    /// instead of throwing.
    func forEachRecord(in file: UnsafeRawBufferPointer, salvage: Bool = false,
                       _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Outcome {
        var offset = 0
        while offset < file.count {
            if let payload = record(at: offset, in: file) {
                try body(payload)
                offset += RecordFormat.headerSize + payload.count
                continue
            }
            // Zeros to the end: the records end here (checked first, as the
            // scan below would try every byte of a large allocated tail).
            if isAllZeros(file, from: offset) { return Outcome(validLength: offset, hadTornTail: true, endsInZeros: true) }
            // A bad record. If any intact record follows it, the damage is in
            // the middle of the file: corruption. Otherwise a torn tail.
            if intactRecordExists(after: offset, in: file) {
                if salvage { return Outcome(validLength: offset, hadTornTail: true, damagedInTheMiddle: true) }
                throw CairnError.corruption("\(path): damaged record at byte \(offset)")
            }
            return Outcome(validLength: offset, hadTornTail: true, tailFailedChecksum: isWholeRecord(at: offset, in: file))
        }
        return Outcome(validLength: offset, hadTornTail: false)
    }

    private func record(at offset: Int, in file: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard file.count - offset >= RecordFormat.headerSize else { return nil }
        let length = Int(UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let stored = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let start = offset + RecordFormat.headerSize
        guard length <= RecordFormat.maxPayload, length <= file.count - start else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: file[start..<(start + length)])
        guard CRC32C.masked(CRC32C.checksum(payload)) == stored else { return nil }
        // An all-zero header over an empty payload is a preallocated or
        // zero-filled tail, not a record.
        if length == 0 && stored == 0 { return nil }
        return payload
    }

    /// True when the bytes at `offset` frame a whole, non-empty record (so
    /// it was its checksum that failed, not its length).
    private func isWholeRecord(at offset: Int, in file: UnsafeRawBufferPointer) -> Bool {
        guard file.count - offset >= RecordFormat.headerSize else { return false }
        let length = Int(UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let stored = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        return !(length == 0 && stored == 0) && length <= file.count - offset - RecordFormat.headerSize
    }

    private func isAllZeros(_ file: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        var index = offset
        while index + 8 <= file.count {
            if file.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
            index += 8
        }
        while index < file.count {
            if file[index] != 0 { return false }
            index += 1
        }
        return true
    }

    /// Scans forward byte by byte for a record whose checksum verifies.
    /// Random bytes pass a 32-bit check with odds of 1 in 4 billion per
    /// position; a real record after the damage is found for certain.
    /// A non-empty record's length is not zero, so none starts past the
    /// file's last non-zero byte: a tail allocated ahead is not scanned.
    private func intactRecordExists(after offset: Int, in file: UnsafeRawBufferPointer) -> Bool {
        var lastNonZero = file.count - 1
        while lastNonZero > offset && file[lastNonZero] == 0 { lastNonZero -= 1 }
        var probe = offset + 1
        while probe <= lastNonZero && probe + RecordFormat.headerSize <= file.count {
            if let payload = record(at: probe, in: file), payload.count > 0 { return true }
            probe += 1
        }
        return false
    }
}
