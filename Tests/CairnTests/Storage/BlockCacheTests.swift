import XCTest
@testable import Cairn

/// The block cache: a lookup returns exactly the block inserted under its
/// key or nothing (never another key's block), it stays within its bytes,
/// dropping a table drops all its blocks and no other, and blocks read
/// again and again outlive blocks read once (CLOCK).
final class BlockCacheTests: XCTestCase {
    /// A well-formed block of `size` bytes (at least 8) whose first byte is
    /// `tag`, so a test can tell blocks apart.
    private func block(size: Int, tag: UInt8) throws -> Block {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        storage[0] = tag
        // One restart point at offset 0, then the restart count (1).
        storage.storeBytes(of: UInt32(0).littleEndian, toByteOffset: size - 8, as: UInt32.self)
        storage.storeBytes(of: UInt32(1).littleEndian, toByteOffset: size - 4, as: UInt32.self)
        return try Block(storage: storage, what: "test block")
    }

    private struct Key: Hashable {
        var table: UInt64
        var offset: UInt64
    }

    /// Random inserts, lookups and table drops against a dictionary: every
    /// hit is the block last inserted under that key, and the cache never
    /// holds more than its capacity plus one block per shard.
    func testLookupsAgreeWithADictionaryModel() throws {
        let capacity = 64 << 10
        let cache = BlockCache(capacityBytes: capacity)
        var model: [Key: Block] = [:]
        var random = SeededRandom(seed: 11)
        var hits = 0
        for step in 0..<60_000 {
            // 240 keys, about four times what the cache holds.
            let key = Key(table: random.next() % 4, offset: (random.next() % 60) * 4096)
            switch random.next() % 10 {
            case 0..<4:
                let made = try block(size: 8 + Int(random.next() % 2000), tag: UInt8(truncatingIfNeeded: step))
                cache.insert(table: key.table, offset: key.offset, block: made)
                model[key] = made
            case 4..<9:
                if let found = cache.lookup(table: key.table, offset: key.offset) {
                    hits += 1
                    XCTAssertTrue(found === model[key], "step \(step): a lookup returned a block not inserted under its key")
                }
            default:
                if random.next() % 50 == 0 {
                    cache.evict(table: key.table)
                    model = model.filter { $0.key.table != key.table }
                    for offset in stride(from: UInt64(0), to: 300 * 4096, by: 4096) {
                        XCTAssertNil(cache.lookup(table: key.table, offset: offset), "a dropped table's block is still cached")
                    }
                }
            }
            XCTAssertLessThanOrEqual(cache.usage, capacity + 16 * (2008 + 64))
        }
        XCTAssertGreaterThan(hits, 1000, "the cache must actually serve lookups")
    }

    /// Dropping one table keeps the others' blocks.
    func testDroppingATableKeepsTheOthers() throws {
        let cache = BlockCache(capacityBytes: 1 << 20)
        var blocks: [Key: Block] = [:]
        for table in UInt64(1)...3 {
            for offset in UInt64(0)..<100 {
                let made = try block(size: 100, tag: UInt8(offset))
                cache.insert(table: table, offset: offset, block: made)
                blocks[Key(table: table, offset: offset)] = made
            }
        }
        cache.evict(table: 2)
        for (key, made) in blocks {
            let found = cache.lookup(table: key.table, offset: key.offset)
            if key.table == 2 { XCTAssertNil(found) } else { XCTAssertTrue(found === made, "\(key) lost") }
        }
        XCTAssertEqual(cache.usage, 200 * (100 + 64))
    }

    /// A small set of blocks read between every insert survives a stream of
    /// blocks read once, many times the cache's size.
    func testBlocksReadAgainOutliveBlocksReadOnce() throws {
        let cache = BlockCache(capacityBytes: 256 << 10)
        let hot = try (0..<16).map { try block(size: 1024, tag: UInt8($0)) }
        for (i, made) in hot.enumerated() { cache.insert(table: 1, offset: UInt64(i) * 1024, block: made) }
        for i in 0..<20_000 {
            cache.insert(table: 2, offset: UInt64(i) * 1024, block: try block(size: 1024, tag: 0))
            let index = i % hot.count
            XCTAssertTrue(cache.lookup(table: 1, offset: UInt64(index) * 1024) === hot[index], "hot block \(index) evicted at \(i)")
        }
    }

    /// A block larger than the whole cache is still kept (alone), and the
    /// next insert evicts it.
    func testABlockLargerThanTheCacheIsKeptAlone() throws {
        let cache = BlockCache(capacityBytes: 16 * 1024)
        let big = try block(size: 64 * 1024, tag: 9)
        cache.insert(table: 1, offset: 0, block: big)
        XCTAssertTrue(cache.lookup(table: 1, offset: 0) === big)
    }
}
