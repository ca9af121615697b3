/// A 2-D weight stored in the mapped GGUF file: `rows` output features of `columns` inputs each.
///
/// GGUF stores a linear layer as `dims = [columns, rows]`, row-major, each row `type.rowBytes(columns)`
/// bytes, so a row is one output feature and dequantizes independently of the others.
// @unchecked: `data` points into a read-only mapping that the owning GGUFFile keeps alive; nothing writes it.
package struct WeightMatrix: @unchecked Sendable {
    /// Tensor name, for messages.
    package let name: String
    /// Element format.
    package let type: GGMLType
    /// Number of output features.
    package let rows: Int
    /// Number of input features (row length).
    package let columns: Int
    /// Bytes per row.
    package let rowBytes: Int
    /// First byte of row 0.
    package let data: UnsafeRawPointer

    /// Wraps a tensor of `file`.
    package init(file: GGUFFile, tensor: GGUFTensorInfo) {
        name = tensor.name
        type = tensor.type
        columns = tensor.rowLength
        rows = tensor.rowCount
        rowBytes = tensor.type.rowBytes(columns)
        data = file.data(of: tensor)
    }

    /// Pointer to row `r`.
    @inline(__always)
    package func row(_ r: Int) -> UnsafeRawPointer { data.advanced(by: r * rowBytes) }

    /// Dequantizes row `r` into `out` (`columns` floats).
    package func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        Dequantize.row(type, row(r), out, count: columns)
    }
}
