/// ReRoPE: true distances below `W`, every farther pair at distance exactly `W` (Self-Extend as G→∞).
public struct ReRoPEPositions: PositionMap, Equatable {
    /// Window W (> 0, < L).
    public let window: Int

    /// Creates the map; `W ≥ 1`.
    public init(window: Int) throws {
        guard window >= 1 else {
            throw PositionError.invalidParameter(scheme: "rerope", parameter: "W", value: "\(window)", requirement: "must be ≥ 1")
        }
        self.window = window
    }

    public func farQueryPosition(_ i: Int) -> Double { Double(window) }
    public func farKeyPosition(_ j: Int) -> Double { 0 }
    /// Distances never exceed W, so there is no limit from positions.
    public func maxSequenceLength(trainedContext: Int) -> Int? { nil }

    public func validate(trainedContext: Int) throws {
        guard window < trainedContext else {
            throw PositionError.invalidParameter(
                scheme: "rerope", parameter: "W", value: "\(window)",
                requirement: "must be smaller than the trained context L=\(trainedContext)")
        }
    }

    public var description: String { "rerope:W=\(window)" }
}
