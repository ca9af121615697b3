/// A parsed, memory-mapped GGUF file: metadata, tensor table, and pointers to tensor data.
///
/// Every offset is checked against the file size before it is read, so a truncated or corrupt file
/// yields a ``GGUFError`` naming what was being read, never a crash.
// @unchecked: every property is immutable after init, and the mapping is read-only.
public final class GGUFFile: @unchecked Sendable {
    /// Path the file was opened from.
    public let path: String
    /// GGUF format version (2 or 3).
    public let version: UInt32
    /// Metadata in file order.
    public let metadataKeys: [String]
    /// Metadata by key.
    public let metadata: [String: GGUFValue]
    /// Tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// Tensor table by name.
    public let tensorsByName: [String: GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// The underlying mapping.
    public let mapping: MappedFile

    /// The largest tensor element count or data offset accepted; larger values mean a corrupt file.
    /// (Counts of items in the file are bounded by the bytes left instead: ``GGUFByteReader/count(reading:bytesEach:)``.)
    static let maxCount = 1 << 40
    /// The smallest encoding of one metadata entry: key length (8), type (4), a one-byte value.
    static let minimumMetadataEntryBytes = 13
    /// The smallest encoding of one tensor-table entry: name length (8), rank (4), one dimension (8), type (4),
    /// data offset (8).
    static let minimumTensorEntryBytes = 32

    /// Opens and parses `path`.
    public convenience init(path: String) throws {
        try self.init(mapping: MappedFile(path: path))
    }

    /// Parses an existing mapping.
    public init(mapping: MappedFile) throws {
        self.mapping = mapping
        self.path = mapping.path
        var reader = GGUFByteReader(base: mapping.base, size: mapping.size, file: mapping.path)
        let magic = try reader.bytes(4, reading: "magic")
        guard magic == [0x47, 0x47, 0x55, 0x46] else { throw GGUFError.badMagic(file: path, found: magic) }
        let version = try reader.read(UInt32.self, reading: "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: path, version: version) }
        self.version = version
        // Both counts are read before either table, so each table's bound leaves room for the other's minimum.
        let tensorCount = try reader.count(reading: "tensor count", bytesEach: Self.minimumTensorEntryBytes)
        let kvCount = try reader.count(reading: "metadata entry count", bytesEach: Self.minimumMetadataEntryBytes)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for index in 0..<kvCount {
            let key = try reader.string(reading: "metadata key #\(index)")
            let rawType = try reader.read(UInt32.self, reading: "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.unknownValueType(file: path, key: key, rawType: rawType)
            }
            let value = try reader.value(of: type, key: key, depth: 0)
            if metadata[key] == nil { keys.append(key) }
            metadata[key] = value
        }
        self.metadataKeys = keys
        self.metadata = metadata

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case let .uint32(a) = value else {
                throw GGUFError.wrongMetadataType(
                    file: path, key: "general.alignment", expected: "uint32", found: value.typeDescription)
            }
            guard a > 0, a & (a - 1) == 0 else {
                throw GGUFError.invalidValue(file: path, key: "general.alignment", reason: "\(a) is not a power of two")
            }
            alignment = Int(a)
        }
        self.alignment = alignment

        struct RawTensor { let name: String; let type: GGMLType; let dims: [Int]; let dims64: [UInt64]; let offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let name = try reader.string(reading: "tensor #\(index) name")
            let nDims = try reader.read(UInt32.self, reading: "dimension count of '\(name)'")
            guard nDims >= 1, nDims <= 4 else {
                throw GGUFError.invalidDimensions(
                    file: path, tensor: name, dims: [], reason: "rank \(nDims) (must be 1...4)")
            }
            var dims64: [UInt64] = []
            for _ in 0..<nDims { dims64.append(try reader.read(UInt64.self, reading: "dimensions of '\(name)'")) }
            let rawType = try reader.read(UInt32.self, reading: "type of '\(name)'")
            let offset = try reader.read(UInt64.self, reading: "data offset of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError.unknownTensorType(file: path, tensor: name, rawType: rawType)
            }
            var product: UInt64 = 1
            for d in dims64 {
                guard d > 0 else {
                    throw GGUFError.invalidDimensions(file: path, tensor: name, dims: dims64, reason: "a dimension is 0")
                }
                let (p, overflow) = product.multipliedReportingOverflow(by: d)
                guard !overflow, p <= UInt64(Self.maxCount) else {
                    throw GGUFError.invalidDimensions(
                        file: path, tensor: name, dims: dims64, reason: "element count overflows")
                }
                product = p
            }
            guard dims64[0] % UInt64(type.blockSize) == 0 else {
                throw GGUFError.invalidDimensions(
                    file: path, tensor: name, dims: dims64,
                    reason: "row length \(dims64[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            raw.append(RawTensor(name: name, type: type, dims: dims64.map { Int($0) }, dims64: dims64, offset: offset))
        }

        let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        var infos: [GGUFTensorInfo] = []
        var byName: [String: GGUFTensorInfo] = [:]
        for t in raw {
            let elements = t.dims.reduce(1, *)
            let bytes = elements / t.type.blockSize * t.type.blockBytes
            guard t.offset <= UInt64(Self.maxCount), t.offset % UInt64(alignment) == 0 else {
                throw GGUFError.tensorDataOutOfBounds(
                    file: path, tensor: t.name, start: dataOffset, end: dataOffset, fileSize: mapping.size)
            }
            let start = dataOffset + Int(t.offset)
            let end = start + bytes
            guard end <= mapping.size else {
                throw GGUFError.tensorDataOutOfBounds(
                    file: path, tensor: t.name, start: start, end: end, fileSize: mapping.size)
            }
            let info = GGUFTensorInfo(name: t.name, type: t.type, dims: t.dims, fileOffset: start, byteCount: bytes)
            infos.append(info)
            byName[t.name] = info
        }
        self.tensors = infos
        self.tensorsByName = byName
    }

    /// Pointer to the first byte of a tensor's data. Valid while this file is alive.
    package func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        mapping.base!.advanced(by: tensor.fileOffset)
    }

    /// A tensor's values dequantized to float32, in file order (`dims[0]` varies fastest).
    /// - Complexity: O(elements); allocates the whole tensor.
    public func floats(of tensor: GGUFTensorInfo) -> [Float] {
        let count = tensor.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { Dequantize.row(tensor.type, data(of: tensor), buffer.baseAddress!, count: count) }
            initialized = count
        }
    }

    /// The tensor named `name`, or a ``GGUFError/missingTensor(file:tensor:)`` error.
    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        guard let t = tensorsByName[name] else { throw GGUFError.missingTensor(file: path, tensor: name) }
        return t
    }

    // MARK: Typed metadata access

    /// A required integer value.
    public func int(_ key: String) throws -> Int {
        guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
        guard let v = value.intValue else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "an integer", found: value.typeDescription)
        }
        return v
    }

    /// An optional integer value (nil when absent; an error when present with another type).
    public func optionalInt(_ key: String) throws -> Int? {
        guard metadata[key] != nil else { return nil }
        return try int(key)
    }

    /// A required floating-point value.
    public func double(_ key: String) throws -> Double {
        guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
        guard let v = value.doubleValue else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "a number", found: value.typeDescription)
        }
        return v
    }

    /// An optional floating-point value.
    public func optionalDouble(_ key: String) throws -> Double? {
        guard metadata[key] != nil else { return nil }
        return try double(key)
    }

    /// A required string value.
    public func string(_ key: String) throws -> String {
        guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
        guard let v = value.stringValue else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "string", found: value.typeDescription)
        }
        return v
    }

    /// An optional string value.
    public func optionalString(_ key: String) throws -> String? {
        guard metadata[key] != nil else { return nil }
        return try string(key)
    }

    /// An optional bool value.
    public func optionalBool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let v = value.boolValue else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "bool", found: value.typeDescription)
        }
        return v
    }

    /// An optional array of strings.
    public func optionalStringArray(_ key: String) throws -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard case let .array(type, values) = value, type == .string || values.isEmpty else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "array of string", found: value.typeDescription)
        }
        return values.map { $0.stringValue ?? "" }
    }

    /// An optional array of numbers, converted to Float.
    public func optionalFloatArray(_ key: String) throws -> [Float]? {
        guard let value = metadata[key] else { return nil }
        guard case let .array(_, values) = value else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "array of numbers", found: value.typeDescription)
        }
        return try values.map {
            guard let d = $0.doubleValue else {
                throw GGUFError.wrongMetadataType(file: path, key: key, expected: "array of numbers", found: value.typeDescription)
            }
            return Float(d)
        }
    }

    /// An optional array of integers.
    public func optionalIntArray(_ key: String) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard case let .array(_, values) = value else {
            throw GGUFError.wrongMetadataType(file: path, key: key, expected: "array of integers", found: value.typeDescription)
        }
        return try values.map {
            guard let v = $0.intValue else {
                throw GGUFError.wrongMetadataType(file: path, key: key, expected: "array of integers", found: value.typeDescription)
            }
            return v
        }
    }
}
