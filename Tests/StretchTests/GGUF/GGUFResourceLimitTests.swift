import Foundation
import Stretch
import XCTest

/// Counts and lengths in a hostile GGUF are refused against the bytes left in the file, before anything is
/// allocated for them, with a message that names the field and the numbers.
final class GGUFResourceLimitTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stretch-gguf-limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `bytes` with the little-endian u64 at `offset` replaced by `value`.
    func patched(_ bytes: [UInt8], at offset: Int, _ value: UInt64) -> [UInt8] {
        var out = bytes
        for i in 0..<8 { out[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return out
    }

    /// Parses `bytes` and checks the refusal names `field`, the count, the per-item minimum and the bytes left.
    func expectRefusal(
        _ bytes: [UInt8], field: String, count: UInt64, bytesEach: Int, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let path = directory + "/hostile.gguf"
        try GGUFWriter.writeBytes(bytes, to: path)
        XCTAssertThrowsError(try GGUFFile(path: path), file: file, line: line) { error in
            guard case let .countExceedsFile(_, f, c, each, offset, remaining) = error as? GGUFError else {
                return XCTFail("expected countExceedsFile, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(f, field, file: file, line: line)
            XCTAssertEqual(c, count, file: file, line: line)
            XCTAssertEqual(each, bytesEach, file: file, line: line)
            XCTAssertEqual(remaining, bytes.count - offset, file: file, line: line)
            let message = "\(error)"
            for part in [path, field, "\(count)", "\(bytesEach) each", "only \(remaining) bytes remain"] {
                XCTAssertTrue(message.contains(part), "'\(part)' missing from: \(message)", file: file, line: line)
            }
        }
    }

    // Layout (GGUFWriter): magic 0..<4, version 4..<8, tensor count 8..<16, metadata count 16..<24, then
    // metadata entries (key length u64, key, type u32, value), then tensor entries.

    func testTensorCountLargerThanTheFileCouldHold() throws {
        var w = GGUFWriter()
        w.addF32("t", dims: [2], values: [1, 2])
        try expectRefusal(patched(w.bytes(), at: 8, 1 << 40), field: "tensor count", count: 1 << 40, bytesEach: 32)
        // A count just past what the bytes left could hold, at the smallest entry size, is refused too.
        let bytes = w.bytes()
        let justTooMany = UInt64((bytes.count - 16) / 32 + 1)
        try expectRefusal(patched(bytes, at: 8, justTooMany), field: "tensor count", count: justTooMany, bytesEach: 32)
    }

    func testMetadataEntryCountLargerThanTheFileCouldHold() throws {
        var w = GGUFWriter()
        w.set("k", .uint32(7))
        try expectRefusal(
            patched(w.bytes(), at: 16, UInt64.max), field: "metadata entry count", count: .max, bytesEach: 13)
    }

    func testKeyStringAndTensorNameLengths() throws {
        var w = GGUFWriter()
        w.set("s", .string("abc"))
        // Key length at 24; the value's length after key (1 byte) and type (4).
        try expectRefusal(
            patched(w.bytes(), at: 24, 1 << 33), field: "length of metadata key #0", count: 1 << 33, bytesEach: 1)
        try expectRefusal(
            patched(w.bytes(), at: 24 + 8 + 1 + 4, 1 << 33), field: "length of value of 's'", count: 1 << 33,
            bytesEach: 1)
        var t = GGUFWriter()
        t.addF32("weights", dims: [2], values: [1, 2])
        try expectRefusal(
            patched(t.bytes(), at: 24, 1 << 50), field: "length of tensor #0 name", count: 1 << 50, bytesEach: 1)
    }

    func testArrayLengthsAtEachElementSize() throws {
        // Element type → the smallest bytes one element can take.
        let cases: [(GGUFValue, Int)] = [
            (.array(.uint8, [.uint8(1)]), 1), (.array(.uint32, [.uint32(1)]), 4), (.array(.float64, [.float64(1)]), 8),
            (.array(.string, [.string("a")]), 8), (.array(.array, [.array(.int8, [])]), 12),
        ]
        for (value, each) in cases {
            var w = GGUFWriter()
            w.set("arr", value)
            // The length follows key length (8), key (3), type (4) and element type (4).
            let bytes = w.bytes()
            let count = UInt64((bytes.count - (24 + 8 + 3 + 4 + 4 + 8)) / each + 1)
            try expectRefusal(
                patched(bytes, at: 24 + 8 + 3 + 4 + 4, count), field: "length of array 'arr'", count: count,
                bytesEach: each)
        }
    }

    func testDimensionsWhoseDataCannotFitTheFile() throws {
        // 2^39 elements pass the element-count cap but their 2 TiB of data are not in the file.
        var w = GGUFWriter()
        w.tensors.append(.init(name: "huge", type: .f32, dims: [1 << 20, 1 << 19], data: []))
        let path = directory + "/dims.gguf"
        try w.write(to: path)
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            guard case let .tensorDataOutOfBounds(_, tensor, start, end, size) = error as? GGUFError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(tensor, "huge")
            XCTAssertEqual(end - start, 4 << 39)
            XCTAssertTrue("\(error)".contains("[\(start), \(end))") && "\(error)".contains("(\(size) bytes)"), "\(error)")
        }
    }

    /// The built `stretch inspect` refuses each hostile file under an address-space limit that an allocation
    /// of the claimed size could not fit in: the refusal happens before any allocation proportional to a count.
    func testInspectRefusesHostileFilesUnderAMemoryLimit() throws {
        var meta = GGUFWriter()
        meta.set("general.architecture", .string("llama"))
        var tensor = GGUFWriter()
        tensor.addF32("t", dims: [2], values: [1, 2])
        // Each claimed count, reserved as Swift arrays (16-byte strings, 32+-byte entries), needs ≥ 4 GiB.
        let files: [(String, [UInt8], String)] = [
            ("kv.gguf", patched(meta.bytes(), at: 16, 1 << 28), "metadata entry count is 268435456"),
            ("tensors.gguf", patched(tensor.bytes(), at: 8, 1 << 28), "tensor count is 268435456"),
            ("key.gguf", patched(meta.bytes(), at: 24, 1 << 33), "length of metadata key #0 is 8589934592"),
        ]
        for (name, bytes, expected) in files {
            let path = directory + "/" + name
            try GGUFWriter.writeBytes(bytes, to: path)
            let out = try Self.runLimited(["inspect", path], kilobytes: Self.addressSpaceLimitKB)
            XCTAssertEqual(out.status, 1, "\(name): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains(expected), "\(name): \(out.stderr)")
        }
        // The binary itself runs under the bound.
        let ok = try Self.runLimited(["--help"], kilobytes: Self.addressSpaceLimitKB)
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// `ulimit -v` for the child (KiB): 2 GiB, room for the binary's own address-space reservations (`stretch
    /// inspect` of stories260K runs under 256 MiB) and half the 4 GiB the hostile counts would reserve: before
    /// the check, the kv.gguf case died under this limit with "failed to allocate 4294967328 bytes".
    static let addressSpaceLimitKB = 2 << 20

    static func runLimited(_ arguments: [String], kilobytes: Int) throws -> CLIRunner.Output {
        let quoted = ([CLIRunner.binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try CLIRunner.run(
            ["-c", "ulimit -v \(kilobytes) && exec \(quoted)"], executable: URL(fileURLWithPath: "/bin/sh"))
    }
}
