/// Finds stop strings in streamed text, holding back text that could still become one.
public struct StopStringMatcher: Sendable {
    /// The stop strings (empty strings are ignored).
    public let stops: [String]
    private var pending = ""

    /// Creates a matcher.
    public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds text; returns the text that is safe to emit and whether a stop string was hit
    /// (the stop string and anything after it are never emitted).
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        if stops.isEmpty { return (text, false) }
        pending += text
        for s in stops {
            if let r = pending.range(of: s) {
                let out = String(pending[..<r.lowerBound])
                pending = ""
                return (out, true)
            }
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var keep = 0
        for s in stops {
            for n in stride(from: min(s.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(String(s.prefix(n))) {
                keep = max(keep, n)
                break
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -keep)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        return (out, false)
    }

    /// Text still held back at the end of generation.
    public mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}
