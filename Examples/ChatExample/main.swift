// A chat reply streamed from Swift: load a GGUF, open a session with Self-Extend, stream the answer.
//
//   swift run -c release ChatExample models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf "Why is the sky blue?"
import Stretch

let arguments = CommandLine.arguments.dropFirst()
let path = arguments.first ?? "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
let question = arguments.dropFirst().first ?? "Explain Self-Extend in two sentences."

do {
    let model = try LanguageModel(path: path, options: LoadOptions(threads: 2))
    // Self-Extend: distances beyond W = 1024 are grouped by G = 4, so the context reaches ~4x the trained one.
    let chat = try ChatSession(
        model: model, contextExtension: "self-extend:G=4:W=1024", systemPrompt: "You are a concise assistant.")
    let parameters = GenerationParameters(maxTokens: 128, sampling: SamplingParameters(temperature: 0.7, seed: 42))
    for try await event in chat.respond(to: question, parameters: parameters) {
        if case let .finished(stats) = event {
            print("\n[\(stats.generatedTokens) tokens, \(Int(stats.generationTokensPerSecond)) tokens/s]")
        } else {
            print(event.text, terminator: "")
        }
    }
} catch {
    print("error: \(error)")
}
