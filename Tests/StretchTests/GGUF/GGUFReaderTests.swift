import Foundation
import Stretch
import XCTest

/// The GGUF reader on files written by `GGUFWriter`, including every kind of malformed file.
final class GGUFReaderTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stretch-gguf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func sampleWriter() -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("u8", .uint8(200))
        w.set("i8", .int8(-5))
        w.set("u16", .uint16(60000))
        w.set("i16", .int16(-30000))
        w.set("u32", .uint32(4_000_000_000))
        w.set("i32", .int32(-2_000_000_000))
        w.set("f32", .float32(1.5))
        w.set("bool", .bool(true))
        w.set("str", .string("héllo ✓"))
        w.set("u64", .uint64(UInt64.max))
        w.set("i64", .int64(Int64.min))
        w.set("f64", .float64(-2.25))
        w.set("nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.string, [.string("a")])]))
        w.set("empty", .array(.float32, []))
        w.addF32("a", dims: [4, 2], values: (0..<8).map(Float.init))
        w.addF32("b", dims: [3], values: [1, 2, 3])
        return w
    }

    func testRoundTripsEveryValueTypeAndTensor() throws {
        for version: UInt32 in [2, 3] {
            var w = sampleWriter()
            w.version = version
            try w.write(to: path("ok.gguf"))
            let f = try GGUFFile(path: path("ok.gguf"))
            XCTAssertEqual(f.version, version)
            XCTAssertEqual(f.metadataKeys, w.metadata.map(\.0))
            for (k, v) in w.metadata { XCTAssertEqual(f.metadata[k], v, k) }
            XCTAssertEqual(f.tensors.map(\.name), ["a", "b"])
            let a = try f.tensor("a")
            XCTAssertEqual(a.dims, [4, 2])
            XCTAssertEqual(a.rowCount, 2)
            XCTAssertEqual(a.fileOffset % 32, 0)
            let p = f.data(of: a).assumingMemoryBound(to: Float.self)
            XCTAssertEqual((0..<8).map { p[$0] }, (0..<8).map(Float.init))
            let b = f.data(of: try f.tensor("b")).assumingMemoryBound(to: Float.self)
            XCTAssertEqual([b[0], b[1], b[2]], [1, 2, 3])
        }
    }

    func testCustomAlignmentIsHonored() throws {
        var w = sampleWriter()
        w.alignment = 64
        try w.write(to: path("a64.gguf"))
        let f = try GGUFFile(path: path("a64.gguf"))
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.dataOffset % 64, 0)
        XCTAssertEqual(try f.tensor("b").fileOffset % 64, 0)
    }

    func expectError(_ bytes: [UInt8], _ name: String, _ check: (GGUFError) -> Bool,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        try GGUFWriter.writeBytes(bytes, to: path(name))
        do {
            _ = try GGUFFile(path: path(name))
            XCTFail("expected an error for \(name)", file: file, line: line)
        } catch let e as GGUFError {
            XCTAssertTrue(check(e), "unexpected error: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(path(name)), "message should name the file: \(e)", file: file, line: line)
        }
    }

    func testBadMagic() throws {
        var bytes = sampleWriter().bytes()
        bytes[0] = 0x7F
        try expectError(bytes, "magic.gguf") { if case .badMagic = $0 { return true }; return false }
    }

    func testUnsupportedVersion() throws {
        for version: UInt32 in [1, 4] {
            var w = sampleWriter()
            w.version = version
            try expectError(w.bytes(), "v\(version).gguf") {
                if case .unsupportedVersion(_, let v) = $0 { return v == version }
                return false
            }
        }
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        let bytes = sampleWriter().bytes()
        // Every prefix of the header and metadata, and a few cuts inside the tensor data.
        let f = try { () -> GGUFFile in
            try GGUFWriter.writeBytes(bytes, to: path("full.gguf"))
            return try GGUFFile(path: path("full.gguf"))
        }()
        var cuts = Array(0..<f.dataOffset)
        let dataEnd = f.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        cuts += [f.dataOffset + 1, dataEnd - 1]
        for cut in cuts {
            try GGUFWriter.writeBytes(Array(bytes[0..<cut]), to: path("cut.gguf"))
            do {
                _ = try GGUFFile(path: path("cut.gguf"))
                XCTFail("a file cut at \(cut) of \(bytes.count) bytes parsed")
            } catch let e as GGUFError {
                switch e {
                case .truncated, .tensorDataOutOfBounds, .countExceedsFile: break
                default: XCTFail("cut at \(cut): unexpected \(e)")
                }
            }
        }
    }

    func testTensorDataOutsideTheFile() throws {
        var w = GGUFWriter()
        w.addF32("big", dims: [64], values: [Float](repeating: 1, count: 64))
        var bytes = w.bytes()
        bytes.removeLast(128)  // drop half of the tensor's data
        try expectError(bytes, "oob.gguf") {
            if case let .tensorDataOutOfBounds(_, tensor, _, _, _) = $0 { return tensor == "big" }
            return false
        }
    }

    func testUnknownTensorType() throws {
        var w = GGUFWriter()
        w.tensors.append(.init(name: "weird", type: .f32, dims: [4], data: [UInt8](repeating: 0, count: 16), rawTypeOverride: 99))
        try expectError(w.bytes(), "type.gguf") {
            if case let .unknownTensorType(_, tensor, raw) = $0 { return tensor == "weird" && raw == 99 }
            return false
        }
    }

    func testOverflowingDimensions() throws {
        var w = GGUFWriter()
        w.tensors.append(.init(name: "huge", type: .f32, dims: [1 << 40, 1 << 40], data: []))
        try expectError(w.bytes(), "dims.gguf") {
            if case let .invalidDimensions(_, tensor, _, _) = $0 { return tensor == "huge" }
            return false
        }
    }

    func testRowLengthNotAMultipleOfTheBlockSize() throws {
        var w = GGUFWriter()
        w.tensors.append(.init(name: "q", type: .q8_0, dims: [33], data: [UInt8](repeating: 0, count: 68)))
        try expectError(w.bytes(), "block.gguf") {
            if case let .invalidDimensions(_, tensor, _, reason) = $0 { return tensor == "q" && reason.contains("block size") }
            return false
        }
    }

    func testUnknownMetadataValueType() throws {
        var w = GGUFWriter()
        w.set("k", .uint32(7))
        var bytes = w.bytes()
        // header 24 bytes, key length 8 + "k" → the type id sits at offset 33.
        bytes[33] = 77
        try expectError(bytes, "vtype.gguf") {
            if case let .unknownValueType(_, key, raw) = $0 { return key == "k" && raw == 77 }
            return false
        }
    }

    func testWrongMetadataTypeForAlignment() throws {
        var w = GGUFWriter()
        w.set("general.alignment", .string("32"))
        try expectError(w.bytes(), "align.gguf") {
            if case let .wrongMetadataType(_, key, _, found) = $0 { return key == "general.alignment" && found == "string" }
            return false
        }
    }

    func testImpossibleArrayLength() throws {
        var w = GGUFWriter()
        w.set("arr", .array(.uint32, [.uint32(1)]))
        var bytes = w.bytes()
        // The array count (u64) follows key (8+3), type (4) and element type (4) after the 24-byte header.
        let countOffset = 24 + 8 + 3 + 4 + 4
        for i in 0..<8 { bytes[countOffset + i] = 0x7F }
        try expectError(bytes, "arr.gguf") {
            if case let .countExceedsFile(_, field, count, _, _, _) = $0 {
                return field == "length of array 'arr'" && count == 0x7F7F_7F7F_7F7F_7F7F
            }
            return false
        }
    }

    func testEmptyFileAndDirectory() throws {
        try expectError([], "empty.gguf") { if case .truncated = $0 { return true }; return false }
        XCTAssertThrowsError(try GGUFFile(path: directory)) { e in
            guard case .cannotOpen = e as? GGUFError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try GGUFFile(path: path("missing.gguf"))) { e in
            guard case .cannotOpen = e as? GGUFError else { return XCTFail("\(e)") }
        }
    }

    func testTypedAccessorsReportWrongTypes() throws {
        try sampleWriter().write(to: path("ok.gguf"))
        let f = try GGUFFile(path: path("ok.gguf"))
        XCTAssertEqual(try f.int("u32"), 4_000_000_000)
        XCTAssertEqual(try f.string("str"), "héllo ✓")
        XCTAssertThrowsError(try f.int("str")) { e in
            guard case let .wrongMetadataType(_, key, _, found) = e as? GGUFError else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "str")
            XCTAssertEqual(found, "string")
        }
        XCTAssertThrowsError(try f.string("nope")) { e in
            guard case .missingKey(_, "nope") = e as? GGUFError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try f.tensor("nope")) { e in
            guard case .missingTensor(_, "nope") = e as? GGUFError else { return XCTFail("\(e)") }
        }
    }

    func testRealModelTensorTableEndsInsideTheFile() throws {
        let f = try GGUFFile(path: TestFiles.stories260K)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(try f.string("general.architecture"), "llama")
        XCTAssertEqual(f.tensors.count, 48 - 1)
        let end = f.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        XCTAssertLessThanOrEqual(end, f.mapping.size)
    }
}
