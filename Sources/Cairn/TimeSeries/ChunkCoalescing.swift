/// The written chunks of one (series, bucket) that a memtable holds become
/// one written chunk when it is flushed (the engine's FlushCoalescer).
///
/// A write call adds one written chunk (form 0) per (series, bucket) it
/// touches, so a batch of 100,000 points across 40,000 series writes 40,000
/// keys of two or three points each, and a 16 MiB memtable holds about five
/// such batches. Merged at flush, the level-0 table holds one chunk of a
/// dozen points per series instead of five of two: a fifth of the keys and
/// about half the bytes, and every compaction after it copies that much less
/// (ingest at a full day of TSBS data was bound by those compactions).
///
/// The merged chunk is the merge of the run's chunks (BucketMerger: later
/// sequence wins at equal timestamps), stored under the run's last key, with
/// the last chunk's commit time. It reads as the run read:
/// - A memtable holds every write of its sequence range, so the run is every
///   chunk of its bucket in that range; a deletion chunk (form 2) or a packed
///   chunk ends a run (only written chunks group).
/// - Chunk keys hold their commit sequence, so each is written once, as the
///   engine requires.
/// - Packing deletes the chunks it merged and writes their merge under the
///   newest sequence it read. If a flush merged one of them with a chunk
///   written after packing read, the merged chunk survives the deletes, and
///   holds again points the packed chunk holds, under a later sequence: at
///   every timestamp it gives the newest of the run's points, which is also
///   what the packed chunk and the later chunk together give. No point is
///   lost or invented; the next packing of the bucket merges both.
/// - Retention and whole-bucket deletion delete key ranges that cover a
///   bucket's every chunk, merged or not.
enum ChunkCoalescing {
    /// The coalescer `Database` installs in the engine.
    static func coalescer() -> FlushCoalescer {
        let merging = Merging()
        return FlushCoalescer(groupLength: groupLength, merge: { keys, values in merging.merge(keys, values) })
    }

    /// A written chunk key groups by its series and bucket (18 bytes); any
    /// other key does not group.
    static func groupLength(_ key: UnsafeRawBufferPointer) -> Int {
        guard key.count == TimeSeriesFormat.chunkKeyLength, key[0] == Namespace.timeSeries.rawValue, key[1] == TimeSeriesFormat.chunks,
              key[TimeSeriesFormat.chunkKeyLength - 1] == TimeSeriesFormat.written else { return 0 }
        return TimeSeriesFormat.sequenceOffset
    }

    /// The merge, with its buffers kept from run to run (a flush is one
    /// thread; the lock only makes that safe to rely on).
    private final class Merging: @unchecked Sendable {
        private let lock = Lock()
        private let merger = BucketMerger()
        private var out: [UInt8] = []

        /// The run's merged written chunk, or nil to keep the run (a chunk
        /// that does not decode: its damage stays where readers report it).
        func merge(_ keys: [UnsafeRawBufferPointer], _ values: [UnsafeRawBufferPointer]) -> [UInt8]? {
            lock.withLock {
                guard let first = TimeSeriesFormat.parseChunkKey(keys[0]) else { return nil }
                let isInteger = SeriesID.isInteger(first.id)
                merger.reset(isInteger: isInteger)
                for (key, value) in zip(keys, values) {
                    guard let parts = TimeSeriesFormat.parseChunkKey(key), parts.form == TimeSeriesFormat.written,
                          parts.id == first.id, parts.bucket == first.bucket,
                          (try? merger.add(value, bucket: parts.bucket, sequence: parts.sequence, form: parts.form)) != nil else { return nil }
                }
                merger.merge()
                guard !merger.times.isEmpty, let last = values.last, last.count >= 8 else { return nil }
                out.removeAll(keepingCapacity: true)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: last[0..<8]))  // the newest commit time
                merger.times.withUnsafeBufferPointer { t in
                    merger.values.withUnsafeBufferPointer { v in
                        GorillaChunk.encodeWritten(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: isInteger,
                                                   bucket: first.bucket, into: &out)
                    }
                }
                return out
            }
        }
    }
}
