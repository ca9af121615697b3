import Foundation

/// STRING ("Why Does the Effective Context Length of LLMs Fall Short?", ICLR 2025): shifted RoPE that
/// keeps well-trained small distances and drops the rarely trained large ones.
///
/// Distances `d < S` are exact; `d ≥ S` map to `d − S + W`, so the largest distances reuse positions
/// from the well-trained middle of the window, with `W` tokens of exact local context kept between
/// the two. Keys stay at their true positions (one key copy); far queries sit at `i − S + W`.
///
/// The authors' code (the STRING repository's `string_for_llama.py`) also multiplies its cos/sin tables
/// by `1 + 0.1·ln 2` ("STRING will make the attention map smooth"), so every logit by its square; kept
/// here, `mscale=0` turns it off. Its prefill counts the key at distance exactly S in both of its merged
/// attentions; its decode (and this map) counts it once, shifted.
public struct StringPositions: PositionMap, Equatable {
    /// Shift S: distances from S on are shifted down (S > W).
    public let shift: Int
    /// Local window W kept below the shifted distances (≥ 0).
    public let localWindow: Int
    /// Whether logits get the official code's factor `(1 + 0.1·ln 2)²`.
    public let temperature: Bool

    /// Creates the map; `0 ≤ W < S`.
    public init(shift: Int, localWindow: Int, temperature: Bool = true) throws {
        guard localWindow >= 0 else {
            throw PositionError.invalidParameter(scheme: "string", parameter: "W (local window)", value: "\(localWindow)", requirement: "must be ≥ 0")
        }
        guard shift > localWindow else {
            throw PositionError.invalidParameter(
                scheme: "string", parameter: "S (shift)", value: "\(shift)",
                requirement: "must be larger than the local window W=\(localWindow)")
        }
        self.shift = shift
        self.localWindow = localWindow
        self.temperature = temperature
    }

    /// `(1 + 0.1·ln 2)²` when ``temperature`` is on, whatever the length (as the official code).
    public func logitTemperature(trainedContext: Int, contextSize: Int) -> Double {
        guard temperature else { return 1 }
        let m = 1 + 0.1 * log(2.0)
        return m * m
    }

    public var window: Int { shift }
    public var farKeysEqualNearKeys: Bool { true }
    public func farQueryPosition(_ i: Int) -> Double { Double(i - shift + localWindow) }
    public func farKeyPosition(_ j: Int) -> Double { Double(j) }

    /// The RoPE distance between query `i` and key `j ≤ i`.
    public func distance(query i: Int, key j: Int) -> Int {
        let d = i - j
        return d < shift ? d : d - shift + localWindow
    }

    /// The last token's distance `N − 1 − S + W` stays ≤ L − 1 up to `N = L + S − W`.
    public func maxSequenceLength(trainedContext: Int) -> Int? { trainedContext + shift - localWindow }

    /// Checks `S < L`.
    public func validate(trainedContext: Int) throws {
        guard shift < trainedContext else {
            throw PositionError.invalidParameter(
                scheme: "string", parameter: "S (shift)", value: "\(shift)",
                requirement: "must be smaller than the trained context L=\(trainedContext)")
        }
    }

    public func limitExplanation(trainedContext: Int) -> String {
        "STRING with S=\(shift), W=\(localWindow) on a model trained at L=\(trainedContext) keeps distances in the "
            + "trained range up to N = L + S − W = \(maxSequenceLength(trainedContext: trainedContext)!) tokens"
    }

    public var description: String { "string:S=\(shift):W=\(localWindow)" + (temperature ? "" : ":mscale=0") }
}
