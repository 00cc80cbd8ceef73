/// Point reads and writes of key-value entries, on the database (each call
/// its own atomic write) or inside a transaction.
public protocol KeyValueStore: AnyObject {
    func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64) throws
    func delete(key: UnsafeRawBufferPointer) throws
    func withValue(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool
    func getMany(packedKeys: UnsafeRawBufferPointer) throws -> [UInt8]
}

extension Database: KeyValueStore {}
extension Transaction: KeyValueStore {}
