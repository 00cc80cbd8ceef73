/// Builds one block of sorted entries with prefix-compressed keys.
///
/// Each key shares a prefix with the key before it; only the rest is
/// stored. Every `restartInterval` entries a restart point stores the key
/// whole, so a reader can binary-search the restart points and then scan at
/// most one interval. Layout (part of the table format; never change):
///
///     entry:    varint shared | varint unshared | varint value length | key suffix | value
///     ...
///     restarts: u32 LE offset of each restart entry
///     count:    u32 LE number of restarts
///
/// Lifecycle: `add` keys in strictly increasing order, `finish` once, then
/// `reset` to build the next block. What `finish` returns is a view of the
/// builder's buffer, valid until `reset`.
final class BlockBuilder {
    let restartInterval: Int
    private(set) var buffer: [UInt8] = []
    private var restarts: [UInt32] = [0]
    private var counter = 0
    private var lastKey: [UInt8] = []
    private(set) var entryCount = 0

    init(restartInterval: Int = 16) {
        self.restartInterval = restartInterval
    }

    var isEmpty: Bool { entryCount == 0 }

    /// The size the block will have once finished.
    var estimatedSize: Int { buffer.count + restarts.count * 4 + 4 }

    var lastKeyAdded: [UInt8] { lastKey }

    func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        var shared = 0
        if counter < restartInterval {
            let limit = min(lastKey.count, key.count)
            lastKey.withUnsafeBufferPointer { last in
                while shared < limit && last[shared] == key[shared] { shared += 1 }
            }
        } else {
            restarts.append(UInt32(buffer.count))
            counter = 0
        }
        Varint.append(UInt64(shared), to: &buffer)
        Varint.append(UInt64(key.count - shared), to: &buffer)
        Varint.append(UInt64(value.count), to: &buffer)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: key[shared...]))
        buffer.append(contentsOf: value)
        lastKey.removeSubrange(shared...)
        lastKey.append(contentsOf: UnsafeRawBufferPointer(rebasing: key[shared...]))
        counter += 1
        entryCount += 1
    }

    func finish() -> [UInt8] {
        for restart in restarts { buffer.appendUInt32LE(restart) }
        buffer.appendUInt32LE(UInt32(restarts.count))
        Block.checkRestartArray(buffer)  // Block+Invariants.swift; empty unless CAIRN_INVARIANTS
        return buffer
    }

    func reset() {
        buffer.removeAll(keepingCapacity: true)
        restarts.removeAll(keepingCapacity: true)
        restarts.append(0)
        counter = 0
        lastKey.removeAll(keepingCapacity: true)
        entryCount = 0
    }
}
