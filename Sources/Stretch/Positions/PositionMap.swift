/// How attention turns token indices into RoPE positions and angles (SELF_EXTEND.md §1–§3).
///
/// A pair with distance `d = i − j < window` uses the near map (true positions `i`, `j`); every other
/// pair uses the far map. Maps that split by chunk instead (Dual Chunk Attention) say so in ``keySplit``
/// and use a third, middle query rotation. Key positions never depend on the query, so each key is
/// rotated once at each map when it is appended to the cache. Frequency-scaling schemes change the angles instead
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
    /// Leading layers that skip ``queryScale(position:trainedContext:)`` (entropy-aware scaling); 0 for most.
    var unscaledLeadingLayers: Int { get }
    /// Which query rotation each key uses (by default `.window(window)`).
    var keySplit: KeySplit { get }
    /// RoPE position of query `i` for near pairs (default: `i`).
    func nearQueryPosition(_ i: Int) -> Double
    /// RoPE position of key `j` for near pairs (default: `j`).
    func nearKeyPosition(_ j: Int) -> Double
    /// RoPE position of query `i` for middle pairs (``KeySplit/chunks(_:)`` only).
    func middleQueryPosition(_ i: Int) -> Double
    /// Whether far keys sit at the near keys' positions, so the cache keeps one key copy.
    var farKeysEqualNearKeys: Bool { get }
    /// Factor on every attention logit for a cache made for `contextSize` tokens (a temperature); 1 for most.
    func logitTemperature(trainedContext: Int, contextSize: Int) -> Double
    /// One sentence explaining the limit, naming the numbers (used in error messages).
    func limitExplanation(trainedContext: Int) -> String
}

extension PositionMap {
    /// Whether this map ever uses far positions.
    public var usesFarPositions: Bool { window != Int.max }
    /// Whether the cache keeps a second, far-rotated copy of every key.
    public var storesFarKeyCopy: Bool { usesFarPositions && !farKeysEqualNearKeys }
    public var keySplit: KeySplit { window == Int.max ? .none : .window(window) }
    public func nearQueryPosition(_ i: Int) -> Double { Double(i) }
    public func nearKeyPosition(_ j: Int) -> Double { Double(j) }
    public func middleQueryPosition(_ i: Int) -> Double { Double(i) }
    public var farKeysEqualNearKeys: Bool { false }
    public func logitTemperature(trainedContext: Int, contextSize: Int) -> Double { 1 }
    public var refusesPastMaximum: Bool { false }
    public func validate(trainedContext: Int) throws {}
    public func rotaryEmbedding(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding { rope }
    public var anglesDependOnSequenceLength: Bool { false }
    public func queryScale(position i: Int, trainedContext: Int) -> Float { 1 }
    public var unscaledLeadingLayers: Int { 0 }
    public func limitExplanation(trainedContext: Int) -> String {
        if let m = maxSequenceLength(trainedContext: trainedContext) {
            return "\(description) on a model trained at L=\(trainedContext) is meant for at most \(m) tokens"
        }
        return "\(description) has no fixed limit"
    }
}

/// How one query's keys divide among its rotations: keys `j < far` use the far rotation, `far ≤ j < middle`
/// the middle one (Dual Chunk Attention's previous chunk), the rest the near one.
public enum KeySplit: Sendable, Equatable {
    /// Every key near (plain positions).
    case none
    /// Keys at distance ≥ W far, the rest near (Self-Extend, ReRoPE, STRING); no middle band.
    case window(Int)
    /// Chunks of this many tokens from position 0: the query's own chunk near, the previous one middle,
    /// older ones far.
    case chunks(Int)

    /// How far back a query reads its near rotation: query `i` reads near keys only at `j > i − nearReach`
    /// (nil: every key is near). A cache keeping a far key copy needs near keys only this far back.
    public var nearReach: Int? {
        switch self {
        case .none: return nil
        case let .window(w): return w == Int.max ? nil : w
        // Keys from the previous chunk's start on: at most 2·cl − 1 back.
        case let .chunks(cl): return 2 * cl
        }
    }

    /// The first key that is not far and the first key that is near, for query `i` (either may be ≤ 0).
    @inline(__always)
    public func bounds(query i: Int) -> (far: Int, middle: Int) {
        switch self {
        case .none: return (0, 0)
        case let .window(w):
            let b = w == Int.max ? 0 : i - w + 1
            return (b, b)
        case let .chunks(cl):
            let c = i / cl
            return ((c - 1) * cl, c * cl)
        }
    }
}
