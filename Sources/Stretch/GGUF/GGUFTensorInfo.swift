/// One entry of a GGUF tensor table: name, type, shape and where its bytes are.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// Tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Element format.
    public let type: GGMLType
    /// Dimensions in ggml order: `dims[0]` is the contiguous (row) length.
    public let dims: [Int]
    /// Absolute byte offset of the data in the file.
    public let fileOffset: Int
    /// Number of bytes of data.
    public let byteCount: Int

    /// Total number of elements.
    public var elementCount: Int { dims.reduce(1, *) }
    /// Length of one row (the contiguous dimension).
    public var rowLength: Int { dims.first ?? 1 }
    /// Number of rows (product of all other dimensions).
    public var rowCount: Int { dims.dropFirst().reduce(1, *) }
}
