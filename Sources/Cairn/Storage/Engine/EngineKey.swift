/// An engine key as a dictionary or set key. Hashes its bytes in one call
/// (an Array of bytes hashes element by element, several times slower):
/// the group commit's conflict check and a transaction's pending writes
/// hash every key they hold.
struct EngineKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: EngineKey, b: EngineKey) -> Bool { a.bytes == b.bytes }
}
