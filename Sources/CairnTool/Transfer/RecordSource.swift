/// One record of an import file: a document's JSON text (or a CSV row
/// already turned into JSON), with the line it starts on for messages.
struct ImportRecord {
    var json: [UInt8]
    var line: Int
}

/// A record source yields records one at a time, or throws a
/// `BadRecord` naming the line of a record it cannot read (the import
/// reports it and goes on, or stops with --stop-on-error).
protocol RecordSource {
    mutating func next() throws -> ImportRecord?
}

struct BadRecord: Error {
    let line: Int
    let message: String
}

/// NDJSON: a document per line; blank lines are skipped.
struct NDJSONSource: RecordSource {
    let reader: ByteReader
    private var line = 0

    init(reader: ByteReader) { self.reader = reader }

    mutating func next() throws -> ImportRecord? {
        while let bytes = try reader.nextLine() {
            line += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            return ImportRecord(json: bytes, line: line)
        }
        return nil
    }
}

/// A JSON array of documents, split into its elements as the bytes stream
/// by: brackets are counted outside strings, and an element ends at a
/// comma or the closing bracket at depth one. Each element is parsed by
/// the core afterwards; this only finds where it ends.
struct JSONArraySource: RecordSource {
    let reader: ByteReader
    private var line = 1
    private var started = false
    private var finished = false

    init(reader: ByteReader) { self.reader = reader }

    private mutating func skipSpace() throws -> UInt8? {
        while let b = try reader.nextByte() {
            if b == 0x0A { line += 1 }
            if b != 0x20 && b != 0x0A && b != 0x0D && b != 0x09 { return b }
        }
        return nil
    }

    mutating func next() throws -> ImportRecord? {
        if finished { return nil }
        if !started {
            started = true
            guard let first = try skipSpace() else { finished = true; return nil }
            guard first == UInt8(ascii: "[") else { throw BadRecord(line: line, message: "a JSON array must start with '['") }
        }
        guard var b = try skipSpace() else { throw BadRecord(line: line, message: "the JSON array is not closed") }
        if b == UInt8(ascii: "]") { finished = true; return nil }
        if b == UInt8(ascii: ",") {
            guard let after = try skipSpace() else { throw BadRecord(line: line, message: "the JSON array is not closed") }
            b = after
        }
        let startLine = line
        var bytes: [UInt8] = [b]
        var depth = (b == UInt8(ascii: "{") || b == UInt8(ascii: "[")) ? 1 : 0
        var inString = b == UInt8(ascii: "\""), escaped = false
        while true {
            guard let peek = try reader.peekByte() else {
                finished = true
                throw BadRecord(line: startLine, message: "the JSON array is not closed")
            }
            if !inString && depth == 0 && (peek == UInt8(ascii: ",") || peek == UInt8(ascii: "]")) {
                if peek == UInt8(ascii: "]") { _ = try reader.nextByte(); finished = true }
                break
            }
            let c = try reader.nextByte()!
            if c == 0x0A { line += 1 }
            bytes.append(c)
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        while let last = bytes.last, last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 { bytes.removeLast() }
        return ImportRecord(json: bytes, line: startLine)
    }
}

/// mongoexport writes ObjectIds as {"$oid": "<24 hex digits>"}, which the
/// core does not read; its own generated ids are those 24 hex digits as a
/// string (Documents/ObjectID.swift). A record that mentions "$oid" is
/// rewritten that way; others pass untouched (one byte search).
enum ObjectIDs {
    private static let marker = Array("\"$oid\"".utf8)

    static func rewrite(_ record: inout ImportRecord) {
        guard record.json.count >= marker.count,
              record.json.indices.dropLast(marker.count - 1).contains(where: { record.json[$0] == marker[0] && record.json[$0..<($0 + marker.count)].elementsEqual(marker) }),
              let value = try? record.json.withUnsafeBytes({ try JSONValue.parse($0, what: "document") }) else { return }
        record.json = Array(replacing(value).serialized.utf8)
    }

    private static func replacing(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            if members.count == 1, members[0].key == "$oid", case .string(let hex) = members[0].value { return .string(hex) }
            return .object(members.map { ($0.key, replacing($0.value)) })
        case .array(let elements): return .array(elements.map(replacing))
        default: return value
        }
    }
}

import Cairn
