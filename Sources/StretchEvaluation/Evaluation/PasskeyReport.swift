import Foundation
import Stretch

/// Formats passkey results: an accuracy table per scheme, JSON, and a (length × depth) heatmap.
public struct PasskeyReport: Sendable {
    /// One result per scheme.
    public let results: [PasskeyResult]
    /// The grid that was run.
    public let run: PasskeyRun
    /// The model's trained context L.
    public let trainedContext: Int
    /// The model file.
    public let model: String

    /// Creates a report.
    public init(results: [PasskeyResult], run: PasskeyRun, trainedContext: Int, model: String) {
        self.results = results
        self.run = run
        self.trainedContext = trainedContext
        self.model = model
    }

    static func percent(_ v: Double?) -> String { v.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }

    static func depthLabel(_ d: Double) -> String { String(format: "%.2f", d) }

    /// One accuracy grid per scheme (rows: depth, columns: length), then overall accuracy lines.
    public func table() -> String {
        var lines = [
            "passkey retrieval: \(run.trials) trial\(run.trials == 1 ? "" : "s") per cell, seed \(run.seed), "
                + "5-digit keys, greedy decoding, trained context L=\(trainedContext)"
        ]
        let w = max(8, run.lengths.map { TokenCountList.format($0).count + 2 }.max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        for r in results {
            lines.append("")
            lines.append("\(r.scheme.spec):")
            lines.append("depth\\length" + r.lengths.map { pad(TokenCountList.format($0), w) }.joined())
            for d in r.depths {
                lines.append(
                    Self.depthLabel(d).padding(toLength: 12, withPad: " ", startingAt: 0)
                        + r.lengths.map { pad(Self.percent(r.accuracy(length: $0, depth: d)), w) }.joined())
            }
            let mean = r.lengths.map { l in
                let c = r.trials.filter { $0.length == l }
                return c.isEmpty ? nil : Double(c.filter(\.correct).count) / Double(c.count)
            }
            lines.append(
                "all".padding(toLength: 12, withPad: " ", startingAt: 0)
                    + mean.map { pad(Self.percent($0), w) }.joined())
        }
        lines.append("")
        for r in results {
            lines.append(
                String(
                    format: "%@: accuracy %.1f%% (%d/%d) in %.1f s", r.scheme.spec, r.accuracy * 100,
                    r.correctCount, r.trials.count, r.seconds))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON report: settings, then per scheme its spec, overall accuracy, and every cell with its trials.
    public func json() -> JSONValue {
        .object([
            ("model", .string(model)),
            ("trained_context", .int(trainedContext)),
            ("lengths", .array(run.lengths.map(JSONValue.int))),
            ("depths", .array(run.depths.map(JSONValue.double))),
            ("trials", .int(run.trials)),
            ("seed", .int(Int(truncatingIfNeeded: run.seed))),
            (
                "schemes",
                .array(
                    results.map { r in
                        .object(
                            r.scheme.jsonMembers + [
                                ("accuracy", .double(r.accuracy)),
                                ("correct", .int(r.correctCount)),
                                ("total", .int(r.trials.count)),
                                ("seconds", .number(r.seconds)),
                                (
                                    "cells",
                                    .array(
                                        r.lengths.flatMap { l in
                                            r.depths.map { d in
                                                let c = r.cell(length: l, depth: d)
                                                return JSONValue.object([
                                                    ("length", .int(l)), ("depth", .double(d)),
                                                    ("accuracy", .number(r.accuracy(length: l, depth: d))),
                                                    (
                                                        "trials",
                                                        .array(
                                                            c.map { t in
                                                                .object([
                                                                    ("key", .int(t.key)),
                                                                    ("prompt_tokens", .int(t.promptTokens)),
                                                                    ("output", .string(t.output)),
                                                                    (
                                                                        "extracted",
                                                                        t.extracted.map(JSONValue.int) ?? .null
                                                                    ),
                                                                    ("correct", .bool(t.correct)),
                                                                ])
                                                            })
                                                    ),
                                                ])
                                            }
                                        })
                                ),
                            ])
                    })
            ),
        ])
    }

    /// The heatmap: columns are lengths (grouped by scheme when there are several), rows are depths.
    public func heatmap() -> Heatmap {
        let columns = results.flatMap { r in r.lengths.map { TokenCountList.format($0) } }
        let rows = run.depths.map { String(format: "%.0f%%", $0 * 100) }
        let values = run.depths.map { d in results.flatMap { r in r.lengths.map { r.accuracy(length: $0, depth: d) } } }
        var h = Heatmap(
            title: "Passkey retrieval (\(URL(fileURLWithPath: model).lastPathComponent), \(run.trials) trials/cell)",
            xLabel: "prompt length (tokens)", yLabel: "key depth", columns: columns, rows: rows, values: values)
        if results.count > 1 || results.first?.scheme.spec != "none" {
            h.columnGroups = results.map { (label: $0.scheme.spec, count: $0.lengths.count) }
        }
        return h
    }
}
