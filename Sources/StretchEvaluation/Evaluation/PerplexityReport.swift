import Foundation
import Stretch

/// Formats perplexity results for several schemes over the same windows: table, CSV, JSON and SVG.
public struct PerplexityReport: Sendable {
    /// One result per scheme, in the order the user listed them.
    public let results: [PerplexityResult]
    /// The windowing all results share.
    public let run: PerplexityRun
    /// Bucket width in tokens.
    public let bucketSize: Int
    /// The model's trained context L.
    public let trainedContext: Int
    /// Where the tokens came from (a file path), for headers.
    public let source: String
    /// The model file, for JSON.
    public let model: String
    /// Tokens in the whole input.
    public let inputTokens: Int

    /// Creates a report.
    public init(
        results: [PerplexityResult], run: PerplexityRun, bucketSize: Int, trainedContext: Int, source: String,
        model: String, inputTokens: Int
    ) {
        self.results = results
        self.run = run
        self.bucketSize = bucketSize
        self.trainedContext = trainedContext
        self.source = source
        self.model = model
        self.inputTokens = inputTokens
    }

    private func positionLabel(_ b: PositionBuckets.Bucket) -> String {
        "\(b.start)-\(min(b.end, run.windowSize) - 1)"
    }

    /// The stdout table: one row per bucket, NLL and PPL per scheme, then each scheme's final estimate.
    public func table() -> String {
        let bucketed = results.map { $0.buckets(size: bucketSize) }
        let starts = Set(bucketed.flatMap { $0.buckets.map(\.start) }).sorted()
        let widths = results.map { max(20, $0.scheme.spec.count + 2) }
        func pad(_ s: String, _ w: Int, right: Bool = true) -> String {
            s.count >= w
                ? s
                : (right
                    ? String(repeating: " ", count: w - s.count) + s : s + String(repeating: " ", count: w - s.count))
        }
        var lines: [String] = []
        let windows = run.windowCount == 1 ? "1 window" : "\(run.windowCount) windows"
        lines.append(
            "perplexity of \(source): \(windows) of \(run.windowSize) tokens, --score \(run.scoreMode.rawValue) "
                + "(\(run.scoredPerWindow) predictions per window), buckets of \(bucketSize) tokens, "
                + "trained context L=\(trainedContext)"
        )
        let posW = max(13, (starts.last.map { "\($0)-\($0 + bucketSize - 1)".count } ?? 0) + 2)
        lines.append(
            pad("positions", posW, right: false) + zip(results, widths).map { pad($0.scheme.spec, $1) }.joined())
        lines.append(pad("", posW) + widths.map { pad("NLL", $0 - 10) + pad("PPL", 10) }.joined())
        var markedL = false
        for s in starts {
            if !markedL, s >= trainedContext, s > starts.first! {
                lines.append("---- past the trained context L=\(trainedContext) ----")
                markedL = true
            }
            var row = ""
            var label = ""
            for (k, b) in bucketed.enumerated() {
                if let bucket = b.buckets.first(where: { $0.start == s }) {
                    label = positionLabel(bucket)
                    row +=
                        pad(String(format: "%.4f", bucket.meanNLL), widths[k] - 10)
                        + pad(Self.formatPPL(bucket.perplexity), 10)
                } else {
                    row += pad("-", widths[k] - 10) + pad("-", 10)
                }
            }
            lines.append(pad(label, posW, right: false) + row)
        }
        lines.append("")
        for r in results {
            lines.append(
                String(
                    format: "%@: %d scored tokens, mean NLL %.4f, PPL %@, %.1f s", r.scheme.spec, r.count,
                    r.meanNLL, Self.formatPPL(r.perplexity), r.seconds))
        }
        for r in results {
            lines.append(r.finalEstimate + (results.count > 1 ? " [\(r.scheme.spec)]" : ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func formatPPL(_ p: Double) -> String {
        p.isFinite && p < 1e6 ? String(format: p < 100 ? "%.3f" : "%.1f", p) : String(format: "%.3g", p)
    }

    /// CSV: one row per (scheme, bucket) with a header.
    public func csv() -> String {
        var out = "scheme,bucket_start,bucket_end,tokens,mean_nll,ppl\n"
        for r in results {
            let spec = r.scheme.spec.contains(",") ? "\"\(r.scheme.spec)\"" : r.scheme.spec
            for b in r.buckets(size: bucketSize).buckets {
                out +=
                    "\(spec),\(b.start),\(min(b.end, run.windowSize)),\(b.count),"
                    + String(format: "%.6f,%.6f\n", b.meanNLL, b.perplexity)
            }
        }
        return out
    }

    /// The JSON report: settings, then per scheme its spec and parameters, buckets, totals and `nll` arrays.
    ///
    /// `nll[i]` is the NLL of token `i+1` of the window given tokens `0…i` (null where not scored); with
    /// several windows it is the mean over windows, and `window_nll` holds each window's own array.
    public func json() -> JSONValue {
        .object([
            ("model", .string(model)),
            ("source", .string(source)),
            ("trained_context", .int(trainedContext)),
            ("input_tokens", .int(inputTokens)),
            ("window", .int(run.windowSize)),
            ("windows", .int(run.windowCount)),
            ("score", .string(run.scoreMode.rawValue)),
            ("bos_per_window", .bool(run.bosID != nil)),
            ("bucket_size", .int(bucketSize)),
            (
                "schemes",
                .array(
                    results.map { r in
                        var members = r.scheme.jsonMembers
                        members += [
                            ("scored_tokens", .int(r.count)),
                            ("mean_nll", .number(r.meanNLL)),
                            ("ppl", .number(r.perplexity)),
                            ("ppl_error", .number(r.perplexityError)),
                            ("seconds", .number(r.seconds)),
                            (
                                "buckets",
                                .array(
                                    r.buckets(size: bucketSize).buckets.map { b in
                                        .object([
                                            ("start", .int(b.start)), ("end", .int(min(b.end, run.windowSize))),
                                            ("tokens", .int(b.count)),
                                            ("mean_nll", .number(b.meanNLL)), ("ppl", .number(b.perplexity)),
                                        ])
                                    })
                            ),
                            ("nll", .array(r.positionNLL.map(JSONValue.number))),
                        ]
                        if r.windows.count > 1 {
                            members.append(("window_nll", .array(r.windows.map { .array($0.map(JSONValue.number)) })))
                        }
                        return .object(members)
                    })
            ),
        ])
    }

    /// What the plot's y axis shows.
    public enum PlotMetric: String, Sendable, CaseIterable {
        /// Mean NLL per bucket (linear axis from 0).
        case nll
        /// Perplexity per bucket (log axis).
        case ppl
    }

    /// The line plot: bucket mean against bucket centre, one line per scheme, a marker at L.
    public func plot(metric: PlotMetric = .nll, title: String? = nil) -> LinePlot {
        let series = results.map { r in
            LinePlot.Series(
                name: r.scheme.spec,
                points: r.buckets(size: bucketSize).buckets.map { b in
                    let centre = Double(b.start + min(b.end, run.windowSize)) / 2
                    return (x: centre, y: metric == .nll ? b.meanNLL : b.perplexity)
                })
        }
        let modelName = URL(fileURLWithPath: model).lastPathComponent
        var plot = LinePlot(
            title: title ?? "\(metric == .nll ? "NLL" : "Perplexity") by position (\(modelName))",
            xLabel: "token position (buckets of \(bucketSize))",
            yLabel: metric == .nll ? "mean NLL (nats)" : "perplexity (log scale)", series: series)
        if metric == .nll { plot.yFloor = 0 } else { plot.yScale = .log }
        plot.xTickBase = Double(trainedContext)
        plot.xFloor = 0
        if trainedContext < run.windowSize {
            plot.markers = [LinePlot.Marker(x: Double(trainedContext), label: "trained L=\(trainedContext)")]
        }
        return plot
    }
}
