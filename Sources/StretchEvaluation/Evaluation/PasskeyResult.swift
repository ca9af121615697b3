import Stretch

/// Passkey trials of one scheme over a (length × depth) grid, with accuracy per cell.
public struct PasskeyResult: Sendable {
    /// The scheme the prompts ran under.
    public let scheme: ContextScheme
    /// Grid columns: prompt lengths.
    public let lengths: [Int]
    /// Grid rows: key depths.
    public let depths: [Double]
    /// Every trial.
    public let trials: [PasskeyTrial]
    /// Seconds spent.
    public let seconds: Double

    /// Creates a result.
    public init(scheme: ContextScheme, lengths: [Int], depths: [Double], trials: [PasskeyTrial], seconds: Double = 0) {
        self.scheme = scheme
        self.lengths = lengths
        self.depths = depths
        self.trials = trials
        self.seconds = seconds
    }

    /// The trials of one cell.
    public func cell(length: Int, depth: Double) -> [PasskeyTrial] {
        trials.filter { $0.length == length && $0.depth == depth }
    }

    /// Fraction correct in one cell (nil when the cell has no trials).
    public func accuracy(length: Int, depth: Double) -> Double? {
        let c = cell(length: length, depth: depth)
        return c.isEmpty ? nil : Double(c.filter(\.correct).count) / Double(c.count)
    }

    /// Number of correct trials.
    public var correctCount: Int { trials.filter(\.correct).count }

    /// Fraction correct over the whole grid.
    public var accuracy: Double { trials.isEmpty ? 0 : Double(correctCount) / Double(trials.count) }

    /// `values[depth][length]` accuracies, for a heatmap.
    public var grid: [[Double?]] { depths.map { d in lengths.map { accuracy(length: $0, depth: d) } } }
}
