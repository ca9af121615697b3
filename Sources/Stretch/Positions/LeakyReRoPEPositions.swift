/// Leaky ReRoPE: true distances below `W`, then `W + (d − W)/k` — fractional positions that grow `k`
/// times slower than the true distance.
public struct LeakyReRoPEPositions: PositionMap, Equatable {
    /// Window W (> 0, < L).
    public let window: Int
    /// Slowdown k (> 1).
    public let slope: Double

    /// Creates the map; `W ≥ 1`, `k > 1`.
    public init(window: Int, slope: Double) throws {
        guard window >= 1 else {
            throw PositionError.invalidParameter(scheme: "leaky-rerope", parameter: "W", value: "\(window)", requirement: "must be ≥ 1")
        }
        guard slope > 1, slope.isFinite else {
            throw PositionError.invalidParameter(scheme: "leaky-rerope", parameter: "K", value: "\(slope)", requirement: "must be > 1")
        }
        self.window = window
        self.slope = slope
    }

    public func farQueryPosition(_ i: Int) -> Double { Double(i) / slope + Double(window) * (1 - 1 / slope) }
    public func farKeyPosition(_ j: Int) -> Double { Double(j) / slope }

    /// The last token's far distance `W + (N − 1 − W)/k` must stay ≤ L − 1.
    public func maxSequenceLength(trainedContext: Int) -> Int? {
        window + Int((Double(trainedContext - 1 - window) * slope).rounded(.down)) + 1
    }

    public var refusesPastMaximum: Bool { true }

    public func validate(trainedContext: Int) throws {
        guard window < trainedContext else {
            throw PositionError.invalidParameter(
                scheme: "leaky-rerope", parameter: "W", value: "\(window)",
                requirement: "must be smaller than the trained context L=\(trainedContext)")
        }
    }

    public func limitExplanation(trainedContext: Int) -> String {
        "leaky ReRoPE with W=\(window), k=\(slope) on a model trained at L=\(trainedContext) reaches "
            + "N_max = W + k·(L − 1 − W) + 1 = \(maxSequenceLength(trainedContext: trainedContext)!) tokens"
    }

    public var description: String {
        "leaky-rerope:W=\(window):K=\(SpecNumber.format(slope))"
    }
}
