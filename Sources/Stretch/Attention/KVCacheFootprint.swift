/// The memory of a ``KVCache`` of one shape: bytes every token adds, plus rings that stop growing.
public struct KVCacheFootprint: Sendable, Equatable {
    /// A store that keeps only the last tokens its attention can read (``KVCache``'s rings).
    public struct Ring: Sendable, Equatable {
        /// Slots of the ring once full.
        public var slots: Int
        /// Bytes of one slot over every layer and KV head sharing this ring size.
        public var bytesPerSlot: Int

        /// A ring of `slots` slots of `bytesPerSlot` bytes.
        public init(slots: Int, bytesPerSlot: Int) {
            self.slots = slots
            self.bytesPerSlot = bytesPerSlot
        }
    }

    /// Bytes each token adds to the full-history stores (values, far keys, keys without a ring).
    public var bytesPerToken: Int
    /// The rings, by size.
    public var rings: [Ring]

    /// Bytes of the rings once full.
    public var ringBytes: Int { rings.reduce(0) { $0 + $1.slots * $1.bytesPerSlot } }

    /// Bytes a cache holding `tokens` tokens takes: every token in the full-history stores, and each ring
    /// up to that many slots (a ring never holds more slots than tokens). Saturates at `UInt64.max`.
    public func bytes(tokens: Int) -> UInt64 {
        let n = UInt64(max(0, tokens))
        var (total, overflow) = n.multipliedReportingOverflow(by: UInt64(bytesPerToken))
        for r in rings where !overflow {
            let part = UInt64(min(tokens, r.slots) * r.bytesPerSlot)
            (total, overflow) = total.addingReportingOverflow(part)
        }
        return overflow ? .max : total
    }
}
