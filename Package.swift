// swift-tools-version: 6.1
// Tally: a deterministic billing sandbox and the metering pipeline a production service links.
// Licensed under the Apache License, Version 2.0: see LICENSE.
import PackageDescription

let package = Package(
    name: "Tally",
    products: [
        .library(name: "TallyPipeline", targets: ["TallyPipeline"]),
        .library(name: "TallyJSON", targets: ["TallyJSON"]),
        .library(name: "TallySandbox", targets: ["TallySandbox"]),
        .library(name: "TallyGateways", targets: ["TallyGateways"]),
        .executable(name: "tally", targets: ["TallyCLI"]),
        .executable(name: "tally-server", targets: ["TallyServerMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Builds the DocC catalogs of the library modules (`swift package generate-documentation`); see CONTRIBUTING.md.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The service only (tally-server); `swift build --product tally` builds none of these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // `tally replay`'s HTTP client (its own module, TallyReplayClient); no hummingbird in the CLI.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The pipeline a production metering and billing service links: no I/O, no clock.
        .target(name: "TallyPipeline", dependencies: ["TallyJSON", "CIntrinsics"]),
        // C inline functions for CPU instructions Swift cannot spell: prefetch, 128-by-64-bit division.
        .target(name: "CIntrinsics"),
        // Strict JSON that keeps numbers as text, and the canonical writer of golden files.
        .target(name: "TallyJSON"),
        // The project's own seeded PRNG and distributions, pinned by test vectors.
        .target(name: "TallyRandom", dependencies: ["CIntrinsics"]),
        // The system zlib (Debian's zlib1g-dev), for gzip-compressed gateway log envelopes.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Event files as input: Tally's JSON Lines and CSV, and the five gateways' own log records, read and written.
        .target(name: "TallyGateways", dependencies: ["TallyPipeline", "TallyJSON", "CZlib"]),
        // The billing terms of a scenario file read from YAML, with positioned errors: one reader for the
        // sandbox and the service, so a catalog bills alike in both.
        .target(
            name: "TallyCatalogFile",
            dependencies: ["TallyPipeline", .product(name: "Yams", package: "Yams")]
        ),
        // Scenarios, seeded traffic and faults, golden files: the sandbox around the pipeline.
        .target(
            name: "TallySandbox",
            dependencies: [
                "TallyPipeline", "TallyCatalogFile", "TallyJSON", "TallyRandom", "TallyGateways", "CIntrinsics",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The SQLite ledger of runs: events, rejections, dead letters, invoices (keeps SQLite out of the pipeline).
        .target(
            name: "TallyLedger",
            dependencies: ["TallyPipeline", "TallyJSON", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The production ingest and entitlement service: HTTP on hummingbird over the pipeline and the ledger.
        .target(
            name: "TallyServer",
            dependencies: [
                "TallyPipeline",
                "TallyLedger",
                "TallyCatalogFile",
                "TallyJSON",
                "TallyGateways",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .executableTarget(
            name: "TallyServerMain",
            dependencies: ["TallyServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The HTTP client `tally replay` sends batches with: AsyncHTTPClient over kept-alive connections.
        .target(
            name: "TallyReplayClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The HTML report of a run: invoices as a person reads them, usage charts as inline SVG (Mustache templates).
        .target(
            name: "TallyReport",
            dependencies: [
                "TallyPipeline", "TallySandbox", "TallyJSON", .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyPipeline",
                "TallySandbox",
                "TallyCatalogFile",
                "TallyLedger",
                "TallyReport",
                "TallyGateways",
                "TallyReplayClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TallyPipelineTests", dependencies: ["TallyPipeline"]),
        .testTarget(name: "TallyJSONTests", dependencies: ["TallyJSON"]),
        .testTarget(name: "TallyRandomTests", dependencies: ["TallyRandom"]),
        .testTarget(name: "TallyGatewaysTests", dependencies: ["TallyGateways", "TallyPipeline", "TallyJSON"]),
        .testTarget(
            name: "TallyLedgerTests", dependencies: ["TallyLedger", "TallySandbox", "TallyPipeline", "TallyJSON"]),
        .testTarget(
            name: "TallyReportTests", dependencies: ["TallyReport", "TallySandbox", "TallyPipeline", "TallyJSON"]),
        .testTarget(
            name: "TallyServerTests",
            dependencies: ["TallyServer", "TallyLedger", "TallyPipeline", "TallyJSON"]
        ),
        .testTarget(
            name: "TallySandboxTests",
            dependencies: ["TallySandbox", "TallyCatalogFile", "TallyPipeline", "TallyJSON", "TallyRandom"],
            exclude: ["BrokenScenarios"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
