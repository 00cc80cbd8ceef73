/// The binary form of a JSON document inside the engine: compact, and laid
/// out so that one field is read without decoding the rest (every array
/// and object carries its byte length, so a reader skips it in O(1)).
/// docs/format/documents.md has the picture. Part of the on-disk format;
/// never change a tag.
///
///     value   := tag payload
///     0x00 null
///     0x01 false            0x02 true
///     0x03 int64            8 bytes LE
///     0x04 double           8 bytes LE (IEEE 754)
///     0x05 string           varint byte length | UTF-8
///     0x06 binary           varint byte length | subtype: u8 | bytes
///     0x07 date             int64 ms since the epoch, 8 bytes LE
///     0x08 array            u32 LE byte length of the rest | u32 LE count | values
///     0x09 object           u32 LE byte length of the rest | u32 LE count | members
///     member  := varint key length | key UTF-8 | value
///
/// A document is an object value. Member order is kept as written.
enum DocumentTag: UInt8 {
    case null = 0
    case `false` = 1
    case `true` = 2
    case int = 3
    case double = 4
    case string = 5
    case binary = 6
    case date = 7
    case array = 8
    case object = 9
}

enum DocumentLimits {
    /// The largest document, in bytes of its JSON text and of its binary form.
    static let maxDocumentBytes = 16 << 20
    /// The deepest nesting of arrays and objects.
    static let maxDepth = 100
}
