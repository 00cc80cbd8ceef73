/// Sorting many byte strings (a large transaction's keys, Transaction.commit)
/// in byte order: a most-significant-first radix sort over keys laid back
/// to back in one buffer, with insertion sort for small groups.
/// Keys of one index share long prefixes (namespace, collection, index,
/// then a vertex), which a comparison sort compares again at every step.
///
/// A large group is sorted by a window of its keys' next seven bytes at
/// once: each key's window is loaded once into an array of integers, and
/// the integers are sorted there (a least-significant-first radix sort
/// over the bytes where the windows differ). The keys of a large commit
/// lie far apart in memory, so reading a key is a cache miss; a radix pass
/// per byte read every key twice per byte, where a window reads it once
/// per seven bytes and the passes run over the compact array.
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
        let n = order.count
        let windows = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
        let windowScratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
        defer {
            windows.deallocate()
            windowScratch.deallocate()
        }
        var counts = [Int](repeating: 0, count: 256)
        // Groups [low, high) whose keys share their first `depth` bytes.
        var groups: [(low: Int, high: Int, depth: Int)] = [(0, n, 0)]
        while let (low, high, depth) = groups.popLast() {
            if high - low <= smallGroup {
                insertionSort(bytes, starts, lengths, order, low: low, high: high, depth: depth)
                continue
            }
            var differing: UInt64 = 0
            for i in low..<high {
                let k = order[i]
                windows[i] = window(bytes, start: starts[k], length: lengths[k], depth: depth)
                differing |= windows[i] ^ windows[low]
            }
            // A least-significant-first radix pass per byte where the
            // windows differ (stable, so equal windows keep their keys'
            // order); a group whose keys share the window moves nothing.
            for shift in stride(from: 0, to: 64, by: 8) where (differing >> UInt64(shift)) & 0xFF != 0 {
                for d in 0..<256 { counts[d] = 0 }
                for i in low..<high { counts[Int(truncatingIfNeeded: windows[i] >> UInt64(shift)) & 0xFF] += 1 }
                var position = low
                for d in 0..<256 {
                    let count = counts[d]
                    counts[d] = position
                    position += count
                }
                for i in low..<high {
                    let d = Int(truncatingIfNeeded: windows[i] >> UInt64(shift)) & 0xFF
                    windowScratch[counts[d]] = windows[i]
                    scratch[counts[d]] = order[i]
                    counts[d] += 1
                }
                for i in low..<high {
                    windows[i] = windowScratch[i]
                    order[i] = scratch[i]
                }
            }
            // Runs of one window: keys that go on past it (its low byte 7)
            // are sorted further from depth + 7; the others ended inside
            // it and are equal.
            var run = low
            while run < high {
                var end = run + 1
                while end < high && windows[end] == windows[run] { end += 1 }
                if end - run > 1 && windows[run] & 0xFF == 7 { groups.append((run, end, depth + 7)) }
                run = end
            }
        }
    }

    /// Bytes depth ..< depth + 7 of a key as a big-endian integer, shifted
    /// up one byte, with how many of the seven the key has in the low byte:
    /// integer order of windows is byte order of the keys over those bytes,
    /// shorter first (a key that ends reads as zeros, and its count is
    /// lower than any key with more bytes there).
    @inline(__always)
    private static func window(_ bytes: UnsafeRawBufferPointer, start: Int, length: Int, depth: Int) -> UInt64 {
        let remaining = length - depth
        if remaining >= 8 {
            // One unaligned load: the eighth byte is shifted out.
            let word = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: start + depth, as: UInt64.self))
            return (word >> 8) << 8 | 7
        }
        var value: UInt64 = 0
        let available = max(0, min(remaining, 7))
        for i in 0..<7 {
            value <<= 8
            if i < available { value |= UInt64(bytes[start + depth + i]) }
        }
        return value << 8 | UInt64(available)
    }
}
