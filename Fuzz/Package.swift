// swift-tools-version:6.2
// Fuzz targets for what parses untrusted bytes (issue: "fuzz what parses").
// A package of its own, so that the main package's builds never see
// libFuzzer: `make fuzz` builds these with -sanitize=fuzzer,address and the
// core with -enable-testing (they reach internal parsers through
// @testable import), and runs each over its committed seed corpus.
import Foundation
import PackageDescription

// A path dependency is identified by its directory's name, which is
// whatever the checkout is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().standardized
let core = Target.Dependency.product(name: "CairnCore", package: root.lastPathComponent.lowercased())

// SwiftPM renames an executable's entry point to <Target>_main and links
// it with --defsym main=...; each target defines that symbol and hands
// control to libFuzzer's driver. lld, because gold fails on these links.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: [core, "FuzzSupport"],
                      swiftSettings: [.unsafeFlags(["-parse-as-library"])],
                      linkerSettings: [.unsafeFlags(["-use-ld=lld"])])
}

let package = Package(
    name: "cairn-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzTarget("FuzzJSON"),
        fuzzTarget("FuzzDocument"),
        fuzzTarget("FuzzFilter"),
        fuzzTarget("FuzzUpdate"),
        fuzzTarget("FuzzPipeline"),
        fuzzTarget("FuzzStorage"),
        fuzzTarget("FuzzSearch"),
        fuzzTarget("FuzzTimeSeries"),
    ]
)
