import Foundation
import Stretch
import XCTest

extension ExactAttentionTests.Problem {
    /// The problem of a sequence of token ids, each id standing for one fixed random query, key and value.
    init(ids: [Int], table: ExactAttentionTests.Problem) {
        self.n = ids.count
        heads = table.heads
        kvHeads = table.kvHeads
        headDim = table.headDim
        let qs = heads * headDim, ks = kvHeads * headDim
        q = ids.flatMap { table.q[($0 * qs)..<(($0 + 1) * qs)] }
        k = ids.flatMap { table.k[($0 * ks)..<(($0 + 1) * ks)] }
        v = ids.flatMap { table.v[($0 * ks)..<(($0 + 1) * ks)] }
    }
}

/// The KV cache's rings (Self-Extend's near keys, sliding-window layers' keys and values): attention over
/// sequences many times a ring's size equals the naive reference of ``ExactAttentionTests`` in one-shot,
/// chunked and token-by-token passes; going back to a prefix keeps only what the rings still hold; and the
/// memory is one key copy plus a ring.
final class KVRingTests: XCTestCase {
    typealias Problem = ExactAttentionTests.Problem

    /// Attention through one cache as a model runs it: layer 0 global at the cache's map, layer 1 a
    /// sliding-window layer at plain positions (Gemma's local layers).
    final class Driver {
        let cache: KVCache
        let window: Int
        let table: Problem
        let rope: RotaryEmbedding
        let workers = WorkerPool(threads: 2)
        let trainedContext: Int
        private(set) var ids: [Int] = []

        init(
            map: PositionMap, window: Int, table: Problem, maxTokens: Int, type: KVElementType = .f32, rings: Bool = true,
            trainedContext: Int = 1 << 20
        ) {
            self.window = window
            self.trainedContext = trainedContext
            self.table = table
            rope = RotaryEmbedding(dimensions: table.headDim, base: ExactAttentionTests.base, pairing: .halves)
            cache = KVCache(
                layers: 2, kvHeads: table.kvHeads, headDim: table.headDim, positions: map, maxTokens: maxTokens,
                keyType: type, valueType: type, layerKinds: [.global, .slidingWindow(window)], rings: rings)
        }

        /// Appends `new` in one pass; returns each layer's outputs `[new.count][heads][headDim]`.
        @discardableResult
        func pass(_ new: [Int]) -> [[Float]] {
            let n = new.count
            let p = Problem(ids: new, table: table)
            cache.reserve(n)
            let steps = [
                AttentionStep(cache: cache, tokens: n, rope: rope, positions: cache.positions, trainedContext: trainedContext),
                AttentionStep(cache: cache, tokens: n, rope: rope, positions: PlainPositions(), trainedContext: trainedContext,
                              slidingWindow: window, updatesCacheRope: false),
            ]
            var outs: [[Float]] = []
            for (layer, step) in steps.enumerated() {
                var q = p.q, k = p.k
                var o = [Float](repeating: 0, count: n * p.heads * p.headDim)
                q.withUnsafeMutableBufferPointer { qb in
                    k.withUnsafeMutableBufferPointer { kb in
                        p.v.withUnsafeBufferPointer { vb in
                            o.withUnsafeMutableBufferPointer { ob in
                                step.attend(cache: cache, layer: layer, queries: qb.baseAddress!, keys: kb.baseAddress!,
                                            values: vb.baseAddress!, heads: p.heads, out: ob.baseAddress!, workers: workers)
                            }
                        }
                    }
                }
                outs.append(o)
            }
            cache.commit(n)
            ids += new
            return outs
        }

        /// Runs `chunks` of `sequence` from the cache's current length; returns each layer's outputs.
        @discardableResult
        func run(_ sequence: [Int], chunks: [Int]) -> [[Float]] {
            var outs: [[Float]] = [[], []]
            for c in chunks {
                let o = pass(Array(sequence[ids.count..<(ids.count + c)]))
                outs[0] += o[0]
                outs[1] += o[1]
            }
            return outs
        }

        /// Goes back to `m` tokens.
        func truncate(to m: Int) {
            cache.truncate(to: m)
            ids = Array(ids[..<m])
        }

        /// The naive reference's outputs for rows `from...` of the current sequence, per layer.
        func reference(from first: Int) -> [[Double]] {
            let p = Problem(ids: ids, table: table)
            let row = p.heads * p.headDim
            return [ExactAttentionTests.reference(p, map: cache.positions),
                    ExactAttentionTests.reference(p, map: PlainPositions(), slidingWindow: window)]
                .map { Array($0[(first * row)...]) }
        }
    }

    static func table(headDim: Int, seed: UInt64) -> Problem {
        Problem(n: 40, heads: 4, kvHeads: 2, headDim: headDim, seed: seed)
    }

    static func sequence(_ n: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Int(rng.next() % 40) }
    }

    static func randomChunks(_ n: Int, max: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        var chunks: [Int] = []
        var left = n
        while left > 0 {
            let c = min(left, Int.random(in: 1...max, using: &rng))
            chunks.append(c)
            left -= c
        }
        return chunks
    }

    /// Self-Extend with a small W and a sliding window, over 330 tokens (the rings hold 64 or 128 slots):
    /// one-shot, chunked and token-by-token passes all equal the naive reference, in the tiled (D=16) and the
    /// row-wise (D=8) kernels, with the rings wrapped several times.
    func testRingsEqualNaiveReferenceInPrefillChunksAndDecode() throws {
        let n = 330
        let sequence = Self.sequence(n, seed: 1)
        for hd in [16, 8] {
            for (g, w, window) in [(3, 5, 7), (2, 70, 100)] {
                let map = try SelfExtendPositions(groupSize: g, window: w)
                let table = Self.table(headDim: hd, seed: UInt64(hd * 1000 + w))
                var reference: [[Double]]?
                for chunks in [[n], Self.randomChunks(n, max: 40, seed: UInt64(w)), [20] + Array(repeating: 1, count: n - 20)] {
                    let driver = Driver(map: map, window: window, table: table, maxTokens: n)
                    let outs = driver.run(sequence, chunks: chunks)
                    if reference == nil { reference = driver.reference(from: 0) }
                    let what = "D=\(hd) G=\(g) W=\(w) window \(window) chunks \(chunks.count)"
                    XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[0], reference![0]), 2e-5, "global: " + what)
                    XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[1], reference![1]), 2e-5, "sliding: " + what)
                    let global = driver.cache.slots(layer: 0), local = driver.cache.slots(layer: 1)
                    XCTAssertGreaterThanOrEqual(global.farKeys, n, "far keys are whole: " + what)
                    XCTAssertGreaterThanOrEqual(global.values, n, "values are whole: " + what)
                    XCTAssertEqual(local.farKeys, 0, "a sliding-window layer keeps no far keys")
                    if chunks.count > 1 {
                        // The rings wrapped: each holds fewer slots than the sequence has tokens.
                        XCTAssertLessThanOrEqual(global.nearKeys, 128, what)
                        XCTAssertLessThanOrEqual(local.nearKeys, 192, what)
                        XCTAssertEqual(local.nearKeys, local.values, what)
                    }
                }
            }
        }
    }

    /// The block and half formats through the rings: bit for bit what the cache without rings gives.
    func testRingsEqualWholeHistoryInEveryStorageFormat() throws {
        let n = 300
        let sequence = Self.sequence(n, seed: 2)
        let map = try SelfExtendPositions(groupSize: 4, window: 9)
        let table = Self.table(headDim: 64, seed: 3)
        let chunks = Self.randomChunks(n, max: 24, seed: 4)
        for type in KVElementType.allCases {
            let ring = Driver(map: map, window: 13, table: table, maxTokens: n, type: type)
            let whole = Driver(map: map, window: 13, table: table, maxTokens: n, type: type, rings: false)
            XCTAssertEqual(ring.run(sequence, chunks: chunks), whole.run(sequence, chunks: chunks), "\(type)")
            XCTAssertLessThan(ring.cache.slots(layer: 0).nearKeys, n)
            XCTAssertEqual(whole.cache.slots(layer: 0).nearKeys, whole.cache.capacity)
            XCTAssertLessThan(ring.cache.allocatedBytes, whole.cache.allocatedBytes)
        }
    }

    /// Dynamic NTK with Self-Extend past a trained context of 64: every pass re-rotates the cached keys, the
    /// rings' kept slots included. Token by token and in chunks, bit for bit the cache without rings.
    func testRerotationTurnsTheRingsKeptSlots() throws {
        let n = 260
        let sequence = Self.sequence(n, seed: 10)
        let map = ContextExtension(positions: try SelfExtendPositions(groupSize: 2, window: 12), scaling: try DynamicNTKScaling(factor: 2))
        XCTAssertTrue(map.anglesDependOnSequenceLength)
        let table = Self.table(headDim: 16, seed: 11)
        for chunks in [[40] + Array(repeating: 1, count: n - 40), Self.randomChunks(n, max: 30, seed: 12)] {
            let ring = Driver(map: map, window: 10, table: table, maxTokens: n, trainedContext: 64)
            let whole = Driver(map: map, window: 10, table: table, maxTokens: n, rings: false, trainedContext: 64)
            XCTAssertEqual(ring.run(sequence, chunks: chunks), whole.run(sequence, chunks: chunks))
            XCTAssertLessThan(ring.cache.slots(layer: 0).nearKeys, n, "the ring wrapped")
        }
    }

    /// Going back to a prefix: kept exactly when the rings still hold what later queries read (the last
    /// W − 1 near keys, the last window − 1 local keys and values), otherwise everything is recomputed; either
    /// way the outputs equal the naive reference. Were `reusablePrefix` to keep a prefix whose ring slots were
    /// overwritten, the outputs after it would be wrong: the branches at 90 and 60 catch that.
    func testTruncationKeepsOnlyWhatTheRingsHold() throws {
        let map = try SelfExtendPositions(groupSize: 2, window: 6)
        let window = 9
        let table = Self.table(headDim: 16, seed: 5)
        let a = Self.sequence(150, seed: 6)
        // A first pass of 30, then one token at a time: both rings have 64 slots; after 150 tokens they hold
        // tokens 86..<150.
        let chunksA = [30] + Array(repeating: 1, count: 120)
        for (m, kept) in [(148, 148), (120, 120), (100, 100), (94, 94), (93, 0), (90, 0), (60, 0)] {
            let driver = Driver(map: map, window: window, table: table, maxTokens: 400)
            driver.run(a, chunks: chunksA)
            XCTAssertEqual(driver.cache.slots(layer: 0).nearKeys, 64)
            XCTAssertEqual(driver.cache.slots(layer: 1).values, 64)
            // Near keys from m − 5 on, local keys and values from m − 8 on: kept while m − 8 ≥ 86.
            let reusable = driver.cache.reusablePrefix(upTo: m)
            XCTAssertEqual(reusable, kept, "branch at \(m)")
            // As a session does: cut back to what the cache says is reusable, run the rest.
            let b = Array(a[..<m]) + Self.sequence(40, seed: UInt64(m))
            driver.truncate(to: reusable)
            let outs = driver.run(b, chunks: Self.randomChunks(b.count - reusable, max: 5, seed: UInt64(m)))
            let reference = driver.reference(from: reusable)
            XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[0], reference[0]), 2e-5, "global after branch at \(m)")
            XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[1], reference[1]), 2e-5, "sliding after branch at \(m)")
        }
        // Twice: back to 120, ten tokens on, then back to 95. The slots of tokens 70..<86 were overwritten by
        // the first run's tokens 134..<150, so the oldest kept token stays 86 although the cache now holds
        // only 130 tokens (130 − 64 = 66 would wrongly allow 75).
        let driver = Driver(map: map, window: window, table: table, maxTokens: 400)
        driver.run(a, chunks: chunksA)
        driver.truncate(to: 120)
        driver.run(Array(a[..<120]) + Self.sequence(10, seed: 7), chunks: Array(repeating: 1, count: 10))
        XCTAssertEqual(driver.cache.reusablePrefix(upTo: 75), 0)
        XCTAssertEqual(driver.cache.reusablePrefix(upTo: 95), 95)
        driver.truncate(to: 95)
        let c = Array(driver.ids) + Self.sequence(30, seed: 8)
        let outs = driver.run(c, chunks: [7, 1, 1, 21])
        let reference = driver.reference(from: 95)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[0], reference[0]), 2e-5)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(outs[1], reference[1]), 2e-5)
        // Back to 0 always works.
        XCTAssertEqual(driver.cache.reusablePrefix(upTo: 0), 0)
        driver.truncate(to: 0)
        let again = driver.run(a, chunks: chunksA)
        let fromScratch = driver.reference(from: 0)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(again[0], fromScratch[0]), 2e-5)
    }

    /// Fills a cache to `tokens` in passes of `chunk` without attending (allocation only).
    static func fill(_ cache: KVCache, tokens: Int, chunk: Int) {
        while cache.count < tokens {
            let n = min(chunk, tokens - cache.count)
            cache.reserve(n)
            cache.commit(n)
        }
    }

    /// At 32k tokens in passes of 256, Self-Extend's keys (W = 2048) take one copy plus a ring of
    /// 2047 + 256 → 2304 slots instead of two copies; the cache's byte count is its footprint's estimate.
    func testSelfExtendKeysTakeOneCopyPlusARing() throws {
        let tokens = 32768, chunk = 256, layers = 2, kvHeads = 2, hd = 64
        let map = try SelfExtendPositions(groupSize: 8, window: 2048)
        func cache(_ positions: PositionMap, rings: Bool = true) -> KVCache {
            let c = KVCache(layers: layers, kvHeads: kvHeads, headDim: hd, positions: positions, maxTokens: tokens,
                            keyType: .f16, valueType: .f16, chunkTokens: chunk, rings: rings)
            Self.fill(c, tokens: tokens, chunk: chunk)
            return c
        }
        let row = 2 * hd  // bytes of one f16 head vector
        let plain = cache(PlainPositions()), se = cache(map), before = cache(map, rings: false)
        let values = layers * kvHeads * tokens * row
        let plainKeys = plain.allocatedBytes - values
        let seKeys = se.allocatedBytes - values, beforeKeys = before.allocatedBytes - values
        let ring = layers * kvHeads * 2304 * row
        print("KV keys at \(tokens) tokens: plain \(plainKeys) B, self-extend with ring \(seKeys) B, before rings \(beforeKeys) B")
        XCTAssertEqual(plainKeys, layers * kvHeads * tokens * row)
        XCTAssertLessThanOrEqual(Double(seKeys), 1.05 * Double(plainKeys) + Double(ring))
        XCTAssertEqual(seKeys, plainKeys + ring)
        XCTAssertEqual(beforeKeys, 2 * plainKeys)
        XCTAssertEqual(se.slots(layer: 1).nearKeys, 2304)
        for c in [plain, se, before] {
            XCTAssertEqual(Int(c.footprint.bytes(tokens: tokens)), c.allocatedBytes, "the estimate is the allocation")
        }
        XCTAssertEqual(se.footprint.bytesPerToken, plain.footprint.bytesPerToken)
        XCTAssertEqual(se.footprint.ringBytes, ring)
    }

    /// Gemma 3 270M's shape (18 layers, 5 of 6 local with a window of 512, one KV head of 256) at 32k tokens:
    /// the local layers hold window + pass (511 + 256 → 768 slots), the global ones every token.
    func testGemmaLocalLayersHoldTheirWindowOnly() throws {
        let tokens = 32768, chunk = 256
        let arch = try XCTUnwrap(ArchitectureRegistry.architecture(named: "gemma3"))
        let kinds = KVLayerKind.layers(of: arch, count: 18, slidingWindow: 512)
        XCTAssertEqual(kinds.filter { $0 == .global }.count, 3)
        let cache = KVCache(layers: 18, kvHeads: 1, headDim: 256, positions: PlainPositions(), maxTokens: tokens,
                            keyType: .f16, valueType: .f16, layerKinds: kinds, chunkTokens: chunk)
        Self.fill(cache, tokens: tokens, chunk: chunk)
        for (l, kind) in kinds.enumerated() {
            let s = cache.slots(layer: l)
            if kind == .global {
                XCTAssertEqual(s.nearKeys, tokens)
                XCTAssertEqual(s.values, tokens)
            } else {
                XCTAssertLessThanOrEqual(s.nearKeys, 512 + chunk)
                XCTAssertLessThanOrEqual(s.values, 512 + chunk)
            }
        }
        let whole = 18 * tokens * 2 * 512
        print("Gemma 3 270M KV at \(tokens) tokens: \(cache.allocatedBytes) B with rings, \(whole) B before")
        XCTAssertEqual(cache.allocatedBytes, 3 * tokens * 2 * 512 + 15 * 768 * 2 * 512)
        XCTAssertEqual(Int(cache.footprint.bytes(tokens: tokens)), cache.allocatedBytes)
    }

    /// The Gemma 3 fixture (sliding window 8) through the model: logits of a 160-token prompt in passes of 16,
    /// then 40 decoded tokens, are bit for bit those of a cache without rings, plain and with Self-Extend.
    func testModelWithRingsEqualsWholeHistory() throws {
        let path = TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Model/Fixtures/Architectures/gemma3.gguf").path
        let model = try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(threads: 2, batchSize: 16, precision: .f32))
        XCTAssertEqual(model.config.slidingWindow, 8)
        let vocab = model.config.vocabularySize
        var rng = SeededGenerator(seed: 9)
        let tokens = (0..<200).map { _ in Int(rng.next() % UInt64(vocab)) }
        for positions in [PlainPositions(), try SelfExtendPositions(groupSize: 2, window: 8)] as [PositionMap] {
            let ring = try model.makeCache(maxTokens: 256, positions: positions)
            let whole = KVCache(
                layers: model.config.blockCount, kvHeads: model.config.headCountKV, headDim: model.config.headDim,
                positions: positions, maxTokens: 256, keyType: ring.keyType, valueType: ring.valueType,
                layerKinds: model.kvLayerKinds, rings: false)
            for cache in [ring, whole] { XCTAssertEqual(cache.layerKinds, model.kvLayerKinds) }
            let a = try model.forward(Array(tokens[..<160]), cache: ring, logits: .all)
            let b = try model.forward(Array(tokens[..<160]), cache: whole, logits: .all)
            XCTAssertEqual(a, b, "\(positions) prefill")
            for t in tokens[160...] {
                XCTAssertEqual(try model.forward([t], cache: ring), try model.forward([t], cache: whole), "\(positions) decode")
            }
            let local = try XCTUnwrap(model.kvLayerKinds.firstIndex { $0 != .global })
            XCTAssertLessThan(ring.slots(layer: local).values, 200, "the local ring wrapped")
            XCTAssertLessThan(ring.allocatedBytes, whole.allocatedBytes)
        }
        // A cache of another shape is refused with a typed error.
        let other = KVCache(layers: 2, kvHeads: 1, headDim: 16, positions: PlainPositions(), maxTokens: 8)
        XCTAssertThrowsError(try model.forward([1], cache: other)) { error in
            guard case .incompatibleCache = error as? ModelError else { return XCTFail("\(error)") }
        }
    }

    /// A session reusing a prompt prefix with Self-Extend (W = 16, passes of 32: a ring of 64 near keys):
    /// within the ring it keeps the prefix, beyond it recomputes everything; the logits equal a fresh
    /// session's either way.
    func testSessionPrefixReuseWithRings() async throws {
        let model = try LanguageModel(path: TestFiles.stories260K, options: LoadOptions(threads: 2, batchSize: 32, precision: .f32))
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        let tokens = model.tokenizer.encode(text, addSpecial: true)
        XCTAssertGreaterThan(tokens.count, 500)
        let spec = "self-extend:G=4:W=16"
        // After 300 tokens in passes of 32 the ring holds tokens 236..<300; a branch at m keeps its prefix
        // while the near keys from m − 15 on are among them.
        for (branch, keeps) in [(290, true), (200, false)] {
            let session = try Session(model: model, contextExtension: spec, contextSize: 1024)
            let first = Array(tokens.prefix(300))
            _ = try await session.prefill(first)
            let prompt = Array(tokens.prefix(branch)) + tokens[400..<450]
            let common = zip(first, prompt).prefix { $0 == $1 }.count
            XCTAssertEqual(common - 15 >= 236, keeps)
            let kept = keeps ? common : 0
            let (logits, reused) = try await session.prefill(prompt)
            XCTAssertEqual(reused, kept, "branch at \(branch)")
            let (fresh, _) = try await Session(model: model, contextExtension: spec, contextSize: 1024).prefill(prompt)
            let worst = zip(logits, fresh).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4, "branch at \(branch)")
            if kept == 0 { XCTAssertEqual(logits, fresh, "recomputed from the start: the same passes") }
        }
        // With the full history kept (no rings), the far branch keeps its prefix too.
        let whole = try LanguageModel(path: TestFiles.stories260K, options: LoadOptions(
            threads: 2, batchSize: 32, precision: .f32, keepsFullKVHistory: true))
        let session = try Session(model: whole, contextExtension: spec, contextSize: 1024)
        _ = try await session.prefill(Array(tokens.prefix(300)))
        let prompt = Array(tokens.prefix(200)) + tokens[400..<450]
        let common = zip(tokens.prefix(300), prompt).prefix { $0 == $1 }.count
        let (logits, reused) = try await session.prefill(prompt)
        XCTAssertEqual(reused, common)
        let (fresh, _) = try await Session(model: model, contextExtension: spec, contextSize: 1024).prefill(prompt)
        XCTAssertLessThanOrEqual(zip(logits, fresh).map { abs($0 - $1) }.max() ?? .infinity, 1e-4)
    }
}
