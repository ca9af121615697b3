/// Ordinary RoPE: every pair at its true positions.
public struct PlainPositions: PositionMap, Equatable {
    public init() {}
    public var window: Int { Int.max }
    public func farQueryPosition(_ i: Int) -> Double { Double(i) }
    public func farKeyPosition(_ j: Int) -> Double { Double(j) }
    public func maxSequenceLength(trainedContext: Int) -> Int? { trainedContext }
    public func limitExplanation(trainedContext: Int) -> String {
        "plain attention meets distances it never saw in training past the trained context L=\(trainedContext)"
    }
    public var description: String { "none" }
}
