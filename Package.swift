// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tally",
    products: [
        .library(name: "TallyPipeline", targets: ["TallyPipeline"]),
        .library(name: "TallyJSON", targets: ["TallyJSON"]),
        .executable(name: "tally", targets: ["TallyCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The pipeline a production metering and billing service links: no I/O, no clock.
        .target(name: "TallyPipeline", dependencies: ["TallyJSON"]),
        // Strict JSON that keeps numbers as text, and the canonical writer of golden files.
        .target(name: "TallyJSON"),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TallyPipelineTests", dependencies: ["TallyPipeline"]),
        .testTarget(name: "TallyJSONTests", dependencies: ["TallyJSON"]),
    ],
    swiftLanguageModes: [.v6]
)
