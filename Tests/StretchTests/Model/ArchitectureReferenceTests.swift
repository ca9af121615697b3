import Foundation
import Stretch
import XCTest

/// Every architecture against Hugging Face transformers at float32.
///
/// `Fixtures/Architectures/` holds tiny random-weight models built in transformers from shrunk real configs,
/// converted to GGUF by scripts/architecture_fixtures.py (llama.cpp's names and layouts), with transformers'
/// logits for a fixed prompt and its greedy continuation (reference.json). At `.f32` precision Stretch must
/// give the same per-token logits (max |Δ| ≤ 1e-3) and the same 32 greedy tokens, and Self-Extend must run.
final class ArchitectureReferenceTests: XCTestCase {
    static let directory = TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Model/Fixtures/Architectures").path

    static func reference(_ name: String) throws -> [String: Any] {
        let all = try TestFiles.json(directory + "/reference.json")["models"] as! [String: Any]
        return try XCTUnwrap(all[name] as? [String: Any], "no reference for \(name)")
    }

    static func ints(_ value: Any?) -> [Int] { (value as! [Any]).map { ($0 as! NSNumber).intValue } }

    static func argmax(_ x: ArraySlice<Float>) -> Int { x.indices.max { x[$0] < x[$1] }! - x.startIndex }

    /// Loads `name`.gguf at f32 precision, compares prompt logits and the greedy continuation, runs Self-Extend.
    /// - Returns: the max |Δlogit| over the prompt.
    @discardableResult
    func checkAgainstTransformers(_ name: String) throws -> Float {
        let ref = try Self.reference(name)
        let prompt = Self.ints(ref["prompt"])
        let greedy = Self.ints(ref["greedy"])
        let model = try LlamaModel(
            file: GGUFFile(path: Self.directory + "/\(name).gguf"), options: LoadOptions(threads: 2, precision: .f32))
        XCTAssertEqual(model.architecture.name, ref["architecture"] as! String)
        let vocab = model.config.vocabularySize
        let cache = try model.makeCache(maxTokens: 64)
        let logits = try model.forward(prompt, cache: cache, logits: .all)
        let expected = try TestFiles.floats(Self.directory + "/\(name).logits.f32")
        XCTAssertEqual(logits.count, expected.count)
        let delta = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("\(name): max |Δlogit| vs transformers \(delta) (max |logit| \(expected.map(abs).max()!))")
        XCTAssertLessThanOrEqual(delta, 1e-3, "\(name): logits differ from transformers")

        var tokens: [Int] = []
        var last = logits[(logits.count - vocab)...]
        for _ in 0..<greedy.count {
            let t = Self.argmax(last)
            tokens.append(t)
            last = try model.forward([t], cache: cache)[...]
        }
        XCTAssertEqual(tokens, greedy, "\(name): greedy continuation differs from transformers")

        // Self-Extend (G=2, W=8) runs on the whole sequence and changes the result (56 tokens > W).
        let all = prompt + greedy
        let seCache = try model.makeCache(maxTokens: 64, positions: try SelfExtendPositions(groupSize: 2, window: 8))
        let extended = try model.forward(all, cache: seCache)
        let plain = try model.forward(all, cache: try model.makeCache(maxTokens: 64))
        XCTAssertTrue(extended.allSatisfy(\.isFinite), "\(name): Self-Extend logits not finite")
        XCTAssertNotEqual(extended, plain, "\(name): Self-Extend had no effect")
        return delta
    }

    func testLlamaWithLlama3RopeFrequencies() throws { try checkAgainstTransformers("llama") }
    func testLlamaQ8_0() throws { try checkAgainstTransformers("llama-q8_0") }
    func testQwen2() throws { try checkAgainstTransformers("qwen2") }
    /// `rope.scaling.type = yarn`, `factor`, `original_context_length` from the file (transformers' `yarn`
    /// rope): angles and attention factor as transformers computes them, and the usable context grows to 4×.
    func testQwen2YaRNFromGGUFKeys() throws {
        try checkAgainstTransformers("qwen2-yarn")
        let model = try LlamaModel(file: GGUFFile(path: Self.directory + "/qwen2-yarn.gguf"))
        XCTAssertEqual(model.config.originalContextLength, 32768)
        XCTAssertEqual(model.config.contextLength, 131_072, "no cap at the original context")
    }

    func testQwen3() throws { try checkAgainstTransformers("qwen3") }
    func testGemma2() throws { try checkAgainstTransformers("gemma2") }
    func testGemma2Q4_0() throws { try checkAgainstTransformers("gemma2-q4_0") }
    func testGemma3() throws { try checkAgainstTransformers("gemma3") }
    func testPhi3ShortFactors() throws { try checkAgainstTransformers("phi3") }
    func testGranite() throws { try checkAgainstTransformers("granite") }

    func testSmolLM3WithNoPELayers() throws {
        try checkAgainstTransformers("smollm3")
        let model = try LlamaModel(file: GGUFFile(path: Self.directory + "/smollm3.gguf"))
        XCTAssertEqual((0..<4).filter { !model.architecture.usesRope(layer: $0) }, [3])
    }

    /// Phi-4-mini's layout: partial rotary (12 of 16 dimensions), so the LongRoPE attention factor must
    /// scale only the rotated dimensions of queries and keys (as llama.cpp and transformers do).
    func testPhi4MiniPartialRotaryLongRoPE() throws {
        try checkAgainstTransformers("phi4-mini")
        try checkLongFactors("phi4-mini")
    }

    /// Past the original context (64 here) transformers switches Phi-3 to the long factors; so does a cache
    /// made for more than 64 tokens (llama.cpp's rule).
    func testPhi3LongFactorsPastTheOriginalContext() throws { try checkLongFactors("phi3") }

    func checkLongFactors(_ name: String) throws {
        let ref = try Self.reference(name)
        let prompt = Self.ints(ref["long_prompt"])
        let model = try LlamaModel(
            file: GGUFFile(path: Self.directory + "/\(name).gguf"), options: LoadOptions(threads: 2, precision: .f32))
        XCTAssertEqual(model.config.contextLength, 256)
        XCTAssertEqual(model.config.originalContextLength, 64)
        let logits = try model.forward(prompt, cache: try model.makeCache(maxTokens: 128))
        let expected = try TestFiles.floats(Self.directory + "/\(name).long.logits.f32")
        let delta = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("\(name) (long factors): max |Δlogit| vs transformers \(delta)")
        XCTAssertLessThanOrEqual(delta, 1e-3)
        XCTAssertNotEqual(model.config.longRope?.inverseFrequencies, model.config.rope.inverseFrequencies)
    }

    /// Gemma 2 with its global layers' attention output zeroed: only sliding-window layers attend, so
    /// Self-Extend must leave the logits exactly as plain attention gives them (it applies to global layers only).
    func testGemma2SelfExtendLeavesSlidingWindowLayersAlone() throws {
        let source = try GGUFFile(path: Self.directory + "/gemma2.gguf")
        let model = try LlamaModel(file: source)
        let global = (0..<model.config.blockCount).filter { !model.architecture.isLocal(layer: $0) }
        XCTAssertEqual(global, [1, 3], "Gemma 2: odd layers are global")
        var w = GGUFWriter()
        for key in source.metadataKeys { w.set(key, source.metadata[key]!) }
        for t in source.tensors {
            var values = source.floats(of: t)
            if global.contains(where: { t.name == "blk.\($0).attn_output.weight" }) {
                values = [Float](repeating: 0, count: values.count)
            }
            w.addF32(t.name, dims: t.dims, values: values)
        }
        let path = NSTemporaryDirectory() + "gemma2-global-muted-\(UUID().uuidString).gguf"
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let muted = try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(threads: 2, precision: .f32))
        let tokens = Array(Self.ints(try Self.reference("gemma2")["prompt"]).prefix(24)) + [5, 6, 7, 8, 9, 10, 11, 12]
        let se = try SelfExtendPositions(groupSize: 2, window: 4)
        let plain = try muted.forward(tokens, cache: try muted.makeCache(maxTokens: 64))
        let extended = try muted.forward(tokens, cache: try muted.makeCache(maxTokens: 64, positions: se))
        XCTAssertEqual(plain, extended, "Self-Extend reached a sliding-window layer")
        // The unmuted model does change: the test can fail.
        let full = try LlamaModel(file: source, options: LoadOptions(threads: 2, precision: .f32))
        XCTAssertNotEqual(
            try full.forward(tokens, cache: try full.makeCache(maxTokens: 64)),
            try full.forward(tokens, cache: try full.makeCache(maxTokens: 64, positions: se)))
    }
}
