/// A bounds-checked little-endian cursor over a mapped GGUF file.
struct GGUFByteReader {
    let base: UnsafeRawPointer?
    let size: Int
    let file: String
    var offset = 0

    init(base: UnsafeRawPointer?, size: Int, file: String) {
        self.base = base
        self.size = size
        self.file = file
    }

    @inline(__always)
    mutating func need(_ n: Int, reading what: String) throws {
        guard n >= 0, offset <= size, size - offset >= n, base != nil || n == 0 else {
            throw GGUFError.truncated(file: file, offset: offset, needed: n, fileSize: size, reading: what)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, reading what: String) throws -> T {
        try need(MemoryLayout<T>.size, reading: what)
        let v = base!.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func bytes(_ n: Int, reading what: String) throws -> [UInt8] {
        try need(n, reading: what)
        let out = [UInt8](UnsafeRawBufferPointer(start: base!.advanced(by: offset), count: n))
        offset += n
        return out
    }

    /// Reads a count of items that follow in the file, each at least `bytesEach` bytes, and refuses one that
    /// the rest of the file cannot hold: every allocation sized by a count is then bounded by the file size.
    mutating func count(reading what: String, bytesEach: Int) throws -> Int {
        let v = try read(UInt64.self, reading: what)
        let remaining = size - offset
        guard v <= UInt64(remaining / bytesEach) else {
            throw GGUFError.countExceedsFile(
                file: file, field: what, count: v, bytesEach: bytesEach, offset: offset, remaining: remaining)
        }
        return Int(v)
    }

    mutating func string(reading what: String) throws -> String {
        let n = try count(reading: "length of \(what)", bytesEach: 1)
        let buffer = UnsafeRawBufferPointer(start: base!.advanced(by: offset), count: n)
        offset += n
        // GGUF strings are UTF-8; invalid sequences are replaced rather than rejected, as llama.cpp
        // vocabularies occasionally carry raw bytes.
        return String(decoding: buffer, as: UTF8.self)
    }

    mutating func value(of type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, reading: what))
        case .int8: return .int8(try read(Int8.self, reading: what))
        case .uint16: return .uint16(try read(UInt16.self, reading: what))
        case .int16: return .int16(try read(Int16.self, reading: what))
        case .uint32: return .uint32(try read(UInt32.self, reading: what))
        case .int32: return .int32(try read(Int32.self, reading: what))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, reading: what)))
        case .bool:
            let b = try read(UInt8.self, reading: what)
            guard b <= 1 else { throw GGUFError.invalidValue(file: file, key: key, reason: "bool byte is \(b)") }
            return .bool(b == 1)
        case .string: return .string(try string(reading: what))
        case .uint64: return .uint64(try read(UInt64.self, reading: what))
        case .int64: return .int64(try read(Int64.self, reading: what))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, reading: what)))
        case .array:
            guard depth < 8 else { throw GGUFError.invalidValue(file: file, key: key, reason: "arrays nested too deeply") }
            let rawType = try read(UInt32.self, reading: "element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.unknownValueType(file: file, key: key, rawType: rawType)
            }
            // The smallest encoding of one element: its fixed size, a string's length, or a nested array's
            // element type and length.
            let minimumBytes = elementType.fixedSize ?? (elementType == .array ? 12 : 8)
            let n = try count(reading: "length of array '\(key)'", bytesEach: minimumBytes)
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try value(of: elementType, key: key, depth: depth + 1)) }
            return .array(elementType, values)
        }
    }
}
