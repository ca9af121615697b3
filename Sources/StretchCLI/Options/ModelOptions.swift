import ArgumentParser
import Foundation
import Stretch

/// Which model to load and how to run it: shared by every subcommand.
struct ModelOptions: ParsableArguments {
    static let defaultModel = "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    @Option(name: [.customShort("m"), .customLong("model")],
            help: "Path to a GGUF model (default: $STRETCH_MODEL or \(defaultModel)).")
    var model: String?

    @Option(name: [.customShort("t"), .customLong("threads")], help: "Number of threads (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("precision"),
            help: "auto: fastest supported path; f32: float32 activations, accumulation and KV cache end to end.")
    var precision: ComputePrecision = .auto

    @Option(name: [.customLong("cache-type-k"), .customLong("ctk", withSingleDash: true)],
            help: "KV cache key type: f32, f16, q8_0 or q4_0 (default: f16, or f32 with --precision f32).")
    var cacheTypeK: KVElementType?

    @Option(name: [.customLong("cache-type-v"), .customLong("ctv", withSingleDash: true)],
            help: "KV cache value type: f32, f16, q8_0 or q4_0 (default: f16, or f32 with --precision f32).")
    var cacheTypeV: KVElementType?

    @Option(name: [.customShort("b"), .customLong("batch-size")], help: "Tokens per forward pass during prefill.")
    var batchSize: Int = 256

    @Flag(name: .customLong("kv-full-history"),
          help: "Keep every token's keys and values (no KV rings for Self-Extend's near keys and sliding-window layers): prefix reuse can branch anywhere, for more memory.")
    var kvFullHistory = false

    @Flag(name: .customLong("check-tensors"),
          help: "Scan every weight for NaN and infinity while loading; name the first bad tensor.")
    var checkTensors = false

    var modelPath: String {
        model ?? ProcessInfo.processInfo.environment["STRETCH_MODEL"] ?? Self.defaultModel
    }

    /// The library's load options these flags describe.
    var loadOptions: LoadOptions {
        LoadOptions(
            threads: threads, batchSize: batchSize, precision: precision, kvKeyType: cacheTypeK, kvValueType: cacheTypeV,
            checksTensors: checkTensors, keepsFullKVHistory: kvFullHistory)
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("-t/--threads must be at least 1 (got \(threads))") }
        if precision == .f32, let t = [cacheTypeK, cacheTypeV].compactMap({ $0 }).first(where: { $0 != .f32 }) {
            throw ValidationError("--precision f32 keeps the KV cache in f32; drop --cache-type-k/-v \(t.rawValue) or use --precision auto")
        }
        if batchSize < 1 { throw ValidationError("-b/--batch-size must be at least 1 (got \(batchSize))") }
    }

    /// Opens the GGUF, with a hint when the default model is missing.
    func openFile() throws -> GGUFFile {
        let path = modelPath
        if !FileManager.default.fileExists(atPath: path) {
            let hint = model == nil ? " (fetch the default model with: python3 scripts/get_models.py)" : ""
            throw ValidationError("model file not found: \(path)\(hint)")
        }
        return try GGUFFile(path: path)
    }

    /// Loads the network alone (the evaluation commands).
    func loadModel(_ file: GGUFFile) throws -> LlamaModel {
        try LlamaModel(file: file, options: loadOptions)
    }

    /// Opens and loads the model with its tokenizer (the generation and chat commands).
    func loadLanguageModel() throws -> LanguageModel {
        try LanguageModel(file: openFile(), options: loadOptions)
    }
}

extension ComputePrecision: ExpressibleByArgument {}
extension KVElementType: ExpressibleByArgument {}
