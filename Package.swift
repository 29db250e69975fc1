// swift-tools-version: 6.2
import PackageDescription

// Products are split by build cost (see docs/architecture.md):
// - `Tipi`: levels 1–3. Depends on swift-log only, so a script that wants a progress bar builds in seconds.
// - `tipi`: the command-line tool.
let package = Package(
    name: "Tipi",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tipi", targets: ["Tipi"]),
        .executable(name: "tipi", targets: ["TipiTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "Tipi",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "TipiCLI",
            dependencies: [
                "Tipi",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "TipiTool", dependencies: ["TipiCLI"]),
        .target(name: "TipiTestSupport", dependencies: ["Tipi"]),
        // A program the tests run as a real process (killed, interrupted, eight at once).
        .executableTarget(name: "TipiFixture", dependencies: ["Tipi"]),
        .testTarget(
            name: "TipiTests",
            dependencies: ["Tipi", "TipiTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "TipiCLITests", dependencies: ["TipiCLI", "TipiTestSupport"], exclude: ["__Snapshots__"]),
        .executableTarget(
            name: "ProgressBenchmark",
            dependencies: ["Tipi"],
            path: "Benchmarks/ProgressBenchmark"
        ),
        .executableTarget(
            name: "TrackingBenchmark",
            dependencies: ["Tipi"],
            path: "Benchmarks/TrackingBenchmark"
        ),
    ]
)
