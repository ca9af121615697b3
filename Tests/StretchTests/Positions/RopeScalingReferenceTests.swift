import Foundation
import Stretch
import XCTest

/// Linear, NTK, dynamic NTK and YaRN frequencies, and the GGUF `rope.scaling.*` keys, against the values of
/// Hugging Face transformers' `ROPE_INIT_FUNCTIONS` (Fixtures/rope_frequencies.json, written by
/// scripts/rope_reference.py).
final class RopeScalingReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let scheme: String
            let factor: Double
            let sequence_length: Int
            let inverse_frequencies: [Double]
            let attention_factor: Double
            let beta_fast: Double?
            let beta_slow: Double?
        }
        let head_dim: Int
        let base: Double
        let trained_context: Int
        let cases: [Case]
    }

    static func fixture() throws -> Fixture {
        let url = TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Positions/Fixtures/rope_frequencies.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// transformers computes in float32: agreement to 3e-6 relative (a wrong formula is off by percents).
    func assertClose(_ a: [Double], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (k, (x, y)) in zip(a, b).enumerated() where abs(x - y) > 3e-6 * abs(y) {
            XCTFail("\(what): pair \(k): \(x) vs reference \(y)", file: file, line: line)
            return
        }
    }

    func testFrequenciesMatchTransformers() throws {
        let f = try Self.fixture()
        XCTAssertGreaterThanOrEqual(f.cases.count, 10)
        let rope = RotaryEmbedding(dimensions: f.head_dim, base: f.base, pairing: .halves)
        for c in f.cases {
            let scaling: any FrequencyScaling
            switch c.scheme {
            case "linear": scaling = try LinearScaling(factor: c.factor)
            case "ntk": scaling = try NTKScaling(factor: c.factor)
            case "dynamic-ntk": scaling = try DynamicNTKScaling(factor: c.factor)
            case "yarn": scaling = try YaRNScaling(factor: c.factor, betaFast: c.beta_fast!, betaSlow: c.beta_slow!)
            default: return XCTFail("unknown scheme \(c.scheme)")
            }
            let scaled = scaling.scaled(rope, trainedContext: f.trained_context, sequenceLength: c.sequence_length)
            assertClose(scaled.inverseFrequencies, c.inverse_frequencies, c.name)
            // transformers multiplies cos and sin by the attention factor (so q·k grows by its square); so does
            // Stretch, on the rotated dimensions.
            XCTAssertEqual(scaled.rotationScale, c.attention_factor, accuracy: 1e-6, c.name)
            XCTAssertEqual(scaled.logitScale, 1, c.name)
        }
    }

    /// The model's own scaling, read from the GGUF keys llama.cpp writes, equals the transformers config it
    /// came from.
    func testGGUFRopeScalingKeys() throws {
        let f = try Self.fixture()
        let directory = NSTemporaryDirectory() + "stretch-rope-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var tiny = TinyModel()
        tiny.dim = f.head_dim * tiny.heads
        tiny.architecture = "qwen2"
        let reference = { (name: String) in try XCTUnwrap(f.cases.first { $0.name == name }, name) }
        let cases: [(keys: [(String, GGUFValue)], context: Int, expected: Fixture.Case)] = [
            ([("qwen2.rope.scaling.type", .string("linear")), ("qwen2.rope.scaling.factor", .float32(4))],
             f.trained_context, try reference("linear s=4")),
            ([("qwen2.rope.scale_linear", .float32(2.5))], f.trained_context, try reference("linear s=2.5")),
            ([("qwen2.rope.scaling.type", .string("yarn")), ("qwen2.rope.scaling.factor", .float32(4)),
              ("qwen2.rope.scaling.original_context_length", .uint32(UInt32(f.trained_context)))],
             4 * f.trained_context, try reference("yarn s=4 bf=32 bs=1")),
            ([("qwen2.rope.scaling.type", .string("yarn")), ("qwen2.rope.scaling.factor", .float32(4)),
              ("qwen2.rope.scaling.original_context_length", .uint32(UInt32(f.trained_context))),
              ("qwen2.rope.scaling.yarn_beta_fast", .float32(16)), ("qwen2.rope.scaling.yarn_beta_slow", .float32(2))],
             4 * f.trained_context, try reference("yarn s=4 bf=16 bs=2")),
        ]
        for (k, c) in cases.enumerated() {
            tiny.context = c.context
            tiny.extraMetadata = c.keys
            tiny.ropeBase = f.base
            let path = directory + "/rope\(k).gguf"
            try tiny.write(to: path)
            let config = try ModelConfig(file: GGUFFile(path: path))
            assertClose(config.rope.inverseFrequencies, c.expected.inverse_frequencies, "GGUF keys → \(c.expected.name)")
            XCTAssertEqual(config.rope.rotationScale, c.expected.attention_factor, accuracy: 1e-6, c.expected.name)
        }
    }
}
