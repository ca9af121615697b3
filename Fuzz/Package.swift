// swift-tools-version: 6.0
// libFuzzer targets for Stretch's untrusted-input parsers. Outside the default build: build and run them with
// `scripts/fuzz.sh TARGET SECONDS` (Linux; `-sanitize=fuzzer,address` is passed on the command line so the
// Stretch library itself is instrumented for coverage and ASan, not only the harness).
import PackageDescription

let package = Package(
    name: "StretchFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Stretch", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        // GGUF header, metadata, tensor table, then the model config and tokenizer built from it.
        .executableTarget(name: "FuzzGGUF", dependencies: ["FuzzSupport", .product(name: "Stretch", package: "Stretch")]),
        // Encode arbitrary bytes with a SentencePiece and a byte-level BPE vocabulary; decode the ids back.
        .executableTarget(name: "FuzzTokenizer", dependencies: ["FuzzSupport", .product(name: "Stretch", package: "Stretch")]),
        // Arbitrary Jinja template text rendered over arbitrary messages.
        .executableTarget(name: "FuzzChatTemplate", dependencies: ["FuzzSupport", .product(name: "Stretch", package: "Stretch")]),
        // The server's request-body decoding: JSON parse, then the completion fields.
        .executableTarget(name: "FuzzServerJSON", dependencies: ["FuzzSupport", .product(name: "StretchServer", package: "Stretch")]),
    ],
    swiftLanguageModes: [.v6]
)
