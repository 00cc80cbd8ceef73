/// Finds the Gorilla chunk of a packed chunk kept apart (form 3,
/// TimeSeriesFormat): the chunk key holds the last point only, and the
/// points sit under 0x08 0x06 with the same id, bucket and sequence, so
/// that a walk over the chunk keys ("latest" of every series) loads a few
/// bytes per chunk instead of every chunk's points. One forward iterator,
/// created on first use; bodies are asked for in key order by the readers
/// that scan, so a seek usually lands in the block it is in already.
/// Used by one caller at a time.
final class ChunkBodies {
    private let database: Database
    private let view: ReadView
    private let lower: [UInt8]
    private let upper: [UInt8]
    private var iterator: EngineIterator?
    private var target: [UInt8] = []

    /// Bodies of keys in [lower, upper) (0x08 0x06 keys); by default all.
    init(database: Database, view: ReadView, lower: [UInt8]? = nil, upper: [UInt8]? = nil) {
        self.database = database
        self.view = view
        self.lower = lower ?? [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies]
        self.upper = upper ?? [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies + 1]
    }

    /// The body of chunk (id, bucket, sequence), valid until the next call;
    /// CORRUPTION when the chunk key has none.
    func body(id: UInt64, bucket: Int64, sequence: UInt64) throws -> UnsafeRawBufferPointer {
        if iterator == nil {
            iterator = try lower.withUnsafeBytes { l in
                try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
            }
        }
        let it = iterator!.iterator
        target.removeAll(keepingCapacity: true)
        target.append(Namespace.timeSeries.rawValue)
        target.append(TimeSeriesFormat.bodies)
        TimeSeriesFormat.appendBE(id, to: &target)
        TimeSeriesFormat.appendBE(TimeSeriesFormat.sortable(bucket), to: &target)
        TimeSeriesFormat.appendBE(sequence, to: &target)
        target.withUnsafeBytes { it.seek($0) }
        guard try it.next(), target.withUnsafeBytes({ $0.elementsEqual(it.key) }) else {
            throw CairnError.corruption("time-series chunk of series \(id) at bucket \(bucket) has no body")
        }
        return it.value
    }

    /// The value of a chunk key as `BucketMerger.add` takes it: a form-3
    /// key's body as a packed chunk (form 1); any other as it is.
    func resolve(id: UInt64, bucket: Int64, sequence: UInt64, form: UInt8,
                 value: UnsafeRawBufferPointer) throws -> (value: UnsafeRawBufferPointer, form: UInt8) {
        guard form == TimeSeriesFormat.packedApart else { return (value, form) }
        return (try body(id: id, bucket: bucket, sequence: sequence), TimeSeriesFormat.packed)
    }
}
