// Hidden timing helper for kernel work (not the user-facing `stretch bench`): times prefill of
// `-p` tokens and decode of `-n` tokens the way llama-bench's pp/tg tests do (fresh cache, random
// tokens) and prints one line per test. Used by scripts/compare-llama-bench.sh.
import Foundation
import Stretch

var args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}
let path = option("-m", "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
let threads = Int(option("-t", "2"))!
let prompt = Int(option("-p", "512"))!
let generate = Int(option("-n", "128"))!
let repetitions = Int(option("-r", "1"))!
let precision = ComputePrecision(rawValue: option("--precision", "auto"))!

Parallel.usesWorkerPool = !args.contains("--dispatch")
let file = try GGUFFile(path: path)
let model = try LlamaModel(file: file, threads: threads)
model.precision = precision
var rng = SystemRandomNumberGenerator()
let vocab = model.config.vocabularySize

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

for _ in 0..<repetitions {
    if prompt > 0 {
        let tokens = (0..<prompt).map { _ in Int.random(in: 0..<vocab, using: &rng) }
        let cache = model.makeCache(maxTokens: prompt, positions: PlainPositions())
        let s = try seconds { _ = try model.forward(tokens, cache: cache) }
        print(String(format: "stretch pp%d t=%d %@%@: %.2f tok/s", prompt, threads, Parallel.usesWorkerPool ? "" : " dispatch", precision.rawValue, Double(prompt) / s))
    }
    if generate > 0 {
        let cache = model.makeCache(maxTokens: generate + 1, positions: PlainPositions())
        _ = try model.forward([1], cache: cache)  // warm-up token, as llama-bench does
        let s = try seconds {
            for _ in 0..<generate { _ = try model.forward([Int.random(in: 0..<vocab, using: &rng)], cache: cache) }
        }
        print(String(format: "stretch tg%d t=%d %@%@: %.2f tok/s", generate, threads, Parallel.usesWorkerPool ? "" : " dispatch", precision.rawValue, Double(generate) / s))
    }
}
