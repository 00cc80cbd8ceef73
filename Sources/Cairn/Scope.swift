/// Where a data model's operations run: the database itself, where each
/// call is its own short transaction, committed at its end; or an explicit
/// transaction, which the call joins (nothing is visible to others until
/// it commits).
///
/// Every layer adds its operations as an extension of Scope
/// (KeyValue/Scope+KeyValue.swift, Documents/Scope+Documents.swift), so
/// that the same call works on a database handle and on a transaction
/// handle, in Swift and through the C ABI alike. An operation that reads
/// and writes several keys runs its work in `withTransaction`; one that
/// has a faster path on the database alone (a single key-value put goes
/// straight to the engine) asks for `transaction` and takes it when nil.
public protocol Scope: AnyObject {
    /// The database this scope reads and writes.
    var database: Database { get }
    /// The explicit transaction that calls join, or nil on the database.
    var transaction: Transaction? { get }
}

extension Database: Scope {
    public var database: Database { self }
    public var transaction: Transaction? { nil }
}

extension Transaction: Scope {
    public var transaction: Transaction? { self }
}

extension Scope {
    /// Runs `body` in a transaction. In an explicit transaction: that one,
    /// as one operation (a failure undoes what the operation wrote and
    /// leaves the transaction usable). On the database: a new transaction,
    /// committed at the end when `writing`. Writers on the database run
    /// side by side (holding the document lock shared, so that no index
    /// build interleaves), and their commits share group commits; one that
    /// conflicts with a write committed since its snapshot (the same
    /// document, the same unique value, a catalog entry it read) is run
    /// again on a fresh snapshot. Readers take a snapshot and need no lock.
    public func withTransaction<T>(writing: Bool, _ body: (Transaction) throws -> T) throws -> T {
        if let transaction { return try transaction.runOperation { try body(transaction) } }
        let database = self.database
        guard writing else { return try body(try Transaction(database: database, readOnly: true, explicit: false)) }
        return try database.documents.lock.withSharedLock {
            var attempt = 0
            while true {
                let transaction = try Transaction(database: database, readOnly: false, explicit: false)
                let result = try body(transaction)
                do {
                    try transaction.commit()
                    return result
                } catch let error as CairnError where error.code == .conflict && attempt < 1000 {
                    attempt += 1
                }
            }
        }
    }
}

extension Database {
    /// Begins an explicit transaction at a snapshot taken now.
    public func beginTransaction(readOnly: Bool = false) throws -> Transaction {
        guard !isClosed else { throw CairnError.closed }
        return try Transaction(database: self, readOnly: readOnly, explicit: true)
    }
}
