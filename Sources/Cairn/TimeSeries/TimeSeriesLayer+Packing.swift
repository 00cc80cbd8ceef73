/// Packing: the chunks a bucket collects (one per write batch, deletions)
/// are merged into one packed chunk (TimeSeriesFormat, form 1) keyed by the
/// newest sequence merged, in one atomic write that also deletes what it
/// merged. Chunks written meanwhile have newer sequences and are left for
/// the next packing; the result reads exactly as the chunks read before.
/// Runs in the background (TimeSeriesLayer's worker) and for every bucket
/// in `compactTimeSeries()`.
///
/// The worker packs a bucket still being written in part: only the written
/// chunks that follow its newest packed chunk or deletion (its tail) become
/// a new packed chunk, so that a bucket written in many small batches is
/// not read and rewritten whole every `chunksBeforePacking` batches (that
/// made the packed chunk's bytes quadratic in the bucket's points). The
/// tail's chunks are all newer than what stays, so keying the new chunk by
/// the tail's newest sequence keeps every point's place in the merge order.
/// A bucket the series has moved past, a late write, a deletion and
/// `compactTimeSeries()` pack the whole bucket into one chunk.
extension Database {
    /// Packs one bucket of one series (its tail only when `whole` is false);
    /// returns whether it wrote.
    @discardableResult
    func packBucket(id: UInt64, bucket: Int64, whole: Bool = true) throws -> Bool {
        try timeSeries.packLock.withLock {
            guard !isClosed else { throw CairnError.closed }
            let view = try engine.readView()
            let merger = BucketMerger()
            merger.reset(isInteger: SeriesID.isInteger(id))
            merger.keepKeys = true
            let bodies = ChunkBodies(database: self, view: view, lower: TimeSeriesFormat.bodyPrefix(id, bucket),
                                     upper: TimeSeriesFormat.bodyPrefix(id, bucket + TimeSeriesFormat.bucketMillis))
            // The bodies of form-3 chunks merged, deleted with their keys.
            var bodyKeys: [[UInt8]] = []
            try forEachKey(prefix: TimeSeriesFormat.bucketPrefix(id, bucket), view: view) { key, value in
                guard let parts = TimeSeriesFormat.parseChunkKey(key) else { throw CairnError.corruption("time-series chunk key of \(key.count) bytes") }
                // In part: a packed chunk or a deletion ends the tail so far.
                if !whole && parts.form != TimeSeriesFormat.written {
                    merger.reset(isInteger: SeriesID.isInteger(id))
                    bodyKeys.removeAll()
                    return
                }
                let chunk = try bodies.resolve(id: id, bucket: parts.bucket, sequence: parts.sequence, form: parts.form, value: value)
                if parts.form == TimeSeriesFormat.packedApart {
                    bodyKeys.append(TimeSeriesFormat.bodyKey(id, parts.bucket, sequence: parts.sequence))
                }
                try merger.add(chunk.value, bucket: parts.bucket, sequence: parts.sequence, form: chunk.form, key: key)
            }
            guard whole ? merger.needsPacking : merger.chunkCount >= 2 else { return false }
            let keys = merger.keys
            let newest = merger.newestSequence
            merger.merge()
            var batch = WriteBatch()
            for key in keys + bodyKeys { key.withUnsafeBytes { batch.delete($0) } }
            if !merger.times.isEmpty {
                // Kept apart (form 3): the chunk key holds the last point, the
                // body key the chunk, both in this batch.
                var value: [UInt8] = []
                merger.times.withUnsafeBufferPointer { t in
                    merger.values.withUnsafeBufferPointer { v in
                        GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: SeriesID.isInteger(id),
                                            bucket: bucket, into: &value)
                    }
                }
                let last = TimeSeriesFormat.packedApartValue(lastTime: merger.times[merger.times.count - 1],
                                                             lastBits: merger.values[merger.values.count - 1], bucket: bucket)
                TimeSeriesFormat.chunkKey(id, bucket, sequence: newest, form: TimeSeriesFormat.packedApart).withUnsafeBytes { k in
                    last.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
                }
                TimeSeriesFormat.bodyKey(id, bucket, sequence: newest).withUnsafeBytes { k in
                    value.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
                }
            }
            try engine.write(batch)
            return true
        }
    }

    /// Packs every bucket that holds more than one chunk, a deletion or an
    /// unpacked chunk, then compacts the layer's key range in the LSM, so
    /// that replaced and deleted points leave the disk. Returns the number
    /// of buckets packed.
    public func compactTimeSeries() throws -> Int {
        guard !isClosed else { throw CairnError.closed }
        var targets: [TimeSeriesLayer.Target] = []
        let view = try engine.readView()
        var last: TimeSeriesLayer.Target?
        var lastChunks = 0
        var lastPacked = true
        try forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks], view: view) { key, _ in
            guard let parts = TimeSeriesFormat.parseChunkKey(key) else { throw CairnError.corruption("time-series chunk key of \(key.count) bytes") }
            let target = TimeSeriesLayer.Target(id: parts.id, bucket: parts.bucket)
            if target != last {
                if let last, lastChunks > 1 || !lastPacked { targets.append(last) }
                last = target
                lastChunks = 0
                lastPacked = true
            }
            lastChunks += 1
            if parts.form != TimeSeriesFormat.packed && parts.form != TimeSeriesFormat.packedApart { lastPacked = false }
        }
        if let last, lastChunks > 1 || !lastPacked { targets.append(last) }
        let ticket = engine.interrupts.ticket
        var packed = 0
        for target in targets {
            try engine.interrupts.check(ticket)
            if try packBucket(id: target.id, bucket: target.bucket) { packed += 1 }
        }
        try engine.compactRange(start: [Namespace.timeSeries.rawValue], end: [Namespace.timeSeries.rawValue + 1])
        return packed
    }
}
