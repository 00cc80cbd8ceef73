// Pipeline compile and run on a small collection (and a second one for
// $lookup), through the public API on a real database in a temporary
// directory.
@testable import Cairn
import FuzzSupport

let database: Database? = {
    guard let path = temporaryDatabasePath("pipeline") else { return nil }
    var options = DatabaseOptions()
    options.sync = .never
    guard let db = try? Database.open(path: path, options: options) else { return nil }
    let people = #"[{"_id": 1, "name": "ann", "age": 30, "tags": ["a", "b"], "city": "Oslo"},"#
        + #"{"_id": 2, "name": "bob", "age": -9223372036854775808, "tags": [], "when": {"$date": 0}},"#
        + #"{"_id": 3, "name": "cy", "age": 1.5, "tags": [[1, 2], {"x": null}], "city": null},"#
        + #"{"_id": 4, "s": "héllo", "n": 9223372036854775807}]"#
    _ = try? Array(people.utf8).withUnsafeBytes { try db.insertMany(into: "people", arrayJSON: $0) }
    let cities = #"[{"_id": "Oslo", "country": "NO"}, {"_id": "Rome", "country": "IT"}]"#
    _ = try? Array(cities.utf8).withUnsafeBytes { try db.insertMany(into: "cities", arrayJSON: $0) }
    return db
}()

@_cdecl("FuzzPipeline_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let database, let cursor = try? database.aggregate(collection: "people", pipelineJSON: input(data, size)) else { return 0 }
        var rows = 0
        while rows < 1000, (try? cursor.next()) == true { rows += 1 }
        return 0
    }
}
