#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes GGUF files: used by tests to build tiny random-weight models and deliberately broken files.
public struct GGUFWriter {
    /// A tensor to write: name, type, ggml-order dimensions and its raw encoded bytes.
    public struct Tensor {
        public var name: String
        public var type: GGMLType
        public var dims: [Int]
        public var data: [UInt8]
        /// Overrides the stored type id (to write an unknown type on purpose).
        public var rawTypeOverride: UInt32?

        public init(name: String, type: GGMLType, dims: [Int], data: [UInt8], rawTypeOverride: UInt32? = nil) {
            self.name = name
            self.type = type
            self.dims = dims
            self.data = data
            self.rawTypeOverride = rawTypeOverride
        }
    }

    /// GGUF version written into the header.
    public var version: UInt32 = 3
    /// Alignment of tensor data.
    public var alignment = 32
    /// Metadata in the order written.
    public var metadata: [(String, GGUFValue)] = []
    /// Tensors in the order written.
    public var tensors: [Tensor] = []

    public init() {}

    /// Adds a metadata entry.
    public mutating func set(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// Adds an F32 tensor from float values.
    public mutating func addF32(_ name: String, dims: [Int], values: [Float]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        tensors.append(Tensor(name: name, type: .f32, dims: dims, data: bytes))
    }

    /// Encodes the whole file.
    public func bytes() -> [UInt8] {
        var out = [UInt8]()
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) {
            let u = Array(s.utf8)
            put(UInt64(u.count))
            out.append(contentsOf: u)
        }
        func putValue(_ v: GGUFValue) {
            switch v {
            case let .uint8(x): put(x)
            case let .int8(x): put(x)
            case let .uint16(x): put(x)
            case let .int16(x): put(x)
            case let .uint32(x): put(x)
            case let .int32(x): put(x)
            case let .float32(x): put(x.bitPattern)
            case let .bool(x): put(UInt8(x ? 1 : 0))
            case let .string(s): putString(s)
            case let .array(t, values):
                put(t.rawValue)
                put(UInt64(values.count))
                for e in values { putValue(e) }
            case let .uint64(x): put(x)
            case let .int64(x): put(x)
            case let .float64(x): put(x.bitPattern)
            }
        }
        out.append(contentsOf: [0x47, 0x47, 0x55, 0x46])
        put(version)
        put(UInt64(tensors.count))
        var meta = metadata
        if alignment != 32 && !meta.contains(where: { $0.0 == "general.alignment" }) {
            meta.insert(("general.alignment", .uint32(UInt32(alignment))), at: 0)
        }
        put(UInt64(meta.count))
        for (k, v) in meta {
            putString(k)
            put(v.type.rawValue)
            putValue(v)
        }
        var offsets: [Int] = []
        var cursor = 0
        for t in tensors {
            offsets.append(cursor)
            cursor += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            putString(t.name)
            put(UInt32(t.dims.count))
            for d in t.dims { put(UInt64(d)) }
            put(t.rawTypeOverride ?? t.type.rawValue)
            put(UInt64(off))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file to `path`.
    public func write(to path: String) throws {
        try GGUFWriter.writeBytes(bytes(), to: path)
    }

    /// Writes raw bytes to `path` (used for deliberately corrupted files too).
    public static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        guard let f = fopen(path, "wb") else {
            throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        guard written == bytes.count else {
            throw GGUFError.cannotOpen(file: path, reason: "short write")
        }
    }
}
