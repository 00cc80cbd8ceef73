#if canImport(Glibc)
import Glibc
#endif
import CCairnSupport

/// How a vector index measures closeness, and the distance functions of
/// the graph walk.
///
/// Every metric is turned into a distance, smaller meaning closer, so the
/// walk has one order:
///
///     l2      the squared Euclidean distance, Σ (a_i − b_i)²
///     cosine  1 − a·b, on vectors normalised to unit length when they are
///             stored and when a query starts (a zero vector has no
///             direction and is refused)
///     dot     −a·b
///
/// A search reports that distance (`_distance`) and Atlas Vector Search's
/// score (`_score`, `{"$meta": "vectorSearchScore"}`), larger meaning
/// closer: 1 / (1 + √l2), (1 + cos) / 2, (1 + dot) / 2.
///
/// The functions work on unsafe buffers of Float: the graph walk calls
/// them thousands of times a query, on vectors the cache or a stored value
/// holds, so they neither allocate nor check bounds. Callers guarantee both
/// buffers hold `count` floats. On a CPU with AVX-512 or AVX2 they are C
/// kernels chosen at run time (CCairnSupport/vector_distance.c): Swift
/// compiles SIMD8<Float> for baseline x86-64 (SSE2), two 4-lane operations
/// each. Elsewhere the Swift code below, 8 lanes at a time, serves; both
/// add the same products in the same order. Multiply and add are separate
/// operations: `addingProduct` becomes a call to libm's fmaf per lane
/// unless the build targets FMA (measured: 18% of a search), and a fused
/// one would round differently from the kernels.
enum VectorMetric: Equatable {
    case l2, cosine, dot

    static func parse(_ name: String, at here: String) throws -> VectorMetric {
        switch name.lowercased() {
        case "l2", "euclidean": return .l2
        case "cosine": return .cosine
        case "dot", "dotproduct", "ip": return .dot
        default: throw CairnError.invalidArgument("\(here): unknown metric '\(name)' (known: cosine, l2, dot)")
        }
    }

    var name: String {
        switch self {
        case .l2: return "l2"
        case .cosine: return "cosine"
        case .dot: return "dot"
        }
    }

    /// The distance between two vectors of `count` floats (see above).
    @inline(__always)
    func distance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        switch self {
        case .l2: return VectorMetric.squaredL2(a, b, count: count)
        case .cosine: return 1 - VectorMetric.dotProduct(a, b, count: count)
        case .dot: return -VectorMetric.dotProduct(a, b, count: count)
        }
    }

    /// Atlas's score for a distance of this metric.
    func score(distance: Float) -> Double {
        let d = Double(distance)
        switch self {
        case .l2: return 1 / (1 + d.squareRoot())
        case .cosine: return (1 + (1 - d)) / 2
        case .dot: return (1 - d) / 2
        }
    }

    /// The CPU's kernels (nil: the Swift code).
    private static let squaredL2Kernel: cairn_support_distance? = cairn_support_squared_l2()
    private static let dotProductKernel: cairn_support_distance? = cairn_support_dot_product()

    /// Σ (a_i − b_i)². Reads `count` floats from each, unaligned.
    @inline(__always)
    static func squaredL2(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        if let kernel = squaredL2Kernel { return kernel(a, b, count) }
        return portableSquaredL2(a, b, count: count)
    }

    /// Σ a_i·b_i. Reads `count` floats from each, unaligned.
    @inline(__always)
    static func dotProduct(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        if let kernel = dotProductKernel { return kernel(a, b, count) }
        return portableDotProduct(a, b, count: count)
    }

    /// The lanes of `sum` added in order (the kernels' order).
    @inline(__always)
    private static func sumInOrder(_ sum: SIMD8<Float>) -> Float {
        var total: Float = 0
        for i in 0..<8 { total += sum[i] }
        return total
    }

    static func portableSquaredL2(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>()
        var i = 0
        // Safe: i + 16 <= count, so every load stays inside both buffers.
        while i + 16 <= count {
            let d0 = a.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - b.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            let d1 = a.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                - b.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
            sum0 += d0 * d0
            sum1 += d1 * d1
            i &+= 16
        }
        while i + 8 <= count {
            let d0 = a.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - b.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            sum0 += d0 * d0
            i &+= 8
        }
        var total = sumInOrder(sum0 + sum1)
        while i < count {
            let d = a.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) - b.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
            total += d * d
            i &+= 1
        }
        return total
    }

    static func portableDotProduct(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>()
        var i = 0
        // Safe: i + 16 <= count, so every load stays inside both buffers.
        while i + 16 <= count {
            sum0 += a.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) * b.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            sum1 += a.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                * b.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
            i &+= 16
        }
        while i + 8 <= count {
            sum0 += a.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) * b.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        var total = sumInOrder(sum0 + sum1)
        while i < count {
            total += a.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) * b.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
            i &+= 1
        }
        return total
    }

    /// Scales `vector` to unit length; false for a zero vector (or one
    /// whose length overflows a Float).
    static func normalize(_ vector: inout [Float]) -> Bool {
        var sum: Double = 0
        for x in vector { sum += Double(x) * Double(x) }
        let length = sum.squareRoot()
        guard length > 0, length.isFinite else { return false }
        for i in vector.indices { vector[i] = Float(Double(vector[i]) / length) }
        return true
    }
}
