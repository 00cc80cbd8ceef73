/// The memory a blocking query stage may hold: an in-memory sort, a $group,
/// a pipeline $sort. Like MongoDB's 100 MB limit per stage, it turns a
/// query that would exhaust memory (a sort of every document of a huge
/// collection without an index, a $group over millions of distinct keys)
/// into INVALID_ARGUMENT instead of a process that runs out of memory.
struct MemoryBudget {
    static let defaultLimit = 256 << 20

    let stage: String
    let limit: Int
    private(set) var used = 0

    init(stage: String, limit: Int = MemoryBudget.defaultLimit) {
        self.stage = stage
        self.limit = limit
    }

    /// Counts `bytes` more; throws once the stage holds more than the limit.
    mutating func charge(_ bytes: Int) throws {
        used += bytes
        guard used <= limit else {
            throw CairnError.invalidArgument("\(stage) needs more than \(limit >> 20) MiB of memory; use an index for the sort, or filter first")
        }
    }
}
