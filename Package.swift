// swift-tools-version:6.2
// Cairn: an embeddable multi-model database engine.
//
// The product `cairn` is the self-contained shared library libcairn.so. Build
// it with `swift build -c release -Xswiftc -static-stdlib --product cairn`
// (the Makefile's `make lib`), so that it carries the Swift runtime inside.
//
// The product `cairn-tool` is the `cairn` command-line tool (shell, one-shot
// commands, import/export, stats), built by `make tool` and installed as
// `cairn`. Only it uses swift-argument-parser; the library stays free of it.
import PackageDescription

let exportsMap = Context.packageDirectory + "/Sources/CairnABI/exports.map"

let package = Package(
    name: "cairn",
    products: [
        .library(name: "cairn", type: .dynamic, targets: ["CairnABI"]),
        // The Swift core itself, for the fuzz targets in Fuzz/ (their own
        // package, built with -sanitize=fuzzer by `make fuzz`).
        .library(name: "CairnCore", targets: ["Cairn"]),
        .executable(name: "cairn-tool", targets: ["CairnTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The public C header, imported so the compiler checks every
        // `@c @implementation` against its declaration.
        .systemLibrary(name: "CCairn", path: "Sources/CCairn"),
        // Compression libraries of the system, for table blocks.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // PCRE2 for the $regex query operator (MongoDB's regex dialect).
        .systemLibrary(name: "CPCRE2", path: "Sources/CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // Snowball stemmers for full-text search's analyzers.
        .systemLibrary(name: "CStemmer", path: "Sources/CStemmer", providers: [.apt(["libstemmer-dev"])]),
        // C helpers of the core (hardware CRC-32C); internal, never exported.
        .target(name: "CCairnSupport", path: "Sources/CCairnSupport"),
        // The engine: storage, key-value, encodings. Usable directly from Swift.
        .target(
            name: "Cairn",
            dependencies: ["CZstd", "CLZ4", "CPCRE2", "CStemmer", "CCairnSupport"],
            path: "Sources/Cairn",
            swiftSettings: [
                // Dynamic exclusivity checks cost 8% of a seek in a profile;
                // the engine's shared state is guarded by locks instead.
                .unsafeFlags(["-enforce-exclusivity=unchecked"]),
            ]
        ),
        // The C ABI: argument conversion, handles and status codes only.
        .target(
            name: "CairnABI",
            dependencies: ["CCairn", "Cairn"],
            path: "Sources/CairnABI",
            exclude: ["exports.map"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])],
            linkerSettings: [
                // Export only the cairn_* functions of include/cairn.h.
                .unsafeFlags(["-Xlinker", "--version-script=\(exportsMap)"]),
                // The SONAME: libcairn.so.<CAIRN_VERSION_MAJOR>. Programs record
                // it in DT_NEEDED; `make lib` and `cmake --install` install
                // libcairn.so.0.x.y with the libcairn.so.0 and libcairn.so
                // links. scripts/check-exports.sh checks it against the header.
                .unsafeFlags(["-Xlinker", "-soname=libcairn.so.0"]),
            ]
        ),
        // libedit's readline interface, for the shell's line editing and history.
        .systemLibrary(name: "CEdit", path: "Sources/CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // The `cairn` tool: it formats what the core's public API returns.
        .executableTarget(
            name: "CairnTool",
            // CCairn for the header's version macros only (nothing of libcairn.so is linked).
            dependencies: ["Cairn", "CCairn", "CEdit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/CairnTool"
        ),
        .testTarget(
            name: "CairnTests",
            dependencies: ["Cairn"],
            path: "Tests/CairnTests"
        ),
    ]
)
