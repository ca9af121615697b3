/// `--check-tensors`: every weight scanned for NaN and infinity, so a corrupt download fails at load with the
/// tensor's name instead of producing NaN logits later.
extension GGUFFile {
    /// Dequantizes every tensor row by row (one row buffer, no copy of the weights) and throws
    /// ``GGUFError/nonFiniteValue(file:tensor:element:value:)`` for the first NaN or infinity, in file order.
    /// - Complexity: O(total elements); reads the whole file once.
    public func checkFinite() throws {
        var row: [Float] = []
        for tensor in tensors {
            let length = tensor.rowLength
            let rowBytes = length / tensor.type.blockSize * tensor.type.blockBytes
            if row.count < length { row = [Float](repeating: 0, count: length) }
            let base = data(of: tensor)
            for r in 0..<tensor.rowCount {
                let bad: Int? = row.withUnsafeMutableBufferPointer { out in
                    Dequantize.row(tensor.type, base + r * rowBytes, out.baseAddress!, count: length)
                    return (0..<length).first { !out[$0].isFinite }
                }
                if let bad {
                    throw GGUFError.nonFiniteValue(
                        file: path, tensor: tensor.name, element: r * length + bad, value: "\(row[bad])")
                }
            }
        }
    }
}
