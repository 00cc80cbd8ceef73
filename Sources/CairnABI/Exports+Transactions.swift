import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Transactions: begin, commit, rollback. A transaction handle is a
// `cairn_db *` that every data model's functions accept (Scope).

@c @implementation
public func cairn_txn_begin(_ db: OpaquePointer!, _ flags: Int32, _ outTxn: UnsafeMutablePointer<OpaquePointer?>!, _ errmsg: TextOut!) -> Int32 {
    outTxn?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outTxn, "out_txn")
        guard flags & ~Int32(CAIRN_TXN_READ_ONLY) == 0 else { throw CairnError(.invalidArgument, "unknown transaction flags \(flags)") }
        let transaction = try databaseOnly(db).beginTransaction(readOnly: flags & Int32(CAIRN_TXN_READ_ONLY) != 0)
        out.pointee = try HandleTable.shared.register(transaction)
        return .ok
    }
}

@c @implementation
public func cairn_txn_commit(_ txn: OpaquePointer!, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        _ = try HandleTable.shared.object(txn, as: Transaction.self, "transaction")
        guard let transaction = HandleTable.shared.remove(txn, as: Transaction.self) else {
            throw CairnError(.closed, "the transaction handle is closed")
        }
        try transaction.commit()
        return .ok
    }
}

@c @implementation
public func cairn_txn_rollback(_ txn: OpaquePointer!) -> Int32 {
    HandleTable.shared.remove(txn, as: Transaction.self)?.rollback()
    return StatusCode.ok.rawValue
}
