// swift-tools-version: 6.1
// Tally's benchmarks, a package of their own so that `swift test` in the repository never builds them.
// Run from this folder: `swift package benchmark` (see README, "Performance").
import PackageDescription

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Tally", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TallyPipeline", package: "Tally"),
                .product(name: "TallySandbox", package: "Tally"),
            ],
            path: "Benchmarks/PipelineBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
