/// The outcome codes of every Cairn operation. The raw values are the
/// `cairn_status` numbers of include/cairn.h: part of the ABI; never change
/// or reuse one.
public enum StatusCode: Int32, Sendable {
    case ok = 0
    case notFound = 1
    case invalidArgument = 2
    case ioError = 3
    case corruption = 4
    case busy = 5
    case closed = 6
    case conflict = 7
    case constraint = 8
    case schema = 9
    case noSpace = 10
    case `internal` = 11
    case noMemory = 12
    case interrupted = 13
    case historyLost = 14
    case readOnly = 15
    case done = 100

    /// The C name, as `cairn_status_name` returns it.
    public var name: String {
        switch self {
        case .ok: return "CAIRN_OK"
        case .notFound: return "CAIRN_NOT_FOUND"
        case .invalidArgument: return "CAIRN_INVALID_ARGUMENT"
        case .ioError: return "CAIRN_IO_ERROR"
        case .corruption: return "CAIRN_CORRUPTION"
        case .busy: return "CAIRN_BUSY"
        case .closed: return "CAIRN_CLOSED"
        case .conflict: return "CAIRN_CONFLICT"
        case .constraint: return "CAIRN_CONSTRAINT"
        case .schema: return "CAIRN_SCHEMA"
        case .noSpace: return "CAIRN_NO_SPACE"
        case .internal: return "CAIRN_INTERNAL"
        case .noMemory: return "CAIRN_NO_MEMORY"
        case .interrupted: return "CAIRN_INTERRUPTED"
        case .historyLost: return "CAIRN_HISTORY_LOST"
        case .readOnly: return "CAIRN_READ_ONLY"
        case .done: return "CAIRN_DONE"
        }
    }
}

/// The one error type the core throws: a stable code plus a message that
/// names the problem (the option, the file, the byte offset).
public struct CairnError: Error, CustomStringConvertible, Sendable {
    public let code: StatusCode
    public let message: String

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }

    static func invalidArgument(_ message: String) -> CairnError { CairnError(.invalidArgument, message) }
    static func corruption(_ message: String) -> CairnError { CairnError(.corruption, message) }
    static let closed = CairnError(.closed, "the database is closed")
}
