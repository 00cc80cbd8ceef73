import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Change feeds (cairn_watch handles): argument conversion only; the
// watch, its waiting and its subscription thread are ChangeStream and
// ChangeSubscription in the core.

/// A watch behind a cairn_watch handle, and its subscription once it has one.
final class WatchBox: @unchecked Sendable {
    let stream: ChangeStream
    private let lock = Lock()
    private var subscription: ChangeSubscription?

    init(_ stream: ChangeStream) { self.stream = stream }

    var isSubscribed: Bool { lock.withLock { subscription != nil } }

    /// Sets the subscription once; false when there already is one.
    func subscribe(_ make: () throws -> ChangeSubscription) throws -> Bool {
        try lock.withLock {
            guard subscription == nil else { return false }
            subscription = try make()
            return true
        }
    }

    func close() {
        if let subscription = lock.withLock({ subscription }) { subscription.close() } else { stream.close() }
    }
}

private func watchTarget(_ kind: Int32, _ target: UnsafeRawBufferPointer) throws -> WatchTarget {
    switch kind {
    case CAIRN_WATCH_ALL, CAIRN_WATCH_COLLECTIONS:
        guard target.count == 0 else { throw CairnError(.invalidArgument, "this watch target takes no name or prefix (target_len must be 0)") }
        return kind == CAIRN_WATCH_ALL ? .everything : .collections
    case CAIRN_WATCH_COLLECTION:
        let name = try text(target.baseAddress?.assumingMemoryBound(to: CChar.self), target.count, "collection name")
        return .collection(name)
    case CAIRN_WATCH_KEY_PREFIX:
        return .keyPrefix(Array(target))
    default:
        throw CairnError(.invalidArgument, "unknown watch target kind \(kind) (known: CAIRN_WATCH_ALL, CAIRN_WATCH_COLLECTIONS, CAIRN_WATCH_COLLECTION, CAIRN_WATCH_KEY_PREFIX)")
    }
}

@c @implementation
public func cairn_watch_open(_ db: OpaquePointer!, _ targetKind: Int32, _ target: UnsafePointer<UInt8>!, _ targetLength: Int,
                             _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                             _ outWatch: UnsafeMutablePointer<OpaquePointer?>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outWatch?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outWatch, "out_watch")
        let database = try databaseOnly(db)
        let kind = try watchTarget(targetKind, try bytes(target, targetLength, "target"))
        let stream = try database.watch(kind, optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        do {
            out.pointee = try HandleTable.shared.register(WatchBox(stream))
        } catch {
            stream.close()
            throw error
        }
        return .ok
    }
}

@c @implementation
public func cairn_watch_next(_ watch: OpaquePointer!, _ timeoutMs: Int32, _ eventJSON: TextOut!, _ eventLength: LengthOut!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    eventJSON?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(eventJSON, "event_json")
        let box = try HandleTable.shared.object(watch, as: WatchBox.self, "watch")
        guard timeoutMs >= 0 else { throw CairnError(.invalidArgument, "timeout_ms is negative (\(timeoutMs))") }
        guard !box.isSubscribed else { throw CairnError(.invalidArgument, "the watch delivers to its cairn_watch_subscribe() callback") }
        guard let event = try box.stream.next(timeoutMillis: Int(timeoutMs)) else {
            eventLength?.pointee = 0
            return .done
        }
        try giveString(event, out, eventLength)
        return .ok
    }
}

@c @implementation
public func cairn_watch_subscribe(_ watch: OpaquePointer!, _ callback: cairn_watch_callback!, _ userData: UnsafeMutableRawPointer!,
                                  _ destroy: cairn_destroy_callback!,
                                  _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let box = try HandleTable.shared.object(watch, as: WatchBox.self, "watch")
        guard let callback else { throw CairnError(.invalidArgument, "the callback is NULL") }
        // The pointer crosses threads as an address; the caller owns it.
        let data = UInt(bitPattern: userData)
        let subscribed = try box.subscribe {
            try ChangeSubscription(stream: box.stream, handler: { delivery in
                var text: String
                let status: Int32
                switch delivery {
                case .event(let json): (text, status) = (json, StatusCode.ok.rawValue)
                case .failure(let error): (text, status) = (error.message, error.code.rawValue)
                }
                text.withUTF8 { utf8 in
                    // A borrowed, NUL-terminated copy for the call.
                    withUnsafeTemporaryAllocation(of: CChar.self, capacity: utf8.count + 1) { buffer in
                        for i in 0..<utf8.count { buffer[i] = CChar(bitPattern: utf8[i]) }
                        buffer[utf8.count] = 0
                        callback(UnsafeMutableRawPointer(bitPattern: data), status, buffer.baseAddress, utf8.count)
                    }
                }
            }, onEnd: {
                destroy?(UnsafeMutableRawPointer(bitPattern: data))
            })
        }
        guard subscribed else { throw CairnError(.invalidArgument, "the watch already has a subscription") }
        return .ok
    }
}

@c @implementation
public func cairn_watch_close(_ watch: OpaquePointer!) -> Int32 {
    HandleTable.shared.remove(watch, as: WatchBox.self)?.close()
    return StatusCode.ok.rawValue
}
