import Foundation
import Stretch
import XCTest

/// Loading tiny random-weight models written by GGUFWriter: every architecture path, every weight
/// format, and broken models that must fail with a typed error.
final class ModelLoadingTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stretch-model-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func build(_ m: TinyModel, _ name: String = "m.gguf") throws -> String {
        let path = directory + "/" + name
        try m.write(to: path)
        return path
    }

    func testEveryWeightFormatRunsAndAgreesWithFloat32() throws {
        // The same random weights quantized to each format: logits stay close to the F32 model's.
        let reference = try LlamaModel(file: GGUFFile(path: build(TinyModel(dim: 256, ffn: 256), "f32.gguf")))
        let tokens = [1, 5, 9, 33, 60, 7]
        let refLogits = try reference.forward(tokens, cache: try reference.makeCache(maxTokens: 16, positions: PlainPositions()))
        // Q2_K and Q3_K are too coarse for uniform random weights (logit error ~60-100% here); their check is
        // QuantFormatModelTests, against the float twin of the same quantized weights.
        for type in GGMLType.allCases where type != .f32 && type != .q2_K && type != .q3_K {
            let model = try LlamaModel(file: GGUFFile(path: build(TinyModel(dim: 256, ffn: 256, weightType: type), "\(type).gguf")))
            let logits = try model.forward(tokens, cache: try model.makeCache(maxTokens: 16, positions: PlainPositions()))
            XCTAssertEqual(logits.count, 64)
            XCTAssertTrue(logits.allSatisfy(\.isFinite), "\(type)")
            let err = zip(logits, refLogits).map { abs($0 - $1) }.max()!
            let scale = refLogits.map(abs).max()!
            XCTAssertLessThan(err, 0.35 * scale, "\(type): quantized logits far from F32")
        }
    }

    func testQwen2StyleBiasesUntiedOutputAndGQA() throws {
        let path = try build(TinyModel(architecture: "qwen2", heads: 8, kvHeads: 2, qkvBias: true, tiedOutput: false))
        let model = try LlamaModel(file: GGUFFile(path: path))
        XCTAssertEqual(model.config.rope.pairing, .halves)
        XCTAssertEqual(model.config.headCountKV, 2)
        let logits = try model.forward([1, 2, 3], cache: try model.makeCache(maxTokens: 8, positions: PlainPositions()))
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
        XCTAssertEqual(try LlamaModel(file: GGUFFile(path: build(TinyModel(architecture: "mistral"), "mi.gguf"))).config.rope.pairing, .adjacent)
    }

    func testBrokenModelsGiveTypedErrors() throws {
        func error(_ m: TinyModel) throws -> Error? {
            do {
                _ = try LlamaModel(file: GGUFFile(path: build(m, "broken.gguf")))
                return nil
            } catch { return error }
        }
        guard case .missingTensor(_, "blk.1.ffn_up.weight")? = try error(TinyModel(omit: ["blk.1.ffn_up.weight"])) as? GGUFError
        else { return XCTFail("missing tensor") }
        guard case .unexpectedShape(_, "blk.0.attn_q.weight", _, [64, 32])? =
            try error(TinyModel(reshape: ["blk.0.attn_q.weight": [64, 32]])) as? GGUFError
        else { return XCTFail("wrong shape") }
        guard case .unsupportedArchitecture(_, "mamba", _)? = try error(TinyModel(architecture: "mamba")) as? ModelError
        else { return XCTFail("unsupported architecture") }
        // The strict loader: a tensor the architecture does not read is named, not ignored.
        guard case .unusedTensor(_, "blk.0.attn_output.bias", "llama")? =
            try error(TinyModel(extra: ["blk.0.attn_output.bias": [64]])) as? ModelError
        else { return XCTFail("unused tensor") }
        // Biases qwen3 does not have are unused tensors there, as are Q/K norms for llama.
        guard case .unusedTensor(_, "blk.0.attn_q_norm.weight", "llama")? =
            try error(TinyModel(extra: ["blk.0.attn_q_norm.weight": [16]])) as? ModelError
        else { return XCTFail("unused q norm") }
        guard case .invalidValue(_, "llama.attention.head_count_kv", _)? = try error(TinyModel(heads: 4, kvHeads: 3)) as? GGUFError
        else { return XCTFail("bad GQA ratio") }
    }

    func testOutOfVocabularyTokenAndFullCacheAreErrors() throws {
        let model = try LlamaModel(file: GGUFFile(path: build(TinyModel())))
        let cache = try model.makeCache(maxTokens: 4, positions: PlainPositions())
        XCTAssertThrowsError(try model.forward([1, 64], cache: cache)) { e in
            guard case .invalidToken(64, 64) = e as? ModelError else { return XCTFail("\(e)") }
        }
        _ = try model.forward([1, 2, 3], cache: cache)
        XCTAssertThrowsError(try model.forward([4, 5], cache: cache)) { e in
            guard case .contextExceeded(5, 4, _) = e as? ModelError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(cache.count, 3, "a refused forward leaves the cache untouched")
    }
}
