import Synchronization

/// A lock-free latency histogram: log-linear buckets (4 per power of two)
/// over nanoseconds, so percentiles are accurate to about 20% at any scale.
final class Histogram: @unchecked Sendable {
    private static let bucketCount = 64 * 4
    /// Atomics are not copyable, so they live in one allocation of their own.
    private let buckets: UnsafeMutablePointer<Atomic<UInt64>>
    private let sum = Atomic<UInt64>(0)

    init() {
        buckets = .allocate(capacity: Histogram.bucketCount)
        for index in 0..<Histogram.bucketCount { (buckets + index).initialize(to: Atomic<UInt64>(0)) }
    }

    deinit {
        buckets.deinitialize(count: Histogram.bucketCount)
        buckets.deallocate()
    }

    @inline(__always)
    private static func bucket(for nanoseconds: UInt64) -> Int {
        guard nanoseconds >= 4 else { return Int(nanoseconds) }
        let power = 63 - nanoseconds.leadingZeroBitCount
        let fraction = Int((nanoseconds >> UInt64(power - 2)) & 3)
        return min(power * 4 + fraction, bucketCount - 1)
    }

    private static func lowerBound(of bucket: Int) -> UInt64 {
        guard bucket >= 4 else { return UInt64(bucket) }
        let power = bucket / 4, fraction = UInt64(bucket % 4)
        return (UInt64(1) << UInt64(power)) + fraction * (UInt64(1) << UInt64(power - 2))
    }

    func record(nanoseconds: UInt64) {
        // No separate count: it is the buckets' sum (`count`), which saves
        // an atomic add on every timed operation (each write, each get).
        (buckets + Histogram.bucket(for: nanoseconds)).pointee.add(1, ordering: .relaxed)
        sum.add(nanoseconds, ordering: .relaxed)
    }

    func record(since start: UInt64) { record(nanoseconds: monotonicNanoseconds() &- start) }

    var count: UInt64 {
        var total: UInt64 = 0
        for index in 0..<Histogram.bucketCount { total &+= (buckets + index).pointee.load(ordering: .relaxed) }
        return total
    }
    var sumNanoseconds: UInt64 { sum.load(ordering: .relaxed) }

    /// The value below which `fraction` of the samples fall, in microseconds.
    func percentileMicros(_ fraction: Double) -> Double {
        let n = count
        guard n > 0 else { return 0 }
        let target = UInt64((Double(n) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for index in 0..<Histogram.bucketCount {
            seen += (buckets + index).pointee.load(ordering: .relaxed)
            if seen >= max(target, 1) {
                let low = Histogram.lowerBound(of: index), high = Histogram.lowerBound(of: index + 1)
                return Double(low + (high - low) / 2) / 1000
            }
        }
        return 0
    }
}
