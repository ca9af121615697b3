import ArgumentParser
import Stretch

/// Sampling flags with llama.cpp's names and defaults.
struct SamplingOptions: ParsableArguments {
    @Option(name: .customLong("temp"), help: "Temperature; 0 = greedy.") var temperature: Float = 0.8
    @Option(name: .customLong("top-k"), help: "Top-k (0 = off).") var topK: Int = 40
    @Option(name: .customLong("top-p"), help: "Top-p (1 = off).") var topP: Float = 0.95
    @Option(name: .customLong("min-p"), help: "Min-p (0 = off).") var minP: Float = 0.05
    @Option(name: .customLong("repeat-penalty"), help: "Repetition penalty (1 = off).") var repeatPenalty: Float = 1.0
    @Option(name: .customLong("repeat-last-n"), help: "Tokens the repetition penalty looks back (-1 = context).")
    var repeatLastN: Int = 64
    @Option(name: [.customShort("s"), .customLong("seed")], help: "Random seed (-1 = random).") var seed: Int64 = -1

    var parameters: SamplingParameters {
        SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty,
            repetitionWindow: repeatLastN, seed: seed < 0 ? nil : UInt64(seed))
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError(ErrorHints.message(error)) }
    }
}
