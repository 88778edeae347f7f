// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tally",
    products: [
        .library(name: "TallyPipeline", targets: ["TallyPipeline"]),
        .library(name: "TallyJSON", targets: ["TallyJSON"]),
        .library(name: "TallySandbox", targets: ["TallySandbox"]),
        .executable(name: "tally", targets: ["TallyCLI"]),
        .executable(name: "tally-server", targets: ["TallyServerMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The service only (tally-server); `swift build --product tally` builds none of these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
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
        // Scenarios, seeded traffic and faults, golden files: the sandbox around the pipeline.
        .target(
            name: "TallySandbox",
            dependencies: ["TallyPipeline", "TallyJSON", "TallyRandom", "CIntrinsics", .product(name: "Yams", package: "Yams")]
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
                "TallyJSON",
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
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyPipeline",
                "TallySandbox",
                "TallyLedger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TallyPipelineTests", dependencies: ["TallyPipeline"]),
        .testTarget(name: "TallyJSONTests", dependencies: ["TallyJSON"]),
        .testTarget(name: "TallyRandomTests", dependencies: ["TallyRandom"]),
        .testTarget(name: "TallyLedgerTests", dependencies: ["TallyLedger", "TallySandbox", "TallyPipeline", "TallyJSON"]),
        .testTarget(
            name: "TallyServerTests",
            dependencies: ["TallyServer", "TallyLedger", "TallyPipeline", "TallyJSON"]
        ),
        .testTarget(
            name: "TallySandboxTests",
            dependencies: ["TallySandbox", "TallyPipeline", "TallyJSON", "TallyRandom"],
            exclude: ["BrokenScenarios"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
