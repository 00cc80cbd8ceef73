/// Reads one series' points in [start, end), one bucket at a time: the
/// chunks of a bucket (written, packed, deletions) are decoded and merged
/// (at equal timestamps the newest commit wins; a deletion hides the older
/// points in its range), so memory holds one bucket of one series, never
/// the whole range. Used by one caller at a time.
final class SeriesReader {
    let id: UInt64
    private let start: Int64
    private let end: Int64
    private let iterator: EngineIterator
    private var pending = false
    private var finished = false
    /// The current bucket's points in [start, end), ascending.
    private(set) var times: [Int64] = []
    private(set) var values: [UInt64] = []
    private let merger = BucketMerger()
    private let bodies: ChunkBodies

    /// REQUIRES: start < end, both in [minTime, maxTime + 1].
    init(database: Database, view: ReadView, id: UInt64, start: Int64, end: Int64) throws {
        self.id = id
        self.start = start
        self.end = end
        let lower = TimeSeriesFormat.bucketPrefix(id, TimeSeriesFormat.bucket(of: start))
        let upper = TimeSeriesFormat.bucketPrefix(id, TimeSeriesFormat.bucket(of: end - 1) + TimeSeriesFormat.bucketMillis)
        iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
        var bodyLower = lower, bodyUpper = upper
        bodyLower[1] = TimeSeriesFormat.bodies
        bodyUpper[1] = TimeSeriesFormat.bodies
        bodies = ChunkBodies(database: database, view: view, lower: bodyLower, upper: bodyUpper)
    }

    var isInteger: Bool { SeriesID.isInteger(id) }

    /// Loads the next bucket that has points in range; false at the end.
    func nextBucket() throws -> Bool {
        while !finished {
            merger.reset(isInteger: isInteger)
            var bucket: Int64?
            while true {
                if !pending {
                    guard try iterator.iterator.next() else { finished = true; break }
                    pending = true
                }
                let key = iterator.iterator.key
                guard let parts = TimeSeriesFormat.parseChunkKey(key) else { throw CairnError.corruption("time-series chunk key of \(key.count) bytes") }
                if let bucket, parts.bucket != bucket { break }
                bucket = parts.bucket
                let chunk = try bodies.resolve(id: id, bucket: parts.bucket, sequence: parts.sequence, form: parts.form,
                                               value: iterator.iterator.value)
                try merger.add(chunk.value, bucket: parts.bucket, sequence: parts.sequence, form: chunk.form)
                pending = false
            }
            guard bucket != nil else { return false }
            merger.merge()
            merger.clip(start: start, end: end, times: &times, values: &values)
            if !times.isEmpty { return true }
        }
        // Nothing stays readable after the end (a cursor may ask again).
        times.removeAll()
        values.removeAll()
        return false
    }
}

/// Merges the chunks of one bucket of one series (see SeriesReader).
final class BucketMerger {
    private var isInteger = false
    private(set) var times: [Int64] = []
    private(set) var values: [UInt64] = []
    /// Where each chunk's points start in times/values, and its sequence.
    private var segments: [(start: Int, sequence: UInt64)] = []
    private var deletions: [(sequence: UInt64, start: Int64, end: Int64)] = []
    private var merged = true
    /// The keys read (for packing).
    private(set) var keys: [[UInt8]] = []
    var keepKeys = false
    private(set) var newestSequence: UInt64 = 0
    private(set) var needsPacking = false
    private var scratch: [(t: Int64, segment: Int32, v: UInt64)] = []

    func reset(isInteger: Bool) {
        self.isInteger = isInteger
        times.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        segments.removeAll(keepingCapacity: true)
        deletions.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        newestSequence = 0
        needsPacking = false
        merged = true
    }

    var chunkCount: Int { segments.count + deletions.count }

    /// Adds a chunk. Chunks must come in key order (ascending sequence).
    func add(_ value: UnsafeRawBufferPointer, bucket: Int64, sequence: UInt64, form: UInt8, key: UnsafeRawBufferPointer? = nil) throws {
        if keepKeys, let key { keys.append(Array(key)) }
        newestSequence = max(newestSequence, sequence)
        // A form-3 chunk comes here as its body, form 1 (ChunkBodies.resolve).
        if form != TimeSeriesFormat.packed || !segments.isEmpty || !deletions.isEmpty { needsPacking = true }
        switch form {
        case TimeSeriesFormat.written, TimeSeriesFormat.packed:
            let body = form == TimeSeriesFormat.written ? try BucketMerger.dropStamp(value) : value
            if !segments.isEmpty || !deletions.isEmpty { merged = false }
            segments.append((times.count, sequence))
            try GorillaChunk.decode(body, isInteger: isInteger, lower: bucket, upper: bucket + TimeSeriesFormat.bucketMillis,
                                    times: &times, values: &values)
        case TimeSeriesFormat.deletion:
            var reader = ByteReader(try BucketMerger.dropStamp(value), what: "time-series deletion")
            let from = TimeSeriesFormat.unzigzag(try reader.readVarint())
            let to = TimeSeriesFormat.unzigzag(try reader.readVarint())
            deletions.append((sequence, from, to))
            merged = false
        default:
            throw CairnError.corruption("time-series chunk of unknown form \(form)")
        }
    }

    private static func dropStamp(_ value: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        guard value.count >= 8 else { throw CairnError.corruption("time-series chunk of \(value.count) bytes") }
        return UnsafeRawBufferPointer(rebasing: value[8...])
    }

    /// Orders the points by time, keeps the newest of equal timestamps and
    /// drops those a newer deletion covers.
    func merge() {
        guard !merged else { return }
        merged = true
        // Chunks written in time order (the usual case) follow each other
        // without overlap: the points are in order already, no sort needed.
        if deletions.isEmpty && segmentsAscend {
            segments = times.isEmpty ? [] : [(0, newestSequence)]
            return
        }
        scratch.removeAll(keepingCapacity: true)
        for (index, segment) in segments.enumerated() {
            let stop = index + 1 < segments.count ? segments[index + 1].start : times.count
            for i in segment.start..<stop { scratch.append((times[i], Int32(index), values[i])) }
        }
        scratch.sort { $0.t != $1.t ? $0.t < $1.t : $0.segment < $1.segment }
        times.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        var i = 0
        while i < scratch.count {
            var j = i
            while j + 1 < scratch.count && scratch[j + 1].t == scratch[i].t { j += 1 }
            let point = scratch[j]
            let sequence = segments[Int(point.segment)].sequence
            if !deletions.contains(where: { $0.sequence > sequence && point.t >= $0.start && point.t < $0.end }) {
                times.append(point.t)
                values.append(point.v)
            }
            i = j + 1
        }
        segments = times.isEmpty ? [] : [(0, newestSequence)]
        deletions.removeAll(keepingCapacity: true)
    }

    /// Whether each segment starts after the previous one ends (each
    /// segment's times increase; GorillaChunk.decode checks it).
    private var segmentsAscend: Bool {
        for segment in segments.dropFirst() where segment.start > 0 && segment.start < times.count {
            if times[segment.start] <= times[segment.start - 1] { return false }
        }
        return true
    }

    /// Copies the merged points in [start, end) out.
    func clip(start: Int64, end: Int64, times outTimes: inout [Int64], values outValues: inout [UInt64]) {
        outTimes.removeAll(keepingCapacity: true)
        outValues.removeAll(keepingCapacity: true)
        var lo = 0
        while lo < times.count && times[lo] < start { lo += 1 }
        var hi = times.count
        while hi > lo && times[hi - 1] >= end { hi -= 1 }
        if lo < hi {
            outTimes.append(contentsOf: times[lo..<hi])
            outValues.append(contentsOf: values[lo..<hi])
        }
    }
}

/// Finds the newest point at or before a time, for many series asked in
/// ascending id order (as selections list them).
///
/// Packed series hold one chunk per bucket, and a series with few buckets
/// (a day of 2-hour buckets or less) is answered by one forward walk over
/// the chunk keys: each series' chunks follow the previous series', so no
/// seek is needed, and a lone chunk answers from its header. A bucket with
/// several chunks or a deletion, and a newest point past `asOf`, are left
/// to a reverse seek to the series' newest bucket, which merges. Once a
/// series has shown more than `maxWalk` chunks (long histories: a seek
/// skips their older buckets), every series goes by one forward seek to
/// the bucket the previous answer came from (`newestFromGuess`), and by
/// the reverse seek when that cannot tell.
final class NewestPointFinder {
    private let database: Database
    private let view: ReadView
    private let iterator: EngineIterator
    private let merger = BucketMerger()
    private let bodies: ChunkBodies
    private var forward: EngineIterator?
    /// The chunk key at the forward iterator's position; nil at its end.
    private var at: (id: UInt64, bucket: Int64, sequence: UInt64, form: UInt8)?
    /// The position is the first chunk key at or after series x's for every
    /// x in [validFrom, at.id] (the keys passed over do not exist); .max
    /// before the first seek.
    private var validFrom = UInt64.max
    /// Set once a series had more chunks than a walk reads.
    private var bySeek = false
    private static let maxWalk = 4
    /// Forward steps before a seek is cheaper.
    private static let maxSteps = 16

    init(database: Database, view: ReadView) throws {
        self.database = database
        self.view = view
        let lower: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks]
        let upper: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks + 1]
        iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: true, view: view) }
        }
        bodies = ChunkBodies(database: database, view: view)
    }

    /// The last point of a chunk key's value from its header alone: a
    /// form-3 key holds it, a written or packed chunk (form 0 or 1) in its
    /// Gorilla chunk's header. REQUIRES: form is not a deletion.
    static func lastPoint(_ value: UnsafeRawBufferPointer, form: UInt8, bucket: Int64, isInteger: Bool) throws -> (t: Int64, v: UInt64) {
        switch form {
        case TimeSeriesFormat.packedApart:
            return try TimeSeriesFormat.parsePackedApartValue(value, bucket: bucket)
        case TimeSeriesFormat.written, TimeSeriesFormat.packed:
            guard form != TimeSeriesFormat.written || value.count >= 8 else {
                throw CairnError.corruption("time-series chunk of \(value.count) bytes")
            }
            let body = form == TimeSeriesFormat.written ? UnsafeRawBufferPointer(rebasing: value[8...]) : value
            return try GorillaChunk.lastPoint(body, lower: bucket, upper: bucket + TimeSeriesFormat.bucketMillis, isInteger: isInteger)
        default:
            throw CairnError.corruption("time-series chunk of unknown form \(form)")
        }
    }

    /// The newest point of series `id` at or before `asOf`.
    func newest(id: UInt64, asOf: Int64) throws -> (t: Int64, v: UInt64)? {
        if bySeek { return try newestFromGuess(id: id, asOf: asOf) ?? newestBySeek(id: id, asOf: asOf) }
        try position(at: id)
        let lastBucket = TimeSeriesFormat.bucket(of: asOf)
        var best: (t: Int64, v: UInt64)?
        var bestBucket: Int64?
        var walked = 0
        while let key = at, key.id == id, key.bucket <= lastBucket {
            walked += 1
            if walked > NewestPointFinder.maxWalk {
                bySeek = true
                return try newestFromGuess(id: id, asOf: asOf) ?? newestBySeek(id: id, asOf: asOf)
            }
            // Several chunks in one bucket, or a deletion: merged by the seek.
            if key.bucket == bestBucket || key.form == TimeSeriesFormat.deletion { return try newestBySeek(id: id, asOf: asOf) }
            best = try NewestPointFinder.lastPoint(forward!.iterator.value, form: key.form, bucket: key.bucket, isInteger: SeriesID.isInteger(id))
            bestBucket = key.bucket
            try step()
        }
        // Points past asOf in asOf's bucket: the seek finds the one before.
        if let best, best.t > asOf { return try newestBySeek(id: id, asOf: asOf) }
        return best
    }

    /// Moves the forward iterator to the first chunk key at or after series
    /// `id`'s: a few steps from where it is, else a seek.
    private func position(at id: UInt64) throws {
        try makeForward()
        var steps = 0
        if validFrom != .max {
            while let key = at, key.id < id, steps < NewestPointFinder.maxSteps {
                try step()
                steps += 1
            }
        }
        if validFrom <= id && (at.map { $0.id >= id } ?? true) { return }
        var target: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks]
        TimeSeriesFormat.appendBE(id, to: &target)
        target.withUnsafeBytes { forward!.iterator.seek($0) }
        at = try nextKey()
        validFrom = id
    }

    private func makeForward() throws {
        guard forward == nil else { return }
        let lower: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks]
        let upper: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks + 1]
        forward = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
    }

    /// Moves the forward iterator to the first chunk key at or after
    /// (id, bucket). The position is then no series' first key but for the
    /// series after `id` (validFrom).
    private func seekForward(id: UInt64, bucket: Int64) throws {
        try makeForward()
        TimeSeriesFormat.bucketPrefix(id, bucket).withUnsafeBytes { forward!.iterator.seek($0) }
        at = try nextKey()
        validFrom = id == .max ? .max : id + 1
    }

    /// The newest bucket an answer came from. Series of one data set are
    /// mostly written over the same times, so the next series' newest
    /// bucket is usually the same.
    private var guess: Int64?
    /// Buckets a walk from the guess reads before the reverse seek is cheaper.
    private static let maxGuessWalk = 8

    /// As `newest` for a series with many buckets: one forward seek to the
    /// guessed bucket (or asOf's, if older), then a walk over the buckets
    /// from there to asOf's, a lone chunk answering from its header (a
    /// bucket with several chunks or a deletion, or points past asOf, is
    /// read again and merged). Nil when it cannot tell: no guess yet, no
    /// chunk in [guess, asOf's bucket], no point at or before asOf there
    /// (the answer may sit in an older bucket), or a long walk; the reverse
    /// seek answers then. A reverse seek costs more than a forward one: it
    /// steps back past the bucket to know it is whole, and a step back in
    /// a block rescans it from a restart point.
    private func newestFromGuess(id: UInt64, asOf: Int64) throws -> (t: Int64, v: UInt64)? {
        guard let guessed = guess else { return nil }
        let lastBucket = TimeSeriesFormat.bucket(of: asOf)
        try seekForward(id: id, bucket: min(guessed, lastBucket))
        var best: (t: Int64, v: UInt64)?
        var bestBucket: Int64 = 0
        var walked = 0
        while let key = at, key.id == id, key.bucket <= lastBucket {
            walked += 1
            guard walked <= NewestPointFinder.maxGuessWalk else { return nil }
            let bucket = key.bucket
            var point: (t: Int64, v: UInt64)?
            if key.form != TimeSeriesFormat.deletion {
                point = try NewestPointFinder.lastPoint(forward!.iterator.value, form: key.form, bucket: bucket, isInteger: SeriesID.isInteger(id))
            }
            try step()
            let several = at.map { $0.id == id && $0.bucket == bucket } ?? false
            if several || key.form == TimeSeriesFormat.deletion || (point.map { $0.t > asOf } ?? false) {
                point = try mergedBucket(id: id, bucket: bucket, asOf: asOf)
            }
            if let point {
                best = point
                bestBucket = bucket
            }
        }
        guard let best else { return nil }
        guess = bestBucket
        return best
    }

    /// Merges every chunk of one bucket (read again from its start) and
    /// returns its newest point at or before asOf; leaves the forward
    /// iterator after the bucket.
    private func mergedBucket(id: UInt64, bucket: Int64, asOf: Int64) throws -> (t: Int64, v: UInt64)? {
        try seekForward(id: id, bucket: bucket)
        merger.reset(isInteger: SeriesID.isInteger(id))
        while let key = at, key.id == id, key.bucket == bucket {
            let chunk = try bodies.resolve(id: id, bucket: bucket, sequence: key.sequence, form: key.form, value: forward!.iterator.value)
            try merger.add(chunk.value, bucket: bucket, sequence: key.sequence, form: chunk.form)
            try step()
        }
        merger.merge()
        var index = merger.times.count - 1
        while index >= 0 && merger.times[index] > asOf { index -= 1 }
        return index >= 0 ? (merger.times[index], merger.values[index]) : nil
    }

    private func step() throws {
        let previous = at?.id
        at = try nextKey()
        if let previous { validFrom = previous == .max ? .max : previous + 1 }
    }

    private func nextKey() throws -> (id: UInt64, bucket: Int64, sequence: UInt64, form: UInt8)? {
        guard try forward!.iterator.next() else { return nil }
        let key = forward!.iterator.key
        guard let parts = TimeSeriesFormat.parseChunkKey(key) else { throw CairnError.corruption("time-series chunk key of \(key.count) bytes") }
        return parts
    }

    /// As `newest`, by a reverse seek to the newest bucket at or before
    /// asOf's, merging its chunks when it has several.
    private func newestBySeek(id: UInt64, asOf: Int64) throws -> (t: Int64, v: UInt64)? {
        var seekKey = TimeSeriesFormat.bucketPrefix(id, TimeSeriesFormat.bucket(of: asOf))
        seekKey.append(contentsOf: repeatElement(0xFF, count: 9))
        seekKey.withUnsafeBytes { iterator.iterator.seek($0) }
        var bucket: Int64?
        var chunks: [(value: [UInt8], sequence: UInt64, form: UInt8)] = []
        while true {
            let more = try iterator.iterator.next()
            var parts: (id: UInt64, bucket: Int64, sequence: UInt64, form: UInt8)?
            if more {
                let key = iterator.iterator.key
                guard let p = TimeSeriesFormat.parseChunkKey(key) else { throw CairnError.corruption("time-series chunk key of \(key.count) bytes") }
                parts = p
            }
            if let current = bucket, parts == nil || parts!.id != id || parts!.bucket != current {
                // The bucket is complete (its chunks came newest first). One
                // chunk that ends at or before asOf answers from its header.
                if chunks.count == 1 && chunks[0].form != TimeSeriesFormat.deletion {
                    let chunk = chunks[0]
                    let last = try chunk.value.withUnsafeBytes {
                        try NewestPointFinder.lastPoint($0, form: chunk.form, bucket: current, isInteger: SeriesID.isInteger(id))
                    }
                    if last.t <= asOf {
                        guess = current
                        return last
                    }
                }
                merger.reset(isInteger: SeriesID.isInteger(id))
                for chunk in chunks.reversed() {
                    try chunk.value.withUnsafeBytes {
                        let resolved = try bodies.resolve(id: id, bucket: current, sequence: chunk.sequence, form: chunk.form, value: $0)
                        try merger.add(resolved.value, bucket: current, sequence: chunk.sequence, form: resolved.form)
                    }
                }
                merger.merge()
                var index = merger.times.count - 1
                while index >= 0 && merger.times[index] > asOf { index -= 1 }
                if index >= 0 {
                    guess = current
                    return (merger.times[index], merger.values[index])
                }
                chunks.removeAll()
                bucket = nil
            }
            guard let parts, parts.id == id else { return nil }
            bucket = parts.bucket
            chunks.append((Array(iterator.iterator.value), parts.sequence, parts.form))
        }
    }
}
