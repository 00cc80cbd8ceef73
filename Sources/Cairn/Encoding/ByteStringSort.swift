/// Sorting many byte strings (a large transaction's keys, Transaction.commit)
/// in byte order: a most-significant-byte radix sort over copies of them
/// laid back to back in one buffer, with insertion sort for small groups.
/// Keys of one index share long prefixes (namespace, collection, index,
/// then a vertex), which a comparison sort compares again at every step;
/// the radix sort reads each byte about once, and moves integers, not
/// arrays (no reference counting).
enum ByteStringSort {
    /// Groups at most this large are finished by insertion sort.
    private static let smallGroup = 24

    /// The positions of `keys` in byte order (equal keys keep their order).
    static func order(_ keys: [[UInt8]]) -> [Int] {
        let n = keys.count
        guard n > 1 else { return Array(0..<n) }
        var flat: [UInt8] = []
        flat.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var starts = [Int](repeating: 0, count: n)
        var lengths = [Int](repeating: 0, count: n)
        for (i, key) in keys.enumerated() {
            starts[i] = flat.count
            lengths[i] = key.count
            flat.append(contentsOf: key)
        }
        return flat.withUnsafeBytes { order(flat: $0, starts: starts, lengths: lengths) }
    }

    /// The positions of the keys `flat[starts[i] ..< starts[i] +
    /// lengths[i]]` in byte order (equal keys keep their order), for a
    /// caller that already laid its keys back to back.
    static func order(flat: UnsafeRawBufferPointer, starts: [Int], lengths: [Int]) -> [Int] {
        let n = starts.count
        precondition(lengths.count == n, "ByteStringSort: one length per start")
        var order = Array(0..<n)
        guard n > 1 else { return order }
        if n <= smallGroup {
            // A single-document write's few keys: insertion sort alone,
            // without the radix sort's buffers (their allocation and the
            // zeroing of 257 counters cost more than sorting four keys).
            starts.withUnsafeBufferPointer { starts in
                lengths.withUnsafeBufferPointer { lengths in
                    order.withUnsafeMutableBufferPointer { order in
                        insertionSort(flat, starts, lengths, order, low: 0, high: n, depth: 0)
                    }
                }
            }
            return order
        }
        var scratch = [Int](repeating: 0, count: n)
        starts.withUnsafeBufferPointer { starts in
            lengths.withUnsafeBufferPointer { lengths in
                order.withUnsafeMutableBufferPointer { order in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        sort(flat, starts, lengths, order, scratch)
                    }
                }
            }
        }
        return order
    }

    /// Sorts `order[low..<high]`, whose keys share their first `depth`
    /// bytes, by the rest of each key (stable).
    private static func insertionSort(_ bytes: UnsafeRawBufferPointer, _ starts: UnsafeBufferPointer<Int>, _ lengths: UnsafeBufferPointer<Int>,
                                      _ order: UnsafeMutableBufferPointer<Int>, low: Int, high: Int, depth: Int) {
        guard high - low > 1 else { return }
        @inline(__always) func less(_ a: Int, _ b: Int) -> Bool {
            let x = UnsafeRawBufferPointer(rebasing: bytes[(starts[a] + depth)..<(starts[a] + lengths[a])])
            let y = UnsafeRawBufferPointer(rebasing: bytes[(starts[b] + depth)..<(starts[b] + lengths[b])])
            return compareBytes(x, y) < 0
        }
        for i in (low + 1)..<high {
            let k = order[i]
            var j = i
            while j > low && less(k, order[j - 1]) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = k
        }
    }

    private static func sort(_ bytes: UnsafeRawBufferPointer, _ starts: UnsafeBufferPointer<Int>, _ lengths: UnsafeBufferPointer<Int>,
                             _ order: UnsafeMutableBufferPointer<Int>, _ scratch: UnsafeMutableBufferPointer<Int>) {
        // The digit of key k at depth: 0 once the key has ended (shorter
        // sorts first), else its byte + 1.
        @inline(__always) func digit(_ k: Int, _ depth: Int) -> Int {
            depth < lengths[k] ? Int(bytes[starts[k] + depth]) + 1 : 0
        }
        var counts = [Int](repeating: 0, count: 257)
        // Groups [low, high) whose keys share their first `depth` bytes.
        var groups: [(low: Int, high: Int, depth: Int)] = [(0, order.count, 0)]
        while let (low, high, depth) = groups.popLast() {
            if high - low <= smallGroup {
                insertionSort(bytes, starts, lengths, order, low: low, high: high, depth: depth)
                continue
            }
            for d in 0..<257 { counts[d] = 0 }
            for i in low..<high { counts[digit(order[i], depth)] += 1 }
            if counts[0] == high - low { continue }  // every key ended: all equal
            var only = -1
            for d in 1..<257 where counts[d] == high - low { only = d }
            if only > 0 {
                // One shared byte: nothing moves, and the group goes on at
                // the first byte its keys do not all share (keys of one
                // index share their namespace, collection, index and often
                // much of a value), found in one pass instead of a
                // counting pass per shared byte.
                let first = order[low]
                var shared = lengths[first]
                for i in (low + 1)..<high {
                    let k = order[i]
                    var end = depth + 1
                    let limit = min(shared, lengths[k])
                    while end < limit && bytes[starts[first] + end] == bytes[starts[k] + end] { end += 1 }
                    shared = end
                    if shared == depth + 1 { break }
                }
                groups.append((low, high, shared))
                continue
            }
            // Each digit's first position, then place the keys stably.
            var position = low
            for d in 0..<257 {
                let count = counts[d]
                counts[d] = position
                if d > 0 && count > 1 { groups.append((position, position + count, depth + 1)) }
                position += count
            }
            for i in low..<high {
                let k = order[i]
                let d = digit(k, depth)
                scratch[counts[d]] = k
                counts[d] += 1
            }
            for i in low..<high { order[i] = scratch[i] }
        }
    }
}
