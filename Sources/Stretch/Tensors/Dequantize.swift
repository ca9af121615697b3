// TEMPORARY stub: replaced by the full quantized-format implementation.
/// Converts rows of stored tensors to float32.
public enum Dequantize {
    /// Dequantizes `count` elements of one row.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        switch type {
        case .f32: dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        default: fatalError("unsupported in stub")
        }
    }
}
/// Fused dequantize + dot.
public enum QuantizedDot {
    /// Dot of one stored row with a float32 vector.
    public static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        switch type {
        case .f32: return VectorOps.dot(row.assumingMemoryBound(to: Float.self), x, count)
        default: fatalError("unsupported in stub")
        }
    }
}
