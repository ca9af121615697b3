import Foundation
import Stretch
import XCTest

/// `--check-tensors`: a NaN or infinity anywhere in the weights fails the load, naming the tensor.
final class CheckTensorsTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stretch-check-tensors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A tiny model with `bytes` written over tensor `name` at byte `offset` of its data.
    func corrupted(_ tiny: TinyModel, _ name: String, at offset: Int, _ bytes: [UInt8], file: String) throws -> String {
        let clean = directory + "/clean.gguf"
        try tiny.write(to: clean)
        let tensor = try GGUFFile(path: clean).tensor(name)
        var data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clean)))
        for (k, b) in bytes.enumerated() { data[tensor.fileOffset + offset + k] = b }
        let path = directory + "/" + file
        try GGUFWriter.writeBytes(data, to: path)
        return path
    }

    func testNaNInAnF32TensorIsFoundAndNamed() throws {
        let tiny = TinyModel()
        // Element 70 of blk.1.ffn_up.weight (row 1 of a 64-wide matrix) becomes a quiet NaN.
        let path = try corrupted(tiny, "blk.1.ffn_up.weight", at: 70 * 4, [0x00, 0x00, 0xC0, 0x7F], file: "nan.gguf")
        XCTAssertThrowsError(try GGUFFile(path: path).checkFinite()) { error in
            guard case let .nonFiniteValue(_, tensor, element, value) = error as? GGUFError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(tensor, "blk.1.ffn_up.weight")
            XCTAssertEqual(element, 70)
            XCTAssertEqual(value, "nan")
        }
        // Only when asked: the default load does not read every weight.
        XCTAssertNoThrow(try LlamaModel(file: GGUFFile(path: path)))
        XCTAssertThrowsError(try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(checksTensors: true)))
        let clean = directory + "/clean.gguf"
        XCTAssertNoThrow(try GGUFFile(path: clean).checkFinite())
        XCTAssertNoThrow(try LlamaModel(file: GGUFFile(path: clean), options: LoadOptions(checksTensors: true)))
    }

    func testInfinityInAQuantizedBlockScaleIsFound() throws {
        var tiny = TinyModel()
        tiny.weightType = .q8_0
        // Q8_0 blocks are an f16 scale and 32 int8s (34 bytes); block 3's scale becomes +infinity (0x7C00).
        let path = try corrupted(tiny, "blk.0.attn_k.weight", at: 3 * 34, [0x00, 0x7C], file: "inf.gguf")
        XCTAssertThrowsError(try GGUFFile(path: path).checkFinite()) { error in
            guard case let .nonFiniteValue(_, tensor, element, _) = error as? GGUFError else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "blk.0.attn_k.weight")
            XCTAssertEqual(element / 32, 3, "the first bad element lies in block 3")
        }
    }

    func testTheCLIFlagNamesTheTensor() throws {
        let path = try corrupted(TinyModel(), "output_norm.weight", at: 8, [0x00, 0x00, 0x80, 0x7F], file: "inf.gguf")
        let inspect = try CLIRunner.run(["inspect", "--check-tensors", path])
        XCTAssertEqual(inspect.status, 1, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains("tensor 'output_norm.weight' holds inf at element 2"), inspect.stderr)
        XCTAssertEqual(try CLIRunner.run(["inspect", path]).status, 0)
        let generate = try CLIRunner.run(["generate", "-m", path, "--check-tensors", "-p", "a", "-n", "1"])
        XCTAssertNotEqual(generate.status, 0)
        XCTAssertTrue(generate.stderr.contains("'output_norm.weight' holds inf"), generate.stderr)
    }
}
