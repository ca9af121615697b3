/// How attention turns token indices into RoPE positions (SELF_EXTEND.md §1–§3).
///
/// A pair with distance `d = i − j < window` uses the near map (true positions `i`, `j`); every other
/// pair uses the far map. Key positions never depend on the query, so each key is rotated once at each
/// map when it is appended to the cache.
public protocol PositionMap: Sendable, CustomStringConvertible {
    /// Distances below this use near (true) positions; `Int.max` means the far map is never used.
    var window: Int { get }
    /// RoPE position of query `i` for far pairs.
    func farQueryPosition(_ i: Int) -> Double
    /// RoPE position of key `j` for far pairs.
    func farKeyPosition(_ j: Int) -> Double
    /// Longest sequence this map keeps within a model trained at `trainedContext` (nil: unlimited).
    func maxSequenceLength(trainedContext: Int) -> Int?
}

extension PositionMap {
    /// Whether this map ever uses far positions.
    public var usesFarPositions: Bool { window != Int.max }
}
