/// Appends framed records to one write-ahead log segment.
///
/// REQUIRES: the caller serializes calls (the engine's write lock).
/// A failed append leaves the segment exactly as it was before the call, so a
/// half-written record never sits in front of later, acknowledged ones.
final class WALWriter {
    let file: FileHandle
    let number: UInt64
    private(set) var size: Int
    private var framed: [UInt8] = []

    init(file: FileHandle, number: UInt64) throws {
        self.file = file
        self.number = number
        self.size = try file.size
    }

    /// Appends one record; with `sync`, returns only once it is on stable storage.
    func append(_ payload: UnsafeRawBufferPointer, sync: Bool) throws {
        framed.removeAll(keepingCapacity: true)
        RecordFormat.frame(payload, into: &framed)
        do {
            try framed.withUnsafeBytes { try file.append($0) }
            if sync { try file.sync() }
        } catch {
            try? file.truncate(to: size)
            throw error
        }
        size += framed.count
        if framed.capacity > 1 << 20 { framed = [] }  // do not pin one huge batch's buffer
    }

    func sync() throws { try file.sync() }

    func close() { file.close() }
}
