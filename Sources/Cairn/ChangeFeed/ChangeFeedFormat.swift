/// The history's layout in the change-feed namespace (0x05). Part of the
/// on-disk format (docs/format/changefeed.md); never change.
///
///     state   0x05 0x00
///             u8 1 (recording) or 0 (an open without the feed recorded nothing)
///             | u64 BE floor sequence | u32 BE floor count | u64 BE floor time (ms)
///             | u64 BE the last sequence when recording stopped (0: running)
///     event   0x05 0x01 | u64 BE commit sequence | u32 BE position in the commit
///             value: u64 BE commit time (ms) | u32 BE events in the commit
///                    | binary document (DocumentFormat) of the change
///
/// The commit sequence and time are stamped by the engine when the batch
/// commits (WriteBatch.putStamped), so the event lands in the very log
/// record of its change. Keys order events as commits are ordered, and a
/// commit's events by their position.
///
/// The floor says which history is gone: every event of commits before the
/// floor sequence, and the first `floor count` events of the floor commit
/// itself, were trimmed or never recorded; everything after is kept.
/// Trimming removes whole commits, so the count is the floor commit's
/// size, or UInt32.max when it is not known (recording started there).
enum ChangeFeedFormat {
    static let stateKey: [UInt8] = [0x00]
    static let eventTag: UInt8 = 0x01
    /// Engine key bounds of every event.
    static let eventsLower: [UInt8] = [Namespace.changeFeed.rawValue, 0x01]
    static let eventsUpper: [UInt8] = [Namespace.changeFeed.rawValue, 0x02]
    /// Where the commit sequence sits in an event's engine key.
    static let sequenceOffset = 2
    /// Bytes before the document in an event's value.
    static let valueHeaderSize = 12

    /// The engine key of an event (the sequence is a placeholder until the
    /// engine stamps it).
    static func eventKey(sequence: UInt64, position: UInt32) -> [UInt8] {
        var key = eventsLower
        key.reserveCapacity(14)
        key.appendUInt64BE(sequence)
        key.appendUInt32BE(position)
        return key
    }

    /// The position inside the history of an event's engine key.
    static func position(ofEventKey key: UnsafeRawBufferPointer) throws -> ChangePosition {
        guard key.count == 14, key[0] == Namespace.changeFeed.rawValue, key[1] == eventTag else {
            throw CairnError.corruption("change feed: an event key of \(key.count) bytes")
        }
        return ChangePosition(sequence: readUInt64BE(key, 2), position: readUInt32BE(key, 10))
    }

    static func readUInt64BE(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }

    static func readUInt32BE(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        return value
    }

    /// The recorded state of the history.
    struct State: Equatable {
        var recording: Bool
        var floor: ChangePosition
        var floorTime: Int64
        var stoppedAt: UInt64

        func encoded() -> [UInt8] {
            var out: [UInt8] = [recording ? 1 : 0]
            out.appendUInt64BE(floor.sequence)
            out.appendUInt32BE(floor.position)
            out.appendUInt64BE(UInt64(bitPattern: floorTime))
            out.appendUInt64BE(stoppedAt)
            return out
        }

        static func decode(_ raw: UnsafeRawBufferPointer) throws -> State {
            guard raw.count == 29, raw[0] <= 1 else { throw CairnError.corruption("change feed: damaged state record (\(raw.count) bytes)") }
            return State(recording: raw[0] == 1,
                         floor: ChangePosition(sequence: readUInt64BE(raw, 1), position: readUInt32BE(raw, 9)),
                         floorTime: Int64(bitPattern: readUInt64BE(raw, 13)), stoppedAt: readUInt64BE(raw, 21))
        }

        /// Whether an event after `position` (exclusive) is gone.
        func lostAfter(_ position: ChangePosition) -> Bool {
            if position.sequence != floor.sequence { return position.sequence < floor.sequence }
            // The floor commit's first `floor.position` events are gone;
            // what follows `position` in it is among them unless the
            // position is at or past the last of them.
            return floor.position == UInt32.max ? position.position != UInt32.max
                                                : Int(position.position) + 1 < Int(floor.position)
        }
    }
}

/// A point in the history: after the event at `position` of the commit
/// with `sequence`. UInt32.max as the position stands for "after the
/// whole commit". Orders as the history does.
public struct ChangePosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var sequence: UInt64
    public var position: UInt32

    public init(sequence: UInt64, position: UInt32) {
        self.sequence = sequence
        self.position = position
    }

    public static func < (a: ChangePosition, b: ChangePosition) -> Bool {
        (a.sequence, a.position) < (b.sequence, b.position)
    }

    public var description: String { "{seq: \(sequence), pos: \(position)}" }

    /// The engine key of the first event after this point.
    var lowerBoundKey: [UInt8] {
        if position == UInt32.max {
            // Safe: a sequence of UInt64.max is never assigned.
            return ChangeFeedFormat.eventKey(sequence: sequence &+ 1, position: 0)
        }
        return ChangeFeedFormat.eventKey(sequence: sequence, position: position + 1)
    }
}
