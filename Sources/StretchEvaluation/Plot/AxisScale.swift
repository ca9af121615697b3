import Foundation

/// Maps data values on one axis to pixels, with "nice" tick values (1, 2 or 5 × 10ⁿ steps, or decades).
///
/// The domain is widened to whole ticks, so every data value lies inside the drawn axis.
public struct AxisScale: Sendable, Equatable {
    /// Linear or base-10 logarithmic spacing.
    public enum Kind: String, Sendable {
        /// Equal steps.
        case linear
        /// Powers of ten; values must be positive.
        case log
    }

    /// Spacing of the axis.
    public let kind: Kind
    /// Smallest value on the axis (a tick).
    public let lower: Double
    /// Largest value on the axis (a tick).
    public let upper: Double
    /// Tick values, ascending, from ``lower`` to ``upper``.
    public let ticks: [Double]
    /// Pixel of ``lower``.
    public let pixelLower: Double
    /// Pixel of ``upper`` (smaller than ``pixelLower`` for a y axis).
    public let pixelUpper: Double

    /// Chooses a domain and ticks that cover `minimum...maximum` with about `tickCount` ticks.
    ///
    /// A log axis ignores non-positive values; an empty or degenerate range is widened around its value.
    /// With `stepBase` (linear only), steps are `stepBase × 2ᵏ` instead of 1-2-5 steps, so token positions
    /// get ticks at multiples of, say, the trained context.
    public init(
        kind: Kind = .linear, minimum: Double, maximum: Double, tickCount: Int = 6, pixels: ClosedRange<Double>,
        flipped: Bool = false, stepBase: Double? = nil
    ) {
        self.kind = kind
        pixelLower = flipped ? pixels.upperBound : pixels.lowerBound
        pixelUpper = flipped ? pixels.lowerBound : pixels.upperBound
        var lo = minimum.isFinite ? minimum : 0
        var hi = maximum.isFinite ? maximum : 1
        if lo > hi { swap(&lo, &hi) }
        switch kind {
        case .linear:
            if hi - lo < 1e-12 {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= pad
                hi += pad
            }
            let raw = (hi - lo) / Double(max(1, tickCount - 1))
            var step = Self.niceStep(raw)
            if let stepBase, stepBase > 0 {
                step = stepBase
                while step < raw { step *= 2 }
                while step / 2 >= raw, step / 2 >= stepBase / 1024 { step /= 2 }
            }
            let first = (lo / step).rounded(.down) * step
            let last = (hi / step).rounded(.up) * step
            let n = Int(((last - first) / step).rounded())
            ticks = (0...n).map { Self.clean(first + Double($0) * step, step: step) }
            lower = ticks.first!
            upper = ticks.last!
        case .log:
            if lo <= 0 { lo = hi > 0 ? hi / 10 : 1 }
            if hi <= 0 { hi = 10 }
            let a = Int(log10(lo).rounded(.down))
            let b = max(Int(log10(hi).rounded(.up)), a + 1)
            let top = pow(10.0, Double(b))
            if b - a <= 2 {
                // Few decades: also tick 2× and 5× so the axis is readable.
                ticks =
                    (a..<b).flatMap { e -> [Double] in
                        let d = pow(10.0, Double(e))
                        return [d, 2 * d, 5 * d]
                    } + [top]
            } else {
                ticks = (a...b).map { pow(10.0, Double($0)) }
            }
            lower = ticks.first!
            upper = ticks.last!
        }
    }

    /// The pixel coordinate of `value` (clamped to a tiny positive value on a log axis).
    public func pixel(_ value: Double) -> Double {
        let t: Double
        switch kind {
        case .linear: t = (value - lower) / (upper - lower)
        case .log: t = (log10(max(value, 1e-300)) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return pixelLower + t * (pixelUpper - pixelLower)
    }

    /// The label for tick value `v`: as few decimals as the tick spacing needs.
    public func label(_ v: Double) -> String {
        if kind == .log || ticks.count < 2 { return Self.compact(v) }
        let step = ticks[1] - ticks[0]
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        return decimals == 0 ? String(Int(v.rounded())) : String(format: "%.\(decimals)f", v)
    }

    /// 1, 2 or 5 × 10ⁿ, the smallest at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let e = pow(10, log10(raw).rounded(.down))
        let f = raw / e
        let nice: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        return nice * e
    }

    private static func clean(_ v: Double, step: Double) -> Double {
        // Remove floating-point dust such as 0.30000000000000004.
        let q = (v / step).rounded() * step
        return abs(q) < step * 1e-9 ? 0 : q
    }

    private static func compact(_ v: Double) -> String {
        if v >= 1, v == v.rounded(), v < 1e7 { return String(Int(v)) }
        var s = String(format: "%g", v)
        if s.contains("e+0") { s = s.replacingOccurrences(of: "e+0", with: "e") }
        return s
    }
}
