import Foundation
import Stretch

/// Formats benchmark records like llama-bench: a Markdown table, CSV, or a JSON array of records.
public struct BenchmarkReport: Sendable {
    /// Output format (`-o`).
    public enum Format: String, Sendable, CaseIterable {
        /// Markdown table (default).
        case md
        /// Comma-separated values with a header.
        case csv
        /// A JSON array of records.
        case json
    }

    /// Every record, in run order.
    public let records: [BenchmarkRecord]
    /// Model file path.
    public let model: String
    /// Short model description, e.g. `qwen2 24L d896`.
    public let modelType: String
    /// Model file size in bytes.
    public let modelSize: Int
    /// Parameter count.
    public let parameters: Int
    /// ISO-8601 time of the run.
    public let date: String

    /// Creates a report.
    public init(
        records: [BenchmarkRecord], model: String, modelType: String, modelSize: Int, parameters: Int, date: String
    ) {
        self.records = records
        self.model = model
        self.modelType = modelType
        self.modelSize = modelSize
        self.parameters = parameters
        self.date = date
    }

    /// The report in `format`.
    public func render(_ format: Format) -> String {
        switch format {
        case .md: return markdown()
        case .csv: return csv()
        case .json: return JSONValue.array(jsonRecords()).rendered() + "\n"
        }
    }

    /// One JSON object per record.
    public func jsonRecords() -> [JSONValue] {
        records.map {
            $0.json(model: model, modelType: modelType, modelSize: modelSize, parameters: parameters, date: date)
        }
    }

    /// llama-bench's Markdown table with a context-extension column.
    public func markdown() -> String {
        let name = URL(fileURLWithPath: model).lastPathComponent
        let size = String(format: "%.2f MiB", Double(modelSize) / 1_048_576)
        let params = String(format: "%.2f M", Double(parameters) / 1e6)
        let header = ["model", "size", "params", "threads", "context extension", "test", "t/s"]
        let rows = records.map { r in
            [
                name, size, params, "\(r.threads)", r.scheme.spec, r.test.name,
                String(format: "%.2f ± %.2f", r.averageTokensPerSecond, r.stddevTokensPerSecond),
            ]
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        let right: Set<Int> = [1, 2, 3, 5, 6]
        func line(_ cells: [String]) -> String {
            "| "
                + cells.enumerated().map { c, s in
                    let pad = String(repeating: " ", count: widths[c] - s.count)
                    return right.contains(c) ? pad + s : s + pad
                }.joined(separator: " | ") + " |"
        }
        var out = [line(header)]
        out.append(
            "| "
                + widths.indices.map { c in
                    right.contains(c)
                        ? String(repeating: "-", count: widths[c] - 1) + ":" : String(repeating: "-", count: widths[c])
                }.joined(separator: " | ") + " |")
        out += rows.map(line)
        return out.joined(separator: "\n") + "\n"
    }

    /// CSV with llama-bench's column names.
    public func csv() -> String {
        let fields = [
            "model_filename", "model_type", "model_size", "model_n_params", "n_batch", "n_threads", "test",
            "n_prompt", "n_gen", "n_depth", "context_extension", "test_time", "avg_ns", "stddev_ns", "avg_ts",
            "stddev_ts",
        ]
        var out = fields.joined(separator: ",") + "\n"
        for case .object(let members) in jsonRecords() {
            let dict = Dictionary(members, uniquingKeysWith: { a, _ in a })
            out +=
                fields.map { f -> String in
                    switch dict[f] {
                    case let .string(s)?: return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    case let v?: return v.rendered()
                    case nil: return ""
                    }
                }.joined(separator: ",") + "\n"
        }
        return out
    }
}
