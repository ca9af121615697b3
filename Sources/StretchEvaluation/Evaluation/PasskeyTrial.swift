import Stretch

/// One passkey retrieval: the prompt, what the model wrote greedily, and whether it recalled the key.
public struct PasskeyTrial: Sendable {
    /// Requested prompt length in tokens.
    public let length: Int
    /// Requested key depth (0…1).
    public let depth: Double
    /// The hidden key.
    public let key: Int
    /// Actual prompt tokens (≤ length).
    public let promptTokens: Int
    /// Decoded greedy continuation.
    public let output: String
    /// The key read from the output (first run of digits), if any.
    public let extracted: Int?

    /// Creates a trial record.
    public init(length: Int, depth: Double, key: Int, promptTokens: Int, output: String) {
        self.length = length
        self.depth = depth
        self.key = key
        self.promptTokens = promptTokens
        self.output = output
        extracted = Self.extractKey(from: output)
    }

    /// Whether the model recalled the key.
    public var correct: Bool { extracted == key }

    /// The first run of ASCII digits in `output` (after optional spaces or other text), or nil.
    ///
    /// `" 12345. Remember it."` → 12345; `"is 0123"` → 123; `"no idea"` → nil. Runs too long for an `Int` are nil.
    public static func extractKey(from output: String) -> Int? {
        var digits = ""
        for c in output.unicodeScalars {
            if c.value >= 48 && c.value <= 57 {
                digits.unicodeScalars.append(c)
            } else if !digits.isEmpty {
                break
            }
        }
        return digits.isEmpty || digits.count > 18 ? nil : Int(digits)
    }

    /// Whether decoding can stop: a digit run has started and ended, or the output already holds
    /// more than `keyDigits` digits in a row.
    public static func isComplete(_ output: String, keyDigits: Int = 5) -> Bool {
        var run = 0
        var seen = false
        for c in output.unicodeScalars {
            if c.value >= 48 && c.value <= 57 {
                run += 1
                seen = true
                if run > keyDigits { return true }
            } else if seen {
                return true
            }
        }
        return false
    }

    /// Runs one trial: prefill `prompt` under `positions`, then greedy-decode up to `maxNewTokens` tokens.
    ///
    /// Decoding stops early at an end-of-generation token or once a complete number has been written.
    public static func run(
        model: LlamaModel, tokenizer: Tokenizer, positions: PositionMap, promptTokens: [Int], length: Int,
        depth: Double, key: Int, maxNewTokens: Int = 10
    ) throws -> PasskeyTrial {
        let cache = try model.makeCache(maxTokens: promptTokens.count + maxNewTokens, positions: positions)
        var logits = try model.forward(promptTokens, cache: cache, logits: .last)
        var generated: [Int] = []
        while generated.count < maxNewTokens {
            let next = logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, $0.count) }
            if tokenizer.isEndOfGeneration(next) { break }
            generated.append(next)
            if isComplete(tokenizer.decode(generated)) || generated.count == maxNewTokens { break }
            logits = try model.forward([next], cache: cache, logits: .last)
        }
        return PasskeyTrial(
            length: length, depth: depth, key: key, promptTokens: promptTokens.count,
            output: tokenizer.decode(generated))
    }
}
