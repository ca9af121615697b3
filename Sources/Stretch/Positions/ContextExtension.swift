import Foundation

/// A position map combined with a frequency scaling and/or log-length query scaling.
///
/// The near/far maps come from ``positions``; the angles from ``scaling`` (if any); queries at
/// position `i` are multiplied by ``logScaling``'s factor (e.g. `max(1, ln(i+1)/ln L)`) when it is set.
public struct ContextExtension: PositionMap {
    /// Near/far position maps (``PlainPositions`` for pure frequency scalings).
    public let positions: PositionMap
    /// Optional frequency scaling.
    public let scaling: FrequencyScaling?
    /// Log-length query scaling, if any.
    public let logScaling: LogLengthScaling?
    /// Whether queries get log-length scaling.
    public var logNScaling: Bool { logScaling != nil }

    /// Combines the parts.
    public init(positions: PositionMap = PlainPositions(), scaling: FrequencyScaling? = nil, logScaling: LogLengthScaling? = nil) {
        self.positions = positions
        self.scaling = scaling
        self.logScaling = logScaling
    }

    /// Combines the parts, with `max(1, ln(i+1)/ln L)` query scaling when `logNScaling` is on.
    public init(positions: PositionMap = PlainPositions(), scaling: FrequencyScaling? = nil, logNScaling: Bool) {
        self.init(positions: positions, scaling: scaling, logScaling: logNScaling ? .logN : nil)
    }

    public var window: Int { positions.window }
    public func farQueryPosition(_ i: Int) -> Double { positions.farQueryPosition(i) }
    public func farKeyPosition(_ j: Int) -> Double { positions.farKeyPosition(j) }
    public var keySplit: KeySplit { positions.keySplit }
    public func nearQueryPosition(_ i: Int) -> Double { positions.nearQueryPosition(i) }
    public func nearKeyPosition(_ j: Int) -> Double { positions.nearKeyPosition(j) }
    public func middleQueryPosition(_ i: Int) -> Double { positions.middleQueryPosition(i) }
    public var farKeysEqualNearKeys: Bool { positions.farKeysEqualNearKeys }
    public func logitTemperature(trainedContext: Int, contextSize: Int) -> Double {
        positions.logitTemperature(trainedContext: trainedContext, contextSize: contextSize)
    }

    public func maxSequenceLength(trainedContext: Int) -> Int? {
        guard let scaling else { return positions.maxSequenceLength(trainedContext: trainedContext) }
        if positions is PlainPositions { return scaling.maxSequenceLength(trainedContext: trainedContext) }
        let a = positions.maxSequenceLength(trainedContext: trainedContext)
        let b = scaling.maxSequenceLength(trainedContext: trainedContext)
        switch (a, b) {
        case let (x?, y?): return max(x, y)
        default: return nil
        }
    }

    public var refusesPastMaximum: Bool { scaling == nil && positions.refusesPastMaximum }
    public func validate(trainedContext: Int) throws { try positions.validate(trainedContext: trainedContext) }

    public func rotaryEmbedding(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding {
        scaling?.scaled(rope, trainedContext: trainedContext, sequenceLength: sequenceLength) ?? rope
    }

    public var anglesDependOnSequenceLength: Bool { scaling?.dependsOnSequenceLength ?? false }

    public func queryScale(position i: Int, trainedContext: Int) -> Float {
        guard let logScaling else { return 1 }
        return Float(logScaling.factor(position: i, trainedContext: trainedContext))
    }

    public var unscaledLeadingLayers: Int { logScaling?.unscaledLeadingLayers ?? 0 }

    public func limitExplanation(trainedContext: Int) -> String {
        scaling == nil ? positions.limitExplanation(trainedContext: trainedContext)
            : "\(description) on a model trained at L=\(trainedContext) is meant for at most "
                + "\(maxSequenceLength(trainedContext: trainedContext).map(String.init) ?? "any number of") tokens"
    }

    public var description: String {
        var parts: [String] = []
        if !(positions is PlainPositions) || scaling == nil { parts.append(positions.description) }
        if let scaling { parts.append(scaling.description) }
        var text = parts.joined(separator: "+")
        if let logScaling { text += ":logn=\(logScaling.rawValue)" }
        return text
    }
}
