import Foundation
import Stretch

/// Parses comma-separated token counts with `k` suffixes: `1k,2k,4k` → `[1024, 2048, 4096]`.
public enum TokenCountList {
    /// Parses one count: a plain integer, or a number followed by `k`/`K` (× 1024).
    public static func parseCount(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces)
        var value: Int?
        if let last = t.last, last == "k" || last == "K" {
            if let d = Double(t.dropLast()), d > 0 { value = Int((d * 1024).rounded()) }
        } else {
            value = Int(t)
        }
        guard let v = value, v >= 0 else {
            throw EvaluationError.invalidSetting(
                name: "token count", value: text, requirement: "use a whole number or a k suffix, e.g. 512 or 4k")
        }
        return v
    }

    /// Parses a comma-separated list; empty items are errors.
    public static func parse(_ text: String) throws -> [Int] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { try parseCount(String($0)) }
    }

    /// Formats a count the short way: `4096` → `4k`, `1536` → `1.5k`, `1000` → `1000`.
    public static func format(_ n: Int) -> String {
        if n >= 1024, n % 512 == 0 {
            let k = Double(n) / 1024
            return k == k.rounded() ? "\(Int(k))k" : String(format: "%.1fk", k)
        }
        return String(n)
    }
}
