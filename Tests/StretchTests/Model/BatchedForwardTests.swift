import Foundation
import Stretch
import XCTest

/// `LlamaModel.forward(batch:)` gives every entry the logits its own `forward` gives: mixed batches of
/// plain and Self-Extend caches, decoding entries (one token) and prefill chunks of several lengths.
final class BatchedForwardTests: XCTestCase {
    /// One batch entry: the cache's map, the tokens already cached, the tokens of this step.
    private struct Entry {
        let spec: String
        let prefix: [Int]
        let next: [Int]
    }

    /// Largest |batched − alone| over all logits relative to the largest |alone|, and whether all are equal.
    private struct Difference {
        var relative: Float = 0
        var identical = true

        mutating func add(_ batched: [Float], _ alone: [Float]) {
            precondition(batched.count == alone.count)
            identical = identical && batched == alone
            let scale = max(alone.map(abs).max() ?? 0, 1e-30)
            for (b, a) in zip(batched, alone) { relative = max(relative, abs(b - a) / scale) }
        }
    }

    private func compare(_ model: LlamaModel, _ entries: [Entry], logits: LogitsRequest,
                         file: StaticString = #filePath, line: UInt = #line) throws -> Difference {
        func caches() throws -> [KVCache] {
            try entries.map { e in
                let cache = try model.makeCache(
                    maxTokens: 4096, positions: PositionSpec.parse(e.spec, trainedContext: model.config.contextLength))
                if !e.prefix.isEmpty { _ = try model.forward(e.prefix, cache: cache, logits: .none) }
                return cache
            }
        }
        let alone = try zip(entries, caches()).map { e, cache in try model.forward(e.next, cache: cache, logits: logits) }
        let batchedCaches = try caches()
        let batched = try model.forward(batch: zip(entries, batchedCaches).map { ($0.next, $1) }, logits: logits)
        var diff = Difference()
        for (b, a) in zip(batched, alone) { diff.add(b, a) }
        for (e, cache) in zip(entries, batchedCaches) {
            XCTAssertEqual(cache.count, e.prefix.count + e.next.count, file: file, line: line)
        }
        return diff
    }

    private func mixedEntries(_ text: [Int], selfExtend: String) -> [Entry] {
        func slice(_ from: Int, _ count: Int) -> [Int] { Array(text[from..<(from + count)]) }
        return [
            Entry(spec: "none", prefix: slice(0, 30), next: slice(30, 1)),            // decode, plain
            Entry(spec: selfExtend, prefix: slice(0, 90), next: slice(90, 1)),       // decode, beyond the window
            Entry(spec: "none", prefix: [], next: slice(5, 20)),                     // first chunk (panel path)
            Entry(spec: selfExtend, prefix: slice(3, 50), next: slice(53, 3)),       // short chunk (dot tile)
            Entry(spec: "none", prefix: slice(7, 10), next: slice(17, 7)),           // chunk
            Entry(spec: selfExtend, prefix: slice(0, 64), next: slice(64, 1)),       // decode
        ]
    }

    private func storiesText() throws -> [Int] {
        let model = try LanguageModel(path: TestFiles.stories260K, options: LoadOptions(threads: 2))
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        return model.tokenizer.encode(text, addSpecial: true)
    }

    func testStoriesMixedBatchEqualsSingleForwards() throws {
        let text = try storiesText()
        for precision in [ComputePrecision.f32, .auto] {
            let model = try LlamaModel(
                file: GGUFFile(path: TestFiles.stories260K), options: LoadOptions(threads: 2, precision: precision))
            for logits in [LogitsRequest.last, .all] {
                let d = try compare(model, mixedEntries(text, selfExtend: "self-extend:G=4:W=32"), logits: logits)
                print("stories260K \(precision) \(logits): identical \(d.identical), max relative difference \(d.relative)")
                XCTAssertTrue(d.identical, "\(precision) \(logits): max relative difference \(d.relative)")
            }
        }
    }

    /// A batch longer than `batchSize` runs in the same chunks as each entry alone.
    func testEntriesLongerThanBatchSizeAreChunkedAsAlone() throws {
        let text = try storiesText()
        let model = try LlamaModel(
            file: GGUFFile(path: TestFiles.stories260K), options: LoadOptions(threads: 2, batchSize: 16, precision: .auto))
        let entries = [
            Entry(spec: "none", prefix: Array(text[0..<20]), next: Array(text[20..<57])),
            Entry(spec: "self-extend:G=4:W=32", prefix: Array(text[0..<40]), next: [text[40]]),
            Entry(spec: "none", prefix: [], next: Array(text[3..<21])),
        ]
        for logits in [LogitsRequest.last, .all, .none] {
            let d = try compare(model, entries, logits: logits)
            XCTAssertTrue(d.identical, "\(logits): max relative difference \(d.relative)")
        }
    }

    func testQwenMixedBatchEqualsSingleForwards() throws {
        let path = try TestFiles.qwen
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        let tokens = tokenizer.encode(text, addSpecial: true)
        let entries = [
            Entry(spec: "none", prefix: Array(tokens[0..<12]), next: [tokens[12]]),
            Entry(spec: "self-extend:G=4:W=8", prefix: Array(tokens[0..<20]), next: [tokens[20]]),
            Entry(spec: "none", prefix: Array(tokens[2..<6]), next: Array(tokens[6..<15])),
            Entry(spec: "self-extend:G=4:W=8", prefix: [], next: Array(tokens[1..<3])),
            // Seven decoding entries in all: activations go four and three at a time through the
            // paired kernels (two per 512-bit register, then one alone).
            Entry(spec: "none", prefix: Array(tokens[0..<5]), next: [tokens[5]]),
            Entry(spec: "none", prefix: Array(tokens[3..<9]), next: [tokens[9]]),
            Entry(spec: "self-extend:G=2:W=4", prefix: Array(tokens[0..<16]), next: [tokens[16]]),
            Entry(spec: "none", prefix: Array(tokens[1..<4]), next: [tokens[4]]),
            Entry(spec: "none", prefix: Array(tokens[0..<7]), next: [tokens[7]]),
        ]
        for precision in [ComputePrecision.f32, .auto] {
            let model = try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(threads: 2, precision: precision))
            let d = try compare(model, entries, logits: .last)
            print("qwen \(precision): identical \(d.identical), max relative difference \(d.relative)")
            XCTAssertTrue(d.identical, "\(precision): max relative difference \(d.relative)")
        }
    }

    /// Gemma 3's sliding-window layers keep their own step (plain positions, local RoPE base) per entry.
    func testGemmaMixedBatchEqualsSingleForwards() throws {
        let path = try TestFiles.gemma
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
        let tokens = tokenizer.encode("Once upon a time there was a little girl who loved to read books about dragons.", addSpecial: true)
        let entries = [
            Entry(spec: "none", prefix: Array(tokens[0..<8]), next: [tokens[8]]),
            Entry(spec: "self-extend:G=4:W=4", prefix: Array(tokens[0..<10]), next: [tokens[10]]),
            Entry(spec: "none", prefix: [], next: Array(tokens[0..<6])),
        ]
        let model = try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(threads: 2, precision: .auto))
        let d = try compare(model, entries, logits: .last)
        print("gemma auto: identical \(d.identical), max relative difference \(d.relative)")
        XCTAssertTrue(d.identical, "max relative difference \(d.relative)")
    }
}
