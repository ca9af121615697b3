import Foundation
import Stretch
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
        var promptSeconds = 0.0
        var generationSeconds = 0.0
        var cachedPromptTokens = 0
        var firstToken = Histogram([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
        var interToken = Histogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
        var queueWait = Histogram([0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60])
        var duration = Histogram([0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600])
    }

    private let state = Mutex(State())

    /// A generation ended (`seconds` since its admission).
    func finished(_ stats: GenerationStatistics, seconds: Double) {
        state.withLock {
            $0.promptTokens += stats.prefilledTokens
            $0.cachedPromptTokens += stats.cachedPromptTokens
            $0.generatedTokens += stats.generatedTokens
            $0.promptSeconds += stats.promptSeconds
            $0.generationSeconds += stats.generationSeconds
            $0.requests += 1
            $0.queueWait.observe(stats.queueSeconds)
            $0.duration.observe(seconds)
        }
    }

    func firstToken(after seconds: Double) { state.withLock { $0.firstToken.observe(seconds) } }
    func interToken(_ seconds: Double) { state.withLock { $0.interToken.observe(seconds) } }
    func cancelled() { state.withLock { $0.cancelled += 1 } }
    func rejected() { state.withLock { $0.rejected += 1 } }

    /// The exposition text, with the slot gauges read from the engine at scrape time.
    func render(_ engine: BatchEngineSnapshot) -> String {
        let processing = engine.slots.filter { $0.phase != .idle }.count
        let queued = engine.waitingRequests
        let slots = engine.slots.count
        let cells = engine.slots.reduce(0) { $0 + $1.cachedTokens }
        let capacity = engine.slots.reduce(0) { $0 + $1.contextSize }
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
        metric("prompt_tokens_total", "counter", "Prompt tokens run through the model.", "\(s.promptTokens)")
        metric(
            "prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's cache.",
            "\(s.cachedPromptTokens)")
        metric("tokens_predicted_total", "counter", "Tokens generated.", "\(s.generatedTokens)")
        metric(
            "prompt_tokens_seconds", "gauge", "Average prompt throughput of a request, tokens/s.",
            "\(s.promptSeconds > 0 ? Double(s.promptTokens) / s.promptSeconds : 0)")
        metric(
            "predicted_tokens_seconds", "gauge", "Average generation throughput of a request, tokens/s.",
            "\(s.generationSeconds > 0 ? Double(s.generatedTokens) / s.generationSeconds : 0)")
        metric("requests_total", "counter", "Generation requests finished.", "\(s.requests)")
        metric(
            "requests_cancelled_total", "counter", "Generations stopped by a disconnect or a timeout.", "\(s.cancelled)"
        )
        metric("requests_rejected_total", "counter", "Requests refused because the queue was full.", "\(s.rejected)")
        metric("requests_processing", "gauge", "Slots generating now.", "\(processing)")
        metric("requests_deferred", "gauge", "Requests waiting for a slot.", "\(queued)")
        metric("slots", "gauge", "Slots in all.", "\(slots)")
        metric("kv_cache_tokens", "gauge", "KV cache cells in use, all slots.", "\(cells)")
        metric(
            "kv_cache_usage_ratio", "gauge", "KV cache cells in use over the slots' context sizes.",
            "\(capacity > 0 ? Double(cells) / Double(capacity) : 0)")
        histogram("time_to_first_token_seconds", "Seconds from admission to the first generated token.", s.firstToken)
        histogram("inter_token_seconds", "Seconds between consecutive generated tokens.", s.interToken)
        histogram("queue_wait_seconds", "Seconds a request waited for a slot.", s.queueWait)
        histogram("request_duration_seconds", "Seconds from admission to the last byte of a generation.", s.duration)
        return out
    }
}
