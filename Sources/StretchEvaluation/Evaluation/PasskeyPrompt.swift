import Stretch

/// The Landmark-Attention passkey prompt (SELF_EXTEND.md §4), as used by the paper and llama.cpp.
///
/// Lines joined by `\n`: the task line, ``fillerCount`` filler lines with the key line inserted after
/// `round(depth × fillerCount)` of them, and the question, which ends in a space so the next tokens
/// the model writes are the key.
public struct PasskeyPrompt: Sendable, Equatable {
    /// The task description line.
    public static let prefix =
        "There is an important info hidden inside a lot of irrelevant text. "
        + "Find it and memorize it. I will quiz you about the important information there."
    /// One filler line.
    public static let filler =
        "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
    /// The closing question; greedy decoding continues right after it.
    public static let question = "What is the pass key? The pass key is "

    /// The line that hides `key`.
    public static func keyLine(_ key: Int) -> String { "The pass key is \(key). Remember it. \(key) is the pass key." }

    /// Number of filler lines.
    public let fillerCount: Int
    /// Relative depth of the key line in the filler: 0 = right after the task line, 1 = right before the question.
    public let depth: Double
    /// The pass key.
    public let key: Int

    /// Creates a prompt; `depth` must be in 0…1.
    public init(fillerCount: Int, depth: Double, key: Int) throws {
        guard fillerCount >= 0 else {
            throw EvaluationError.invalidSetting(
                name: "filler count", value: "\(fillerCount)", requirement: "must be ≥ 0")
        }
        guard depth >= 0, depth <= 1 else {
            throw EvaluationError.invalidSetting(
                name: "depth", value: "\(depth)",
                requirement: "must be between 0 (start) and 1 (end), e.g. 0,0.25,0.5,0.75,1")
        }
        self.fillerCount = fillerCount
        self.depth = depth
        self.key = key
    }

    /// Filler lines before the key line.
    public var fillerBeforeKey: Int { Int((depth * Double(fillerCount)).rounded()) }

    /// The full prompt text.
    public var text: String {
        var lines = [Self.prefix]
        lines += Array(repeating: Self.filler, count: fillerBeforeKey)
        lines.append(Self.keyLine(key))
        lines += Array(repeating: Self.filler, count: fillerCount - fillerBeforeKey)
        lines.append(Self.question)
        return lines.joined(separator: "\n")
    }

    /// The longest prompt whose token count (by `count`, which should include BOS if the model adds one)
    /// is at most `length`.
    ///
    /// - Throws: ``EvaluationError/invalidSetting(name:value:requirement:)`` when even a prompt without filler is longer.
    public static func fitting(length: Int, depth: Double, key: Int, count: (String) -> Int) throws -> PasskeyPrompt {
        let bare = try PasskeyPrompt(fillerCount: 0, depth: depth, key: key)
        let bareTokens = count(bare.text)
        guard bareTokens <= length else {
            throw EvaluationError.invalidSetting(
                name: "passkey length", value: "\(length)",
                requirement: "the prompt without filler already has \(bareTokens) tokens; use lengths ≥ \(bareTokens)")
        }
        // Token counts grow with the filler count: find the largest that fits by doubling, then bisection.
        var lo = 0
        var hi = 1
        while count(try PasskeyPrompt(fillerCount: hi, depth: depth, key: key).text) <= length {
            lo = hi
            hi *= 2
        }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if count(try PasskeyPrompt(fillerCount: mid, depth: depth, key: key).text) <= length {
                lo = mid
            } else {
                hi = mid
            }
        }
        return try PasskeyPrompt(fillerCount: lo, depth: depth, key: key)
    }
}
