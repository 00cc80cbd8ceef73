import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Operating a database: checkpoints, verification, secondaries catching up,
// and backups (Database+Operations.swift in the core).

/// A NUL-terminated path argument, INVALID_ARGUMENT naming it when NULL or
/// empty.
private func path(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let pointer else { throw CairnError(.invalidArgument, "\(what) is NULL") }
    let text = String(cString: pointer)
    guard !text.isEmpty else { throw CairnError(.invalidArgument, "\(what) is empty") }
    return text
}

@c @implementation
public func cairn_checkpoint(_ db: OpaquePointer!, _ dir: UnsafePointer<CChar>!,
                             _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: nil, errmsg) {
        let database = try databaseOnly(db)
        return try database.checkpoint(to: try path(dir, "dir")).json
    }
}

@c @implementation
public func cairn_verify(_ databasePath: UnsafePointer<CChar>!, _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                         _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                         _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: "report", errmsg) {
        let options = try bytes(optionsJSON, optionsLength, "options_json")
        if options.count > 0 {
            guard case .object(let members) = try JSONValue.parse(options, what: "options JSON"), members.isEmpty else {
                throw CairnError(.invalidArgument, "cairn_verify takes no options yet: pass NULL or {}")
            }
        }
        return try Database.verify(path: try path(databasePath, "path")).json
    }
}

@c @implementation
public func cairn_verify_live(_ db: OpaquePointer!, _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!,
                              _ reportLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: "report", errmsg) {
        try databaseOnly(db).verify().json
    }
}

@c @implementation
public func cairn_catch_up(_ db: OpaquePointer!, _ sequence: UnsafeMutablePointer<UInt64>!,
                           _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let visible = try databaseOnly(db).catchUp()
        sequence?.pointee = visible
        return .ok
    }
}

@c @implementation
public func cairn_backup_create(_ db: OpaquePointer!, _ backupDir: UnsafePointer<CChar>!,
                                _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: nil, errmsg) {
        let database = try databaseOnly(db)
        return try BackupDirectory(path: try path(backupDir, "backup_dir")).create(from: database).json
    }
}

@c @implementation
public func cairn_backup_list(_ backupDir: UnsafePointer<CChar>!, _ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!,
                              _ listLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(list, listLength, required: "list", errmsg) {
        try BackupDirectory(path: try path(backupDir, "backup_dir")).listJSON()
    }
}

@c @implementation
public func cairn_backup_verify(_ backupDir: UnsafePointer<CChar>!, _ backupID: UInt64,
                                _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: "report", errmsg) {
        try BackupDirectory(path: try path(backupDir, "backup_dir")).verify(id: backupID).json
    }
}

@c @implementation
public func cairn_backup_restore(_ backupDir: UnsafePointer<CChar>!, _ backupID: UInt64, _ targetDir: UnsafePointer<CChar>!,
                                 _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let backups = BackupDirectory(path: try path(backupDir, "backup_dir"))
        try backups.restore(id: backupID, to: try path(targetDir, "target_dir"))
        return .ok
    }
}

@c @implementation
public func cairn_backup_purge(_ backupDir: UnsafePointer<CChar>!, _ keep: UInt32,
                               _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: nil, errmsg) {
        let backups = BackupDirectory(path: try path(backupDir, "backup_dir"))
        return (keep == UInt32.max ? try backups.garbageCollect() : try backups.purge(keepingNewest: Int(keep))).json
    }
}

@c @implementation
public func cairn_backup_delete(_ backupDir: UnsafePointer<CChar>!, _ backupID: UInt64,
                                _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: nil, errmsg) {
        try BackupDirectory(path: try path(backupDir, "backup_dir")).delete(id: backupID).json
    }
}
