import Foundation
import Synchronization

/// Counters and histograms for `GET /metrics`, written in Prometheus' text format.
final class ServerMetrics: Sendable {
    private struct Histogram {
        let bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var total = 0

        init(_ bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ v: Double) {
            for (k, b) in bounds.enumerated() where v <= b { counts[k] += 1 }
            sum += v
            total += 1
        }
    }

    private struct State {
        var promptTokens = 0
        var generatedTokens = 0
        var requests = 0
        var cancelled = 0
        var rejected = 0
        var firstToken = Histogram([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
        var duration = Histogram([0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600])
    }

    private let state = Mutex(State())

    func finished(promptTokens: Int, generatedTokens: Int, seconds: Double) {
        state.withLock {
            $0.promptTokens += promptTokens
            $0.generatedTokens += generatedTokens
            $0.requests += 1
            $0.duration.observe(seconds)
        }
    }

    func firstToken(after seconds: Double) { state.withLock { $0.firstToken.observe(seconds) } }
    func cancelled() { state.withLock { $0.cancelled += 1 } }
    func rejected() { state.withLock { $0.rejected += 1 } }

    /// The exposition text, with the slot gauges read at scrape time.
    func render(processing: Int, queued: Int, slots: Int) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP stretch_\(name) \(help)\n# TYPE stretch_\(name) \(type)\nstretch_\(name) \(value)\n"
        }
        func histogram(_ name: String, _ help: String, _ h: Histogram) {
            out += "# HELP stretch_\(name) \(help)\n# TYPE stretch_\(name) histogram\n"
            for (k, b) in h.bounds.enumerated() { out += "stretch_\(name)_bucket{le=\"\(b)\"} \(h.counts[k])\n" }
            out += "stretch_\(name)_bucket{le=\"+Inf\"} \(h.total)\n"
            out += "stretch_\(name)_sum \(h.sum)\nstretch_\(name)_count \(h.total)\n"
        }
        metric("prompt_tokens_total", "counter", "Prompt tokens of finished requests.", "\(s.promptTokens)")
        metric("tokens_predicted_total", "counter", "Tokens generated.", "\(s.generatedTokens)")
        metric("requests_total", "counter", "Generation requests finished.", "\(s.requests)")
        metric(
            "requests_cancelled_total", "counter", "Generations stopped by a disconnect or a timeout.", "\(s.cancelled)"
        )
        metric("requests_rejected_total", "counter", "Requests refused because the queue was full.", "\(s.rejected)")
        metric("requests_processing", "gauge", "Slots generating now.", "\(processing)")
        metric("requests_deferred", "gauge", "Requests waiting for a slot.", "\(queued)")
        metric("slots", "gauge", "Slots in all.", "\(slots)")
        histogram("time_to_first_token_seconds", "Seconds from admission to the first generated token.", s.firstToken)
        histogram("request_duration_seconds", "Seconds from admission to the last byte of a generation.", s.duration)
        return out
    }
}
