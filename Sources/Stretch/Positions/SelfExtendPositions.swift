/// Self-Extend (arXiv 2401.01325): true positions within a window of `W`, floor-divided beyond.
///
/// Far keys sit at `⌊j/G⌋`, far queries at `⌊i/G⌋ + W − ⌊W/G⌋`, so the grouped distance continues
/// on from the window (with the integer floor in the shift, not the official code's true division).
public struct SelfExtendPositions: PositionMap, Equatable {
    /// Group size G (≥ 1).
    public let groupSize: Int
    /// Neighbor window W (> 0).
    public let window: Int

    /// Creates the map, validating `G ≥ 1` and `W ≥ 1`.
    public init(groupSize: Int, window: Int) throws {
        guard groupSize >= 1 else {
            throw PositionError.invalidParameter(
                scheme: "self-extend", parameter: "G (group size)", value: "\(groupSize)", requirement: "must be ≥ 1")
        }
        guard window >= 1 else {
            throw PositionError.invalidParameter(
                scheme: "self-extend", parameter: "W (neighbour window)", value: "\(window)", requirement: "must be ≥ 1")
        }
        self.groupSize = groupSize
        self.window = window
    }

    /// The shift added to far query positions: `W − ⌊W/G⌋`.
    public var shift: Int { window - window / groupSize }

    public func farQueryPosition(_ i: Int) -> Double { Double(i / groupSize + shift) }
    public func farKeyPosition(_ j: Int) -> Double { Double(j / groupSize) }

    /// `N_max = G·(L − W + ⌊W/G⌋)`: the last token then uses grouped distance `L − 1`.
    public func maxSequenceLength(trainedContext: Int) -> Int? {
        groupSize * (trainedContext - window + window / groupSize)
    }

    /// Checks `W < L` for a model trained at `trainedContext`.
    public func validate(trainedContext: Int) throws {
        guard window < trainedContext else {
            throw PositionError.invalidParameter(
                scheme: "self-extend", parameter: "W (neighbour window)", value: "\(window)",
                requirement: "must be smaller than the trained context L=\(trainedContext)")
        }
    }

    /// The distance (in RoPE positions) between query `i` and key `j` under this map.
    public func distance(query i: Int, key j: Int) -> Int {
        let d = i - j
        return d < window ? d : (i / groupSize + shift) - j / groupSize
    }

    public var refusesPastMaximum: Bool { true }

    public func limitExplanation(trainedContext: Int) -> String {
        "Self-Extend with G=\(groupSize), W=\(window) on a model trained at L=\(trainedContext) reaches "
            + "N_max = G·(L − W + ⌊W/G⌋) = \(maxSequenceLength(trainedContext: trainedContext)!) tokens"
    }

    /// Smallest G that lets `window` reach `target` tokens on a model trained at `trainedContext`
    /// (`⌈(N − W)/(L − W)⌉`, raised until `N_max ≥ N` because of the floor in `⌊W/G⌋`).
    public static func smallestGroupSize(target: Int, window: Int, trainedContext: Int) -> Int {
        let L = trainedContext
        guard window < L else { return 1 }
        var g = max(1, (target - window + (L - window) - 1) / (L - window))
        while g * (L - window + window / g) < target { g += 1 }
        return g
    }

    public var description: String { "self-extend:G=\(groupSize):W=\(window)" }
}
