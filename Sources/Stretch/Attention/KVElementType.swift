/// How keys and values are stored in the KV cache.
public enum KVElementType: String, Sendable, CaseIterable {
    /// float32: exact, twice the memory.
    case f32
    /// IEEE binary16: half the memory and bandwidth; converted to float32 on the fly in attention.
    case f16

    /// Bytes per stored element.
    public var size: Int { self == .f32 ? 4 : 2 }
}
