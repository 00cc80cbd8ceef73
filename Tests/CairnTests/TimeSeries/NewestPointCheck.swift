import XCTest
@testable import Cairn

/// Checks the newest point of each series in `ids` that
/// `cairn_ts_last`'s query `{"metric": metric, "as_of": asOf}` returns
/// against `model` (series id to time to value), and that every row
/// carries `tagCount` tags when given.
func checkNewestPoints(_ db: Database, metric: String, asOf: Int64, ids: [UInt64], model: [UInt64: [Int64: Double]],
                       tagCount: Int? = nil, _ what: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
    let query = asOf == TimeSeriesFormat.maxTime ? "{\"metric\":\"\(metric)\"}" : "{\"metric\":\"\(metric)\",\"as_of\":\(asOf)}"
    let cursor = try Array(query.utf8).withUnsafeBytes { try db.timeSeriesLast(queryJSON: $0) }
    var got: [UInt64: (Int64, Double)] = [:]
    while try cursor.next() {
        guard case .object(let members) = try JSONValue.parse(cursor.json) else { XCTFail("row is not an object", file: file, line: line); continue }
        let row = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard case .int(let id)? = row["id"], case .int(let t)? = row["t"] else { XCTFail("row without id or t", file: file, line: line); continue }
        let v: Double
        switch row["v"] { case .double(let d)?: v = d; case .int(let n)?: v = Double(n); default: v = .nan }
        got[UInt64(id)] = (t, v)
        if let tagCount {
            if case .object(let tags)? = row["tags"] { XCTAssertEqual(tags.count, tagCount, file: file, line: line) } else { XCTFail("row without tags", file: file, line: line) }
        }
    }
    for id in ids {
        let newest = (model[id] ?? [:]).filter { $0.key <= asOf }.max { $0.key < $1.key }
        XCTAssertEqual(got[id]?.0, newest?.key, "\(what)series \(id) as of \(asOf)", file: file, line: line)
        XCTAssertEqual(got[id]?.1, newest?.value, "\(what)series \(id) as of \(asOf)", file: file, line: line)
    }
}
