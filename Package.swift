// swift-tools-version: 6.2
import CompilerPluginSupport
import PackageDescription

// Products are split by build cost (see docs/architecture.md):
// - `Tipi`: levels 1–3. Depends on swift-log only, so a script that wants a progress bar builds in seconds.
// - `TipiPipeline`: levels 4–5 (the macro, TOML configs, the pipeline). Brings swift-syntax (TOML is read by its own parser).
// - `tipi`: the command-line tool (it builds and runs pipeline projects; it does not link swift-syntax).
// `TIPI_FUZZ=1 swift build --product Fuzz…` (what scripts/fuzz.sh does) instruments the code under test and the
// fuzz targets for libFuzzer, and links libFuzzer's driver (TIPI_FUZZ_RUNTIME: libclang_rt.fuzzer_no_main)
// into the fuzz targets only. SwiftPM's --sanitize=fuzzer would also link libFuzzer's `main` into the macro
// plugin, a host tool with a `main` of its own.
let fuzzing = Context.environment["TIPI_FUZZ"] == "1"
let instrumented: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"]), .define("TIPI_FUZZ")] : []
let fuzzLinking: [LinkerSetting] =
    fuzzing ? [.unsafeFlags([Context.environment["TIPI_FUZZ_RUNTIME"] ?? "libclang_rt.fuzzer_no_main.a"]), .linkedLibrary("stdc++")] : []

let package = Package(
    name: "Tipi",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tipi", targets: ["Tipi"]),
        .library(name: "TipiPipeline", targets: ["TipiPipeline"]),
        .executable(name: "tipi", targets: ["TipiTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
        .package(url: "https://github.com/pointfreeco/swift-macro-testing", from: "0.7.0"),
        // `swift package generate-documentation --target Tipi --warnings-as-errors` (scripts/test.sh): the DocC catalog.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // `tipi ui`'s HTTP server (no SwiftNIO; see docs/architecture.md, "The dashboard's server"). Only the
        // `tipi` tool links it, never the `Tipi` library.
    ],
    targets: [
        .target(
            name: "Tipi",
            dependencies: ["CTipiHTTP", "CTipiCRC", .product(name: "Logging", package: "swift-log")],
            swiftSettings: instrumented
        ),
        // The MLflow client's HTTP: libcurl loaded on the first request (dlopen), so that programs linking Tipi
        // do not load libcurl and its TLS libraries at start (FoundationNetworking would). No curl headers needed.
        .target(name: "CTipiHTTP", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // CRC-32C with the processor's instruction (metric log, TensorBoard records), a table where there is none.
        .target(name: "CTipiCRC"),
        .macro(
            name: "TipiMacros",
            dependencies: [
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ]
        ),
        .target(
            name: "TipiPipeline",
            dependencies: [
                "Tipi", "TipiMacros",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: instrumented
        ),
        // The dashboard of `tipi ui` and `tipi report`: HTTP server, routes, downsampling, HTML, bundled assets.
        .target(
            name: "TipiUI",
            dependencies: ["Tipi"],
            resources: [.copy("Assets")]
        ),
        .target(
            name: "TipiCLI",
            dependencies: [
                "Tipi", "TipiUI",
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
        .testTarget(name: "TipiUITests", dependencies: ["TipiUI", "Tipi", "TipiTestSupport"]),
        .testTarget(
            name: "TipiMacrosTests",
            dependencies: ["TipiMacros", .product(name: "MacroTesting", package: "swift-macro-testing")]
        ),
        .testTarget(
            name: "TipiPipelineTests",
            dependencies: ["TipiPipeline", "TipiTestSupport"],
            exclude: ["Configs", "__Snapshots__"]
        ),
        // A pipeline program that uses every form of the macro; the end-to-end tests run it.
        .executableTarget(name: "TipiPipelineFixture", dependencies: ["TipiPipeline"]),
        .executableTarget(
            name: "ProgressBenchmark",
            dependencies: ["Tipi"],
            path: "Benchmarks/ProgressBenchmark"
        ),
        // The five levels, one executable each (Examples/), on a small spiral-classification problem.
        .target(name: "SpiralKit", path: "Examples/SpiralKit"),
        .executableTarget(name: "Level0", dependencies: ["SpiralKit"], path: "Examples/Level0"),
        .executableTarget(name: "Level1", dependencies: ["SpiralKit", "Tipi"], path: "Examples/Level1"),
        .executableTarget(name: "Level2", dependencies: ["SpiralKit", "Tipi"], path: "Examples/Level2"),
        .executableTarget(name: "Level3", dependencies: ["SpiralKit", "Tipi"], path: "Examples/Level3"),
        // The checkpoint pattern of level 2: artifacts saved every few epochs, the latest loaded on start.
        .executableTarget(name: "Checkpoints", dependencies: ["SpiralKit", "Tipi"], path: "Examples/Checkpoints"),
        .executableTarget(name: "Level4", dependencies: ["SpiralKit", "TipiPipeline"], path: "Examples/Level4"),
        .executableTarget(name: "Level5", dependencies: ["SpiralKit", "TipiPipeline"], path: "Examples/Level5", exclude: ["configs"]),
        .executableTarget(
            name: "PipelineBenchmark",
            dependencies: ["TipiPipeline"],
            path: "Benchmarks/PipelineBenchmark"
        ),
        .executableTarget(
            name: "TrackingBenchmark",
            dependencies: ["Tipi"],
            path: "Benchmarks/TrackingBenchmark"
        ),
        // Fuzz targets (libFuzzer, see docs/fuzzing.md): `scripts/fuzz.sh` builds them with TIPI_FUZZ=1; a
        // plain build makes each a replayer of its corpus, which the tests run.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(
            name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/FuzzSupport",
            swiftSettings: fuzzing ? [.define("TIPI_FUZZ")] : []),
        .executableTarget(
            name: "FuzzNvidiaSMI", dependencies: ["Tipi", "FuzzSupport"], path: "Fuzz/FuzzNvidiaSMI",
            swiftSettings: instrumented, linkerSettings: fuzzLinking),
        .executableTarget(
            name: "FuzzMetricLog", dependencies: ["Tipi", "FuzzSupport"], path: "Fuzz/FuzzMetricLog",
            swiftSettings: instrumented, linkerSettings: fuzzLinking),
        .executableTarget(
            name: "FuzzConfig", dependencies: ["TipiPipeline", "FuzzSupport"], path: "Fuzz/FuzzConfig",
            swiftSettings: instrumented, linkerSettings: fuzzLinking),
    ]
)
