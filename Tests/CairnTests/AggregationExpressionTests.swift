import Foundation
import XCTest
@testable import Cairn

/// Aggregation expressions and stages through the Swift core: the API the
/// query layer shares (Cairn.Expression.parse, evaluate, resolve, isTrue), the
/// update-pipeline helper, calendar math checked against a model, and
/// randomized extremes that must end in a value or INVALID_ARGUMENT, never
/// a trap. The shared conformance cases (docs_aggregate_expressions.json,
/// docs_aggregate_stages.json) cover the operators one by one.
final class AggregationExpressionTests: XCTestCase {
    private func value(_ json: String) throws -> MutableValue {
        let binary = try Array(json.utf8).withUnsafeBytes { try DocumentBuilder.value(fromJSON: $0, what: "test") }
        return try binary.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
    }

    private func json(_ value: MutableValue?) throws -> String {
        guard let value else { return "missing" }
        var out: [UInt8] = []
        let encoded = value.encoded()
        try encoded.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `expression` evaluated on `document`, as JSON ("missing" for nil).
    private func evaluate(_ expression: String, on document: String = "{}") throws -> String {
        try json(try Cairn.Expression.parse(try value(expression), at: "test").evaluate(try value(document)))
    }

    private func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    private func withDatabase(_ body: (Database) throws -> Void) throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try body(db)
    }

    private func aggregate(_ db: Database, _ collection: String, _ pipeline: String) throws -> [String] {
        let cursor = try Array(pipeline.utf8).withUnsafeBytes { try db.aggregate(collection: collection, pipelineJSON: $0) }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        return out
    }

    private func insert(_ db: Database, _ collection: String, _ documents: [String]) throws {
        _ = try Array(("[" + documents.joined(separator: ",") + "]").utf8).withUnsafeBytes { try db.insertMany(into: collection, arrayJSON: $0) }
    }

    // MARK: The shared API

    func testTheSharedParseAndEvaluateAPIKeepsWorking() throws {
        let expression = try Cairn.Expression.parse(try value(#"{"$gt": [{"$add": ["$a", "$b.c"]}, 10]}"#), at: "filter.$expr")
        XCTAssertTrue(Cairn.Expression.isTrue(try expression.evaluate(try value(#"{"a": 6, "b": {"c": 5}}"#))))
        XCTAssertFalse(Cairn.Expression.isTrue(try expression.evaluate(try value(#"{"a": 1, "b": {"c": 5}}"#))))
        XCTAssertEqual(try json(try expression.evaluate(PipelineRow.tree(try value(#"{"a": 20}"#)))), "false")  // null + 20 is null
        XCTAssertEqual(try json(Cairn.Expression.resolve(["items", "sku"], in: try value(#"{"items": [{"sku": "x"}, {"sku": "y"}, 3]}"#))), #"["x","y"]"#)
        XCTAssertEqual(try evaluate(#""$$ROOT""#, on: #"{"a": 1}"#), #"{"a":1}"#)
        XCTAssertEqual(try evaluate(#""$$CURRENT.a""#, on: #"{"a": 1}"#), "1")
        XCTAssertEqual(try evaluate(#""$$REMOVE""#), "missing")
        XCTAssertTrue(try evaluate(#"{"$type": "$$NOW"}"#).contains("date"))
        // Unknown variables are refused at parse time, with the path.
        let error = message { _ = try Cairn.Expression.parse(try self.value(#"{"$add": ["$$nope", 1]}"#), at: "filter.$expr") }
        XCTAssertTrue(error.contains("filter.$expr.$add.0") && error.contains("$$nope"), error)
    }

    func testVariablesAreScopedAndShadowed() throws {
        XCTAssertEqual(try evaluate(#"{"$let": {"vars": {"x": 1}, "in": {"$map": {"input": [10, 20], "as": "x", "in": {"$add": ["$$x", 1]}}}}}"#), "[11,21]")
        XCTAssertEqual(try evaluate(#"{"$map": {"input": [[1, 2], [3]], "as": "outer", "in": {"$reduce": {"input": "$$outer", "initialValue": 0, "in": {"$add": ["$$value", "$$this", {"$size": "$$outer"}]}}}}}"#), "[7,4]")
        XCTAssertEqual(try evaluate(#"{"$filter": {"input": "$xs", "cond": {"$gte": ["$$this", "$min"]}}}"#, on: #"{"xs": [1, 5, 3, 8], "min": 4}"#), "[5,8]")
        XCTAssertEqual(message { _ = try self.evaluate(#"{"$map": {"input": [1], "in": "$$value"}}"#) }.contains("$$value"), true)
        XCTAssertEqual(status { _ = try self.evaluate(#"{"$let": {"vars": {"CURRENT": 1}, "in": 1}}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.evaluate(#"{"$let": {"vars": {"_x": 1}, "in": 1}}"#) }, .invalidArgument)
        // Lazy branches: the division by zero is never evaluated.
        XCTAssertEqual(try evaluate(#"{"$cond": [{"$eq": ["$n", 0]}, "none", {"$divide": [1, "$n"]}]}"#, on: #"{"n": 0}"#), #""none""#)
        XCTAssertEqual(try evaluate(#"{"$and": [false, {"$divide": [1, 0]}]}"#), "false")
    }

    // MARK: Dates

    /// CivilTime against ISO8601 (the encoder's own calendar) for random
    /// instants over years 0 to 9999, and days-from-civil round trips.
    func testCivilTimeAgreesWithTheISO8601Encoder() throws {
        var random = SeededRandom(seed: 0xC1_F11)
        let low: Int64 = -62_167_219_200_000, high: Int64 = 253_402_300_799_999  // 0000-01-01 .. 9999-12-31
        for _ in 0..<20_000 {
            let ms = Int64.random(in: low...high, using: &random)
            let expected = ISO8601.string(milliseconds: ms)
            let written = try DateFormat.string(ms, offset: 0, format: DateFormat.defaultFormat, "test")
            XCTAssertEqual(written, expected, "\(ms)")
            let time = CivilTime(milliseconds: ms)
            XCTAssertEqual(time.milliseconds, ms)
            XCTAssertEqual(ISO8601.milliseconds(written), ms)
            let (y, m, d) = CivilTime.civil(fromDays: time.days)
            XCTAssertEqual([y, Int64(m), Int64(d)], [time.year, Int64(time.month), Int64(time.day)])
            XCTAssertTrue((1...7).contains(time.dayOfWeek) && (1...366).contains(time.dayOfYear) && (0...53).contains(time.week))
            let iso = time.isoWeekAndYear
            XCTAssertTrue((1...53).contains(iso.week) && abs(iso.year - time.year) <= 1)
        }
        // Every Int64 has a civil form, and the ends of the range are known.
        XCTAssertEqual(CivilTime(milliseconds: .max).year, 292_278_994)
        XCTAssertEqual(CivilTime(milliseconds: .min).year, -292_275_055)
    }

    /// Random units, amounts and dates, the extremes included: every call
    /// ends in a date or INVALID_ARGUMENT, and adding then subtracting a
    /// fixed unit comes back.
    func testDateArithmeticNeverTraps() throws {
        var random = SeededRandom(seed: 0xDA7E)
        let units: [Cairn.Expression.DateUnit] = [.year, .quarter, .month, .week, .day, .hour, .minute, .second, .millisecond]
        let specials: [Int64] = [.min, .max, .min + 1, .max - 1, 0, 1, -1, 400_000_000, -400_000_000, 1 << 40]
        for round in 0..<20_000 {
            let start = round % 3 == 0 ? specials[Int.random(in: 0..<specials.count, using: &random)] : Int64.random(in: -1 << 45...1 << 45, using: &random)
            let amount = round % 2 == 0 ? specials[Int.random(in: 0..<specials.count, using: &random)] : Int64.random(in: -100_000...100_000, using: &random)
            let unit = units[Int.random(in: 0..<units.count, using: &random)]
            let offset = Int64.random(in: -23...23, using: &random) * 3_600_000
            do {
                let moved = try Cairn.Expression.add(amount, unit, to: start, offset: offset, "$dateAdd")
                if unit.milliseconds != nil, amount != .min {
                    XCTAssertEqual(try Cairn.Expression.add(-amount, unit, to: moved, offset: offset, "$dateAdd"), start)
                }
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .invalidArgument)
            }
            for check in [
                { _ = try Cairn.Expression.difference(from: start, to: amount, unit: unit, offset: offset, startOfWeek: 3) },
                { _ = try Cairn.Expression.truncate(start, unit: unit, binSize: Swift.max(1, amount), offset: offset, startOfWeek: 1) },
                { _ = try DateFormat.string(start, offset: offset, format: Array("%Y %j %U %V %G %z %Z".utf8), "$dateToString") },
            ] {
                do { try check() } catch let error as CairnError { XCTAssertEqual(error.code, .invalidArgument) }
            }
        }
        XCTAssertEqual(try Cairn.Expression.add(1, .month, to: try XCTUnwrap(ISO8601.milliseconds("2024-01-31T10:00:00Z")), offset: 0, "$dateAdd"),
                       ISO8601.milliseconds("2024-02-29T10:00:00Z"))
    }

    func testTimeZonesAreFixedOffsetsAndNamedZonesAreRefused() throws {
        XCTAssertEqual(try TimeZoneOffset.milliseconds(Array("+02:00".utf8), "$hour"), 7_200_000)
        XCTAssertEqual(try TimeZoneOffset.milliseconds(Array("-0530".utf8), "$hour"), -19_800_000)
        XCTAssertEqual(try TimeZoneOffset.milliseconds(Array("+07".utf8), "$hour"), 25_200_000)
        XCTAssertEqual(try TimeZoneOffset.milliseconds(Array("UTC".utf8), "$hour"), 0)
        let error = message { _ = try TimeZoneOffset.milliseconds(Array("America/New_York".utf8), "$hour") }
        XCTAssertTrue(error.contains("America/New_York") && error.contains("$hour"), error)
        for bad in ["+2", "+02:0", "+24:00", "02:00", "+02:60", ""] {
            XCTAssertEqual(status { _ = try TimeZoneOffset.milliseconds(Array(bad.utf8), "$hour") }, .invalidArgument, bad)
        }
    }

    // MARK: Randomized extremes

    func testArrayStringAndConversionOperatorsNeverTrap() throws {
        var random = SeededRandom(seed: UInt64(ProcessInfo.processInfo.environment["CAIRN_RANDOM_SEED"] ?? "") ?? 0xA77A)
        let integers: [String] = ["-9223372036854775808", "9223372036854775807", "0", "-1", "1", "3", "-3", "2147483648", "1e30", "-1e30", "2.5", "null", "\"x\"",
                                  "-9.3e18", "1e-300", "-0.0", "\"2021-02-29\"", "\"%Y%j%z\"", "\"+23:59\"", "\"-0000\"", "\"é\"", "\"\"", "[]", "{\"a\": 1}",
                                  "{\"$toDate\": -9223372036854775808}", "{\"$toDate\": 9223372036854775807}", "\"$a\""]
        let operators = [
            #"{"$slice": ["$a", %1]}"#, #"{"$slice": ["$a", %1, %2]}"#, #"{"$arrayElemAt": ["$a", %1]}"#,
            #"{"$indexOfArray": ["$a", 2, %1, %2]}"#, #"{"$range": [%1, %2, %3]}"#, #"{"$substrCP": ["héllo", %1, %2]}"#,
            #"{"$indexOfCP": ["héllo", "l", %1, %2]}"#, #"{"$toInt": %1}"#, #"{"$toLong": %1}"#, #"{"$toDate": %1}"#,
            #"{"$toString": {"$toDate": %1}}"#, #"{"$add": [%1, %2]}"#, #"{"$subtract": [%1, %2]}"#, #"{"$multiply": [%1, %2]}"#,
            #"{"$mod": [%1, %2]}"#, #"{"$abs": %1}"#, #"{"$dateAdd": {"startDate": {"$toDate": 0}, "unit": "day", "amount": %1}}"#,
            #"{"$filter": {"input": "$a", "cond": true, "limit": %1}}"#,
            #"{"$round": [%1, %2]}"#, #"{"$pow": [%1, %2]}"#, #"{"$sum": [%1, %2, "$a"]}"#, #"{"$log": [%1, %2]}"#,
            #"{"$dateToString": {"date": %1, "format": %2, "timezone": %3}}"#, #"{"$dateFromString": {"dateString": %1, "format": %2, "timezone": %3}}"#,
            #"{"$dateTrunc": {"date": %1, "unit": "week", "binSize": %2, "timezone": %3}}"#,
            #"{"$dateDiff": {"startDate": %1, "endDate": %2, "unit": "quarter", "timezone": %3}}"#,
            #"{"$dateSubtract": {"startDate": %1, "unit": "month", "amount": %2, "timezone": %3}}"#,
            #"{"$isoWeek": {"date": %1, "timezone": %2}}"#, #"{"$convert": {"input": %1, "to": %2, "onError": %3}}"#,
            #"{"$split": [%1, %2]}"#, #"{"$trim": {"input": %1, "chars": %2}}"#, #"{"$replaceAll": {"input": %1, "find": %2, "replacement": %3}}"#,
            #"{"$regexFind": {"input": %1, "regex": %2, "options": %3}}"#, #"{"$mergeObjects": [%1, %2]}"#, #"{"$arrayToObject": [[[%1, %2]]]}"#,
            #"{"$objectToArray": %1}"#, #"{"$toString": %1}"#, #"{"$toBool": %1}"#, #"{"$toDouble": %1}"#, #"{"$first": %1}"#,
            #"{"$dateFromParts": {"year": %1, "month": %2, "day": %3, "millisecond": %2}}"#, #"{"$dateFromParts": {"isoWeekYear": %1, "isoWeek": %2, "timezone": %3}}"#,
            #"{"$dateToParts": {"date": %1, "timezone": %2, "iso8601": true}}"#,
            #"{"$setUnion": [%1, %2, "$a"]}"#, #"{"$setIntersection": ["$a", %1]}"#, #"{"$setDifference": [%1, %2]}"#,
            #"{"$setEquals": [%1, %2]}"#, #"{"$setIsSubset": ["$a", %1]}"#, #"{"$allElementsTrue": [%1]}"#, #"{"$strcasecmp": [%1, %2]}"#,
        ]
        // CAIRN_RANDOM_ROUNDS runs a longer campaign.
        let rounds = Int(ProcessInfo.processInfo.environment["CAIRN_RANDOM_ROUNDS"] ?? "") ?? 5_000
        for _ in 0..<rounds {
            var text = operators[Int.random(in: 0..<operators.count, using: &random)]
            for slot in ["%1", "%2", "%3"] {
                text = text.replacingOccurrences(of: slot, with: integers[Int.random(in: 0..<integers.count, using: &random)])
            }
            let code = status { _ = try self.evaluate(text, on: #"{"a": [1, 2, 3, 4]}"#) }
            XCTAssertTrue(code == .ok || code == .invalidArgument, "\(text): \(code)")
        }
    }

    func testHostileAndMalformedRegexesFailWithInvalidArgument() throws {
        let hostile = #"{"$regexFindAll": {"input": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "regex": "(a|aa)+$"}}"#
        let started = DispatchTime.now()
        XCTAssertEqual(status { _ = try self.evaluate(hostile) }, .invalidArgument)
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds, 10_000_000_000)
        XCTAssertEqual(status { _ = try self.evaluate(#"{"$regexMatch": {"input": "a", "regex": "a\u0000"}}"#) }, .invalidArgument)
        let error = message { _ = try self.evaluate(#"{"$regexFind": {"input": "a", "regex": "[z-a]"}}"#) }
        XCTAssertTrue(error.contains("$regexFind"), error)
        // Invalid UTF-8 in the subject cannot reach PCRE2 from JSON; a
        // literal pattern compiles once at parse time.
        guard case .regex(_, _, let compiled) = try Cairn.Expression.parse(try value(#"{"$regexMatch": {"input": "$s", "regex": "^a"}}"#), at: "t") else {
            return XCTFail("not a regex expression")
        }
        XCTAssertNotNil(compiled)
    }

    // MARK: Update pipelines

    func testUpdatePipelinesRunTheReshapingStagesOnOneDocument() throws {
        let pipeline = try Pipeline.parseUpdate(try value(#"""
            [{"$set": {"total": {"$multiply": ["$qty", "$price"]}, "tags": {"$concatArrays": ["$tags", ["new"]]}}},
             {"$unset": "price"},
             {"$addFields": {"qty": "$$REMOVE"}},
             {"$replaceWith": {"$mergeObjects": ["$$ROOT", {"seen": true}]}},
             {"$project": {"tags": 0}}]
            """#), at: "update")
        let result = try pipeline.applyToDocument(try value(#"{"_id": 7, "qty": 3, "price": 2.5, "tags": ["a"]}"#), now: 0)
        XCTAssertEqual(try json(result), #"{"_id":7,"total":7.5,"seen":true}"#)
        let refused = message { _ = try Pipeline.parseUpdate(try self.value(#"[{"$set": {"a": 1}}, {"$group": {"_id": null}}]"#), at: "update") }
        XCTAssertTrue(refused.contains("update.1.$group") && refused.contains("update pipeline supports"), refused)
        XCTAssertEqual(status { _ = try Pipeline.parseUpdate(try self.value(#"{"$set": {"a": 1}}"#), at: "update") }, .invalidArgument)
        let replaced = try Pipeline.parseUpdate(try value(#"[{"$replaceRoot": {"newRoot": "$inner"}}]"#), at: "update")
        XCTAssertEqual(status { _ = try replaced.applyToDocument(try self.value(#"{"inner": 5}"#), now: 0) }, .invalidArgument)
    }

    // MARK: Limits of the gathering stages

    func testGatheringStagesStopAtTheMemoryLimit() throws {
        try withDatabase { db in
            try insert(db, "c", (0..<2000).map { #"{"_id": \#($0), "g": \#($0 % 3), "pad": "\#(String(repeating: "x", count: 100))"}"# })
            db.documents.queryMemoryLimit = 64 << 10
            for pipeline in [
                #"[{"$facet": {"a": []}}]"#,
                #"[{"$bucketAuto": {"groupBy": "$_id", "buckets": 4}}]"#,
                #"[{"$setWindowFields": {"sortBy": {"_id": 1}, "output": {"n": {"$documentNumber": {}}}}}]"#,
                #"[{"$sample": {"size": 1500}}]"#,
                #"[{"$bucket": {"groupBy": "$_id", "boundaries": [0, 5000], "output": {"all": {"$push": "$$ROOT"}}}}]"#,
            ] {
                XCTAssertEqual(status { _ = try self.aggregate(db, "c", pipeline) }, .invalidArgument, pipeline)
            }
            XCTAssertEqual(try aggregate(db, "c", #"[{"$sample": {"size": 10}}, {"$count": "n"}]"#), [#"{"n":10}"#])
            XCTAssertEqual(try aggregate(db, "c", #"[{"$bucket": {"groupBy": "$g", "boundaries": [0, 1, 3]}}]"#),
                           [#"{"_id":0,"count":667}"#, #"{"_id":1,"count":1333}"#])
        }
    }

    /// Reservoir sampling: no document twice in one sample, and every
    /// document about equally often over many samples (300 samples of 3
    /// out of 10: each is expected 90 times; 40...140 is six standard
    /// deviations either way).
    func testSampleIsUniformWithoutRepeats() throws {
        try withDatabase { db in
            try insert(db, "c", (0..<10).map { #"{"_id": \#($0)}"# })
            var counts = Array(repeating: 0, count: 10)
            for _ in 0..<300 {
                let rows = try aggregate(db, "c", #"[{"$sample": {"size": 3}}]"#)
                XCTAssertEqual(rows.count, 3)
                XCTAssertEqual(Set(rows).count, 3, "\(rows)")
                for row in rows {
                    guard let id = Int(row.filter(\.isNumber)) else { return XCTFail(row) }
                    counts[id] += 1
                }
            }
            XCTAssertTrue(counts.allSatisfy { (40...140).contains($0) }, "\(counts)")
        }
    }

    func testFacetOutputObeysTheDocumentLimit() throws {
        try withDatabase { db in
            let big = String(repeating: "y", count: 1 << 20)
            try insert(db, "c", (0..<18).map { #"{"_id": \#($0), "big": "\#(big)"}"# })
            let error = message { _ = try self.aggregate(db, "c", #"[{"$facet": {"all": []}}]"#) }
            XCTAssertTrue(error.contains("$facet") && error.contains("16 MiB"), error)
            XCTAssertEqual(try aggregate(db, "c", #"[{"$facet": {"n": [{"$count": "n"}]}}]"#), [#"{"n":[{"n":18}]}"#])
        }
    }

    func testSlidingWindowWorkIsCapped() throws {
        try withDatabase { db in
            try insert(db, "c", (0..<12_000).map { #"{"_id": \#($0), "v": 1}"# })
            // 12,000 windows of up to 8,001 documents: about 96 million steps.
            let sliding = #"[{"$setWindowFields": {"sortBy": {"_id": 1}, "output": {"s": {"$sum": "$v", "window": {"documents": [-4000, 4000]}}}}}]"#
            XCTAssertEqual(status { _ = try self.aggregate(db, "c", sliding) }, .invalidArgument)
            // Windows from the partition's start are incremental, whatever their size.
            let running = #"[{"$setWindowFields": {"sortBy": {"_id": 1}, "output": {"s": {"$sum": "$v", "window": {"documents": ["unbounded", "current"]}}}}}, {"$skip": 11999}]"#
            XCTAssertEqual(try aggregate(db, "c", running), [#"{"_id":11999,"v":1,"s":12000}"#])
        }
    }

    /// Every committed input of the FuzzPipeline corpus, on the fuzz
    /// target's collections, plus random pipelines of the new stages and
    /// operators with hostile arguments: each ends in rows or an error
    /// status, never a trap (a trap would abort the test process).
    func testFuzzCorpusAndRandomPipelinesNeverTrap() throws {
        try withDatabase { db in
            try insert(db, "people", [
                #"{"_id": 1, "name": "ann", "age": 30, "tags": ["a", "b"], "city": "Oslo"}"#,
                #"{"_id": 2, "name": "bob", "age": -9223372036854775808, "tags": [], "when": {"$date": 0}}"#,
                #"{"_id": 3, "name": "cy", "age": 1.5, "tags": [[1, 2], {"x": null}], "city": null}"#,
                #"{"_id": 4, "s": "héllo", "n": 9223372036854775807}"#,
            ])
            try insert(db, "cities", [#"{"_id": "Oslo", "country": "NO"}"#, #"{"_id": "Rome", "country": "IT"}"#])
            var succeeded = 0
            func run(_ bytes: [UInt8]) {
                let code = status {
                    let cursor = try bytes.withUnsafeBytes { try db.aggregate(collection: "people", pipelineJSON: $0) }
                    var rows = 0
                    while rows < 1000, try cursor.next() { rows += 1 }
                }
                if code == .ok { succeeded += 1 }
            }
            let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/corpus/FuzzPipeline").standardized.path
            let files = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
            XCTAssertGreaterThan(files.count, 100, "the FuzzPipeline corpus at \(corpus)")
            for file in files {
                if let data = FileManager.default.contents(atPath: corpus + "/" + file) { run(Array(data)) }
            }
            succeeded = 0
            var random = SeededRandom(seed: UInt64(ProcessInfo.processInfo.environment["CAIRN_RANDOM_SEED"] ?? "") ?? 0xF0_22)
            let values = ["-9223372036854775808", "9223372036854775807", "0", "-1", "2", "1e300", "null", "\"$age\"", "\"$tags\"",
                          "\"$when\"", "\"$s\"", "\"$$ROOT\"", "[]", "{}", "\"day\"", "\"+99:00\""]
            let templates = [
                #"[{"$project": {"v": {"$dateAdd": {"startDate": "$when", "unit": %S, "amount": %1}}}}]"#,
                #"[{"$project": {"v": {"$dateTrunc": {"date": %1, "unit": %S, "binSize": %2}}}}]"#,
                #"[{"$project": {"v": {"$dateDiff": {"startDate": {"$toDate": %1}, "endDate": {"$toDate": %2}, "unit": %S}}}}]"#,
                #"[{"$project": {"v": {"$dateToString": {"date": {"$toDate": %1}, "format": "%G-%V-%u %j %U", "timezone": %2}}}}]"#,
                #"[{"$project": {"v": {"$slice": [%1, %2, %3]}}}]"#,
                #"[{"$project": {"v": {"$range": [%1, %2, %3]}}}]"#,
                #"[{"$project": {"v": {"$map": {"input": %1, "in": {"$range": [0, %2]}}}}}]"#,
                #"[{"$project": {"v": {"$reduce": {"input": {"$range": [0, 30]}, "initialValue": %1, "in": {"$concatArrays": [["$$this"], "$$value", "$$value"]}}}}}]"#,
                #"[{"$project": {"v": {"$convert": {"input": %1, "to": %S, "onError": %2}}}}]"#,
                #"[{"$bucket": {"groupBy": %1, "boundaries": [%2, %3], "default": "x"}}]"#,
                #"[{"$bucketAuto": {"groupBy": %1, "buckets": %2}}]"#,
                #"[{"$setWindowFields": {"sortBy": {"age": 1}, "output": {"v": {"$sum": %1, "window": {"documents": [%2, %3]}}}}}]"#,
                #"[{"$setWindowFields": {"sortBy": {"age": -1}, "output": {"v": {"$push": %1, "window": {"range": [%2, %3]}}}}}]"#,
                #"[{"$setWindowFields": {"partitionBy": %1, "sortBy": {"_id": 1}, "output": {"v": {"$shift": {"output": %2, "by": %3}}}}}]"#,
                #"[{"$facet": {"a": [{"$sample": {"size": 2}}], "b": [{"$replaceWith": {"$mergeObjects": [%1, {"k": %2}]}}]}}]"#,
                #"[{"$lookup": {"from": "cities", "let": {"c": %1}, "pipeline": [{"$match": {"$expr": {"$eq": ["$_id", "$$c"]}}}, {"$unionWith": "people"}], "as": "x"}}]"#,
                #"[{"$project": {"v": {"$regexFindAll": {"input": %1, "regex": "(a|aa)*b?"}}}}]"#,
                #"[{"$project": {"v": {"$replaceAll": {"input": {"$toString": %1}, "find": "", "replacement": {"$toString": %2}}}}}]"#,
            ]
            let units = ["\"year\"", "\"quarter\"", "\"month\"", "\"week\"", "\"day\"", "\"hour\"", "\"millisecond\"", "\"long\"", "\"int\"", "\"date\"", "\"string\""]
            for _ in 0..<(Int(ProcessInfo.processInfo.environment["CAIRN_RANDOM_ROUNDS"] ?? "") ?? 3_000) {
                var text = templates[Int.random(in: 0..<templates.count, using: &random)]
                text = text.replacingOccurrences(of: "%S", with: units[Int.random(in: 0..<units.count, using: &random)])
                for slot in ["%1", "%2", "%3"] {
                    text = text.replacingOccurrences(of: slot, with: values[Int.random(in: 0..<values.count, using: &random)])
                }
                run(Array(text.utf8))
            }
            // The templates are valid: a good share of the runs give rows.
            XCTAssertGreaterThan(succeeded, 500)
        }
    }

    /// A debugging aid kept as a test: each failing pipeline's message
    /// names the stage or operator.
    func testErrorsNameTheOperator() throws {
        try withDatabase { db in
            try insert(db, "c", [#"{"_id": 1, "d": {"$date": "2021-03-14T15:09:26.535Z"}, "a": [1, 2]}"#])
            for (pipeline, expected) in [
                (#"[{"$project": {"v": {"$dateAdd": {"startDate": "$d", "unit": "year", "amount": 9223372036854775807}}}}]"#, "$dateAdd"),
                (#"[{"$project": {"v": {"$range": [0, 1000000000]}}}]"#, "$range"),
                (#"[{"$project": {"v": {"$toInt": 1e30}}}]"#, "$toInt"),
                (#"[{"$project": {"v": {"$slice": ["$a", 0, 0]}}}]"#, "$slice"),
                (#"[{"$replaceWith": "$a"}]"#, "$replaceWith"),
                (#"[{"$bucket": {"groupBy": "$_id", "boundaries": [5, 6]}}]"#, "$bucket"),
                (#"[{"$project": {"v": {"$switch": {"branches": [{"case": false, "then": 1}]}}}}]"#, "$switch"),
                (#"[{"$project": {"v": {"$hour": {"date": "$d", "timezone": "Europe/Paris"}}}}]"#, "Europe/Paris"),
            ] {
                let error = message { _ = try self.aggregate(db, "c", pipeline) }
                XCTAssertTrue(error.contains(expected), "\(pipeline): \(error)")
            }
        }
    }
}
