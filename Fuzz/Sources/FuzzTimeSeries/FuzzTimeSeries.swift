// The time-series parsers on any bytes: InfluxDB line protocol (a user's
// import), the JSON of aggregation queries and downsampling rules, and
// stored chunks of every kind and the values of form-3 chunk keys (damaged
// files). Each is INVALID_ARGUMENT or
// CORRUPTION, never a crash. The first byte picks the parser, so one
// corpus covers all of them.
@testable import Cairn
import FuzzSupport

@_cdecl("FuzzTimeSeries_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let bytes = input(data, size)
        guard let selector = bytes.first else { return 0 }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[1...])
        switch selector % 5 {
        case 0:
            for precision in [LineProtocolParser.Precision.ns, .s] {
                _ = try? LineProtocolParser(precision: precision, now: 1_700_000_000_000).parse(rest) { _, _, _, _, _, _ in }
            }
        case 1:
            _ = try? AggregateQuery.parse(rest)
        case 2:
            _ = try? DownsamplingRule.parse(rest)
        default:
            // A chunk of the bucket [lower, upper), read as floats and as integers.
            let lower: Int64 = 1_700_000_000_000 / TimeSeriesFormat.bucketMillis * TimeSeriesFormat.bucketMillis
            let upper = lower + TimeSeriesFormat.bucketMillis
            for isInteger in [false, true] {
                var times: [Int64] = [], values: [UInt64] = []
                _ = try? GorillaChunk.decode(rest, isInteger: isInteger, lower: lower, upper: upper, times: &times, values: &values)
                _ = try? GorillaChunk.lastPoint(rest, lower: lower, upper: upper, isInteger: isInteger)
            }
            // The value of a form-3 chunk key (its chunk's last point).
            _ = try? TimeSeriesFormat.parsePackedApartValue(rest, bucket: lower)
        }
        return 0
    }
}
