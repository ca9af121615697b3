/// Everything that can be wrong with a GGUF file, with enough context for a user to act on it.
///
/// Each case names the file and the offending key, tensor, offset or value, so the message alone tells
/// a user whether the download is truncated, the file is not a GGUF at all, or it uses a feature
/// Stretch does not support yet.
public enum GGUFError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file could not be opened or mapped.
    case cannotOpen(file: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(file: String, found: [UInt8])
    /// A GGUF version this reader does not understand (only 2 and 3 are supported).
    case unsupportedVersion(file: String, version: UInt32)
    /// The file ends before a structure that should be there.
    case truncated(file: String, offset: Int, needed: Int, fileSize: Int, reading: String)
    /// A metadata value type id outside the GGUF spec.
    case unknownValueType(file: String, key: String, rawType: UInt32)
    /// A tensor's data lies (partly) outside the file.
    case tensorDataOutOfBounds(file: String, tensor: String, start: Int, end: Int, fileSize: Int)
    /// A tensor type id this reader does not know.
    case unknownTensorType(file: String, tensor: String, rawType: UInt32)
    /// A tensor's dimensions overflow, are zero-rank beyond the limit, or do not fit the block size.
    case invalidDimensions(file: String, tensor: String, dims: [UInt64], reason: String)
    /// A metadata key has a different type than expected.
    case wrongMetadataType(file: String, key: String, expected: String, found: String)
    /// A metadata key that is required is absent.
    case missingKey(file: String, key: String)
    /// A required tensor is absent.
    case missingTensor(file: String, tensor: String)
    /// A tensor has a shape other than the one the model needs.
    case unexpectedShape(file: String, tensor: String, expected: [Int], found: [Int])
    /// A string is not valid UTF-8, or a count is absurdly large.
    case invalidValue(file: String, key: String, reason: String)
    /// A count or length read from the file (`field`) claims more items than the bytes left could hold,
    /// even at `bytesEach`, the smallest encoding of one item; refused before anything is allocated for it.
    case countExceedsFile(file: String, field: String, count: UInt64, bytesEach: Int, offset: Int, remaining: Int)
    /// A tensor holds a NaN or an infinity (`--check-tensors`); `element` is its index in file order.
    case nonFiniteValue(file: String, tensor: String, element: Int, value: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open: \(reason)"
        case let .badMagic(file, found):
            let hex = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "\(file): not a GGUF file (magic bytes are [\(hex)], expected 'GGUF' = [47 47 55 46])"
        case let .unsupportedVersion(file, version):
            return "\(file): GGUF version \(version) is not supported (supported: 2, 3); re-convert the model with a current llama.cpp"
        case let .truncated(file, offset, needed, fileSize, reading):
            return "\(file): truncated file: reading \(reading) needs \(needed) bytes at offset \(offset), but the file has \(fileSize) bytes (incomplete download?)"
        case let .unknownValueType(file, key, rawType):
            return "\(file): metadata key '\(key)' has unknown value type \(rawType)"
        case let .tensorDataOutOfBounds(file, tensor, start, end, fileSize):
            return "\(file): tensor '\(tensor)' data [\(start), \(end)) lies outside the file (\(fileSize) bytes); the file is truncated or corrupt"
        case let .unknownTensorType(file, tensor, rawType):
            return "\(file): tensor '\(tensor)' has unsupported type id \(rawType); supported: \(GGMLType.supportedList)"
        case let .invalidDimensions(file, tensor, dims, reason):
            return "\(file): tensor '\(tensor)' has invalid dimensions \(dims): \(reason)"
        case let .wrongMetadataType(file, key, expected, found):
            return "\(file): metadata key '\(key)' should be \(expected) but is \(found)"
        case let .missingKey(file, key):
            return "\(file): required metadata key '\(key)' is missing"
        case let .missingTensor(file, tensor):
            return "\(file): required tensor '\(tensor)' is missing"
        case let .unexpectedShape(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .invalidValue(file, key, reason):
            return "\(file): invalid value for '\(key)': \(reason)"
        case let .countExceedsFile(file, field, count, bytesEach, offset, remaining):
            let (needed, overflow) = count.multipliedReportingOverflow(by: UInt64(bytesEach))
            let total = overflow ? "more than \(UInt64.max)" : "\(needed)"
            return "\(file): \(field) is \(count), which needs at least \(total) bytes (\(bytesEach) each), "
                + "but only \(remaining) bytes remain after offset \(offset); the file is corrupt"
        case let .nonFiniteValue(file, tensor, element, value):
            return "\(file): tensor '\(tensor)' holds \(value) at element \(element); the weights are corrupt"
        }
    }
}
