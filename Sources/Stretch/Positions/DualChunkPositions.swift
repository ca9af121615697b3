import Foundation

/// Dual Chunk Attention (DCA, "ChunkLlama", arXiv 2402.17463), in the form the official code and Qwen's
/// long-context models run.
///
/// Chunks of `cl = C − L` tokens start at position 0. Keys are rotated once, at `j mod cl`. Query `i`
/// is rotated three ways and each key uses the one its chunk calls for: the same chunk at `i mod cl`
/// (exact distances), the previous chunk at `min(i mod cl + cl, C)` (exact while `i mod cl ≤ L`, then
/// capped), older chunks at `min(2·cl − 1, C)` (the official code's index `cl − 1` into its
/// previous-chunk table). One softmax covers the merged row, so no relative distance exceeds `C`.
///
/// Temperature: logits are multiplied by `mscale²`, `mscale = 1 + 0.05·ln(N / P)` for a context of
/// `N > P` tokens (P = the trained context), as the official llama code scales its cos/sin tables.
/// Stretch builds them once, for the cache's context size (see docs/DESIGN.md, "Dual Chunk Attention").
public struct DualChunkPositions: PositionMap, Equatable {
    /// Chunk size C: the largest relative distance ever used.
    public let chunkSize: Int
    /// Local window L: how far into a chunk previous-chunk distances stay exact (`cl = C − L`).
    public let localWindow: Int
    /// The trained context P the temperature is measured against (nil: the model's own).
    public let originalContext: Int?
    /// Whether logits get the `mscale²` temperature past P.
    public let temperature: Bool

    /// Creates the map; `0 ≤ L < C`.
    public init(chunkSize: Int, localWindow: Int, originalContext: Int? = nil, temperature: Bool = true) throws {
        guard chunkSize >= 2 else {
            throw PositionError.invalidParameter(scheme: "dca", parameter: "C (chunk size)", value: "\(chunkSize)", requirement: "must be ≥ 2")
        }
        guard localWindow >= 0, localWindow < chunkSize else {
            throw PositionError.invalidParameter(
                scheme: "dca", parameter: "L (local window)", value: "\(localWindow)",
                requirement: "must be ≥ 0 and smaller than the chunk size C=\(chunkSize)")
        }
        if let originalContext, originalContext < 2 {
            throw PositionError.invalidParameter(
                scheme: "dca", parameter: "ORIG (original context)", value: "\(originalContext)", requirement: "must be ≥ 2")
        }
        self.chunkSize = chunkSize
        self.localWindow = localWindow
        self.originalContext = originalContext
        self.temperature = temperature
    }

    /// Tokens per chunk: `cl = C − L`.
    public var chunkLength: Int { chunkSize - localWindow }

    /// Pairs are split by chunk, not by one distance; ``window`` only tells callers that far rotations exist.
    public var window: Int { chunkLength }
    public var keySplit: KeySplit { .chunks(chunkLength) }
    public var farKeysEqualNearKeys: Bool { true }

    public func nearQueryPosition(_ i: Int) -> Double { Double(i % chunkLength) }
    public func nearKeyPosition(_ j: Int) -> Double { Double(j % chunkLength) }
    /// `min(i mod cl + cl, C)`, written so that no sum can overflow.
    public func middleQueryPosition(_ i: Int) -> Double {
        let r = i % chunkLength
        return Double(r + min(chunkLength, chunkSize - r))
    }
    /// `min(2·cl − 1, C)`, written so that no sum can overflow.
    public func farQueryPosition(_ i: Int) -> Double { Double(chunkLength - 1 + min(chunkLength, localWindow + 1)) }
    public func farKeyPosition(_ j: Int) -> Double { nearKeyPosition(j) }

    /// The RoPE distance between query `i` and key `j ≤ i` under this map.
    public func distance(query i: Int, key j: Int) -> Int {
        let ci = i / chunkLength, cj = j / chunkLength
        let q: Double = ci == cj ? nearQueryPosition(i) : ci == cj + 1 ? middleQueryPosition(i) : farQueryPosition(i)
        return Int(q) - j % chunkLength
    }

    /// Distances never exceed C, so positions set no limit.
    public func maxSequenceLength(trainedContext: Int) -> Int? { nil }

    /// Checks `C ≤` the trained context (the largest distance used is C).
    public func validate(trainedContext: Int) throws {
        guard chunkSize <= trainedContext else {
            throw PositionError.invalidParameter(
                scheme: "dca", parameter: "C (chunk size)", value: "\(chunkSize)",
                requirement: "must be at most the trained context \(trainedContext)")
        }
    }

    /// `mscale(N)² = (1 + 0.05·ln(N/P))²` for `N > P`, else 1.
    public func logitTemperature(trainedContext: Int, contextSize: Int) -> Double {
        let p = originalContext ?? trainedContext
        guard temperature, contextSize > p, p > 0 else { return 1 }
        let m = 1 + 0.05 * log(Double(contextSize) / Double(p))
        return m * m
    }

    /// Defaults for a model without a DCA config, as ChunkLlama's: `C = 3·P/4`, `L = P/8`.
    public static func defaults(trainedContext p: Int) -> (chunkSize: Int, localWindow: Int) {
        (p / 4 * 3 + p % 4 * 3 / 4, p / 8)
    }

    public var description: String {
        var text = "dca:C=\(chunkSize):L=\(localWindow)"
        if let originalContext { text += ":ORIG=\(originalContext)" }
        if !temperature { text += ":mscale=0" }
        return text
    }
}
