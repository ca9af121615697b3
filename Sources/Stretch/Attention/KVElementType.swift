/// How keys or values are stored in the KV cache (keys and values choose independently).
public enum KVElementType: String, Sendable, CaseIterable {
    /// float32: exact, twice the memory of f16.
    case f32
    /// IEEE binary16: half the memory and bandwidth; converted to float32 on the fly in attention.
    case f16
    /// llama.cpp's Q8_0 blocks (32 int8 values and one f16 scale, 34 bytes): 8.5 bits per element.
    case q8_0
    /// llama.cpp's Q4_0 blocks (32 four-bit values and one f16 scale, 18 bytes): 4.5 bits per element.
    case q4_0

    /// Elements per block: 1 for the float types, 32 for the block formats.
    public var blockSize: Int {
        switch self {
        case .f32, .f16: return 1
        case .q8_0, .q4_0: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .q8_0: return 34
        case .q4_0: return 18
        }
    }

    /// Bytes of one stored head vector of `headDim` elements (a multiple of ``blockSize``).
    public func rowBytes(headDim: Int) -> Int { headDim / blockSize * blockBytes }

    /// Whether a head of `headDim` elements can be stored: the block formats need a multiple of 32.
    public func supports(headDim: Int) -> Bool { headDim > 0 && headDim % blockSize == 0 }

    /// Bits per element, for reports.
    public var bitsPerElement: Double { Double(blockBytes * 8) / Double(blockSize) }

    /// Stores `values` (a multiple of ``blockSize``) in this format, exactly as the KV cache does.
    package func encode(_ values: [Float]) -> [UInt8] {
        precondition(values.count % blockSize == 0)
        var out = [UInt8](repeating: 0, count: values.count / blockSize * blockBytes)
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { dst in
                switch self {
                case .f32: F32Element.store(x.baseAddress!, dst.baseAddress!, values.count)
                case .f16: F16Element.store(x.baseAddress!, dst.baseAddress!, values.count)
                case .q8_0: Q8_0Element.store(x.baseAddress!, dst.baseAddress!, values.count)
                case .q4_0: Q4_0Element.store(x.baseAddress!, dst.baseAddress!, values.count)
                }
            }
        }
        return out
    }

    /// The float32 values that attention reads back from `bytes` (`count` elements).
    package func decode(_ bytes: [UInt8], count: Int) -> [Float] {
        precondition(bytes.count == count / blockSize * blockBytes)
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { y in
                switch self {
                case .f32: F32Element.load(src.baseAddress!, y.baseAddress!, count)
                case .f16: F16Element.load(src.baseAddress!, y.baseAddress!, count)
                case .q8_0: Q8_0Element.load(src.baseAddress!, y.baseAddress!, count)
                case .q4_0: Q4_0Element.load(src.baseAddress!, y.baseAddress!, count)
                }
            }
        }
        return out
    }
}
