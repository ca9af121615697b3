/// How attention turns token indices into RoPE positions and angles (SELF_EXTEND.md §1–§3).
///
/// A pair with distance `d = i − j < window` uses the near map (true positions `i`, `j`); every other
/// pair uses the far map. Key positions never depend on the query, so each key is rotated once at each
/// map when it is appended to the cache. Frequency-scaling schemes change the angles instead
/// (``rotaryEmbedding(_:trainedContext:sequenceLength:)``), and any scheme may scale queries (log-n).
public protocol PositionMap: Sendable, CustomStringConvertible {
    /// Distances below this use near (true) positions; `Int.max` means the far map is never used.
    var window: Int { get }
    /// RoPE position of query `i` for far pairs.
    func farQueryPosition(_ i: Int) -> Double
    /// RoPE position of key `j` for far pairs.
    func farKeyPosition(_ j: Int) -> Double
    /// Longest sequence this scheme keeps within a model trained at `trainedContext` (nil: no limit).
    func maxSequenceLength(trainedContext: Int) -> Int?
    /// Whether running past ``maxSequenceLength(trainedContext:)`` is refused (true) or only warned about.
    var refusesPastMaximum: Bool { get }
    /// Checks the parameters against the model (e.g. `W < L`).
    func validate(trainedContext: Int) throws
    /// The rotary embedding for a sequence that will hold `sequenceLength` tokens.
    func rotaryEmbedding(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding
    /// Whether the angles change with the sequence length (cached keys must then be re-rotated).
    var anglesDependOnSequenceLength: Bool { get }
    /// Factor applied to the query at position `i` (log-n scaling); 1 for most schemes.
    func queryScale(position i: Int, trainedContext: Int) -> Float
    /// One sentence explaining the limit, naming the numbers (used in error messages).
    func limitExplanation(trainedContext: Int) -> String
}

extension PositionMap {
    /// Whether this map ever uses far positions.
    public var usesFarPositions: Bool { window != Int.max }
    public var refusesPastMaximum: Bool { false }
    public func validate(trainedContext: Int) throws {}
    public func rotaryEmbedding(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding { rope }
    public var anglesDependOnSequenceLength: Bool { false }
    public func queryScale(position i: Int, trainedContext: Int) -> Float { 1 }
    public func limitExplanation(trainedContext: Int) -> String {
        if let m = maxSequenceLength(trainedContext: trainedContext) {
            return "\(description) on a model trained at L=\(trainedContext) is meant for at most \(m) tokens"
        }
        return "\(description) has no fixed limit"
    }
}
