// swift-tools-version: 6.0
// Stretch: a Swift LLM inference engine for running RoPE models past their trained context.
//
// CPU flags: the manifest sets none, so the library stays usable as a dependency. Release builds get
// their vector ISA from `scripts/swift-flags.sh` (see docs/DESIGN.md, "CPU flags").
// Checks beyond the tests: `scripts/test.sh --sanitize address|thread`, `scripts/fuzz.sh` (Fuzz/, a package of
// its own) and `--check-tensors` (docs/DESIGN.md, "Untrusted input").
import PackageDescription

let package = Package(
    name: "Stretch",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Stretch", targets: ["Stretch"]),
        .library(name: "StretchEvaluation", targets: ["StretchEvaluation"]),
        // The server as a library: the fuzz targets (Fuzz/) decode request bodies with it.
        .library(name: "StretchServer", targets: ["StretchServer"]),
        .executable(name: "stretch", targets: ["StretchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // Integer dot kernels in C (vpmaddubsw / vpdpbusd, which Swift cannot emit); per-function target
        // attributes and run-time dispatch, no flags here (docs/DESIGN.md, "Kernels").
        .target(name: "StretchKernelsC"),
        .target(name: "Stretch", dependencies: ["StretchKernelsC"]),
        // Perplexity, passkey and speed runs, their reports and SVG plots; the engine does not depend on it.
        .target(name: "StretchEvaluation", dependencies: ["Stretch"]),
        // `stretch serve`: the OpenAI-compatible HTTP server (Hummingbird), its slots, queue and metrics.
        .target(
            name: "StretchServer",
            dependencies: [
                "Stretch", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "StretchCLI",
            dependencies: [
                "Stretch",
                "StretchEvaluation",
                "StretchServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The README's "Use it from Swift" example; the tests build and run it.
        .executableTarget(name: "ChatExample", dependencies: ["Stretch"], path: "Examples/ChatExample"),
        .testTarget(
            name: "StretchTests", dependencies: ["Stretch", "StretchEvaluation", "StretchCLI", "StretchServer", "StretchKernelsC", "ChatExample"],
            exclude: ["Attention/Fixtures", "Chat/Fixtures", "Model/Fixtures", "Positions/Fixtures", "Tensors/Fixtures", "Tokenizer/Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
