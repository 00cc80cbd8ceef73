/// The memory a blocking query stage may hold: an in-memory sort, a $group,
/// a pipeline $sort. Like MongoDB's 100 MB limit per stage, it turns a
/// query that would exhaust memory (a sort of every document of a huge
/// collection without an index, a $group over millions of distinct keys)
/// into INVALID_ARGUMENT instead of a process that runs out of memory.
struct MemoryBudget {
    static let defaultLimit = 256 << 20

    let stage: String
    let limit: Int
    /// What the message suggests to stay within the limit.
    let advice: String
    private(set) var used = 0

    init(stage: String, limit: Int = MemoryBudget.defaultLimit, advice: String = "use an index for the sort, or filter first") {
        self.stage = stage
        self.limit = limit
        self.advice = advice
    }

    /// Counts `bytes` fewer: memory a stage has let go of (a finished
    /// branch of a depth-first walk).
    mutating func release(_ bytes: Int) {
        used -= bytes
    }

    /// Counts `bytes` more; throws once the stage holds more than the limit.
    mutating func charge(_ bytes: Int) throws {
        used += bytes
        guard used <= limit else {
            let amount = limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit) bytes"
            throw CairnError.invalidArgument("\(stage) needs more than \(amount) of memory; \(advice)")
        }
    }
}
