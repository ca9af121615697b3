import ArgumentParser
import Foundation
import Stretch

/// `stretch inspect`: architecture, hyperparameters, tokenizer and tensor types of a GGUF.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Describe a GGUF model: architecture, hyperparameters, tokenizer, tensors.")

    @Argument(help: "Path to a GGUF file.") var path: String
    @Flag(name: .customLong("metadata"), help: "Also print every metadata key (long arrays abbreviated).")
    var allMetadata = false
    @Flag(name: .customLong("check-tensors"), help: "Scan every tensor for NaN and infinity; name the first bad one.")
    var checkTensors = false

    func run() throws {
        let f = try GGUFFile(path: path)
        if checkTensors { try f.checkFinite() }
        var lines: [String] = []
        lines.append("file: \(path) (\(f.mapping.size) bytes, GGUF v\(f.version), alignment \(f.alignment))")
        if let name = try? f.optionalString("general.name") { lines.append("name: \(name)") }
        let arch = (try? f.string("general.architecture")) ?? "?"
        let supported = LlamaModel.architectures.contains(arch)
        lines.append("architecture: \(arch)" + (supported ? "" : " (not supported yet; supported: "
            + LlamaModel.architectures.joined(separator: ", ") + ")"))
        if let c = try? ModelConfig(file: f) {
            lines.append("context_length (trained L): \(c.contextLength)")
            lines.append("layers: \(c.blockCount), embedding: \(c.embeddingLength), feed_forward: \(c.feedForwardLength)")
            lines.append("heads: \(c.headCount) query / \(c.headCountKV) kv, head_dim: \(c.headDim)")
            lines.append("rope: \(c.rope.dimensions) dims, base \(c.rope.base), pairing \(c.rope.pairing.rawValue)"
                + ", scaling \(c.ropeScaling)")
            lines.append("rms_eps: \(c.rmsEpsilon), vocabulary: \(c.vocabularySize)")
            if let w = c.slidingWindow { lines.append("sliding window: \(w) (local layers)") }
            // What Self-Extend reaches with the default window W = L/2 (N_max = G·(L − W + ⌊W/G⌋)).
            let L = c.contextLength, w = L / 2
            let reach = [2, 4, 8, 16].map { g in "G=\(g) → \(g * (L - w + w / g))" }.joined(separator: ", ")
            lines.append("self-extend reach with W=\(w): \(reach) tokens")
            // KV memory per token and at the trained context for each -ctk/-ctv type (keys and values alike;
            // Self-Extend keeps a far-rotated copy of every key and near keys in a ring of W + a 256-token pass;
            // sliding-window layers keep a ring of their window).
            let kinds = ArchitectureRegistry.architecture(named: arch).map {
                KVLayerKind.layers(of: $0, count: c.blockCount, slidingWindow: c.slidingWindow)
            } ?? Array(repeating: .global, count: c.blockCount)
            let selfExtend = try? SelfExtendPositions(groupSize: 2, window: w)
            func size(_ bytes: Int) -> String {
                Double(bytes) >= 1_048_576 ? String(format: "%.0f MiB", Double(bytes) / 1_048_576)
                    : String(format: "%.0f KiB", Double(bytes) / 1024)
            }
            let kv = KVElementType.allCases.map { t -> String in
                guard t.supports(headDim: c.headDim) else { return "\(t.rawValue) n/a (head_dim \(c.headDim) % 32 ≠ 0)" }
                func footprint(_ positions: PositionMap) -> KVCacheFootprint {
                    KVCache.footprint(layerKinds: kinds, kvHeads: c.headCountKV, headDim: c.headDim, keyType: t,
                                      valueType: t, positions: positions, chunkTokens: LoadOptions().batchSize)
                }
                func ring(_ f: KVCacheFootprint) -> String { f.rings.isEmpty ? "" : " + \(size(f.ringBytes)) ring" }
                let plain = footprint(PlainPositions())
                let extended = selfExtend.map { footprint($0) } ?? plain
                return "\(t.rawValue) \(plain.bytesPerToken) B\(ring(plain)) (self-extend \(extended.bytesPerToken) B"
                    + "\(ring(extended)); \(size(Int(clamping: plain.bytes(tokens: L)))) at L)"
            }
            lines.append("kv cache per token: " + kv.joined(separator: ", "))
        }
        let model = (try? f.optionalString("tokenizer.ggml.model")) ?? nil
        let pre = (try? f.optionalString("tokenizer.ggml.pre")) ?? nil
        let nTokens = f.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
        let nMerges = f.metadata["tokenizer.ggml.merges"]?.arrayValue?.count ?? 0
        var tok = "tokenizer: \(model ?? "none")"
        if let pre { tok += ", pre \(pre)" }
        tok += ", \(nTokens) tokens"
        if nMerges > 0 { tok += ", \(nMerges) merges" }
        for key in ["bos", "eos", "unknown", "padding"] {
            if let id = try? f.optionalInt("tokenizer.ggml.\(key)_token_id") { tok += ", \(key) \(id)" }
        }
        if let b = try? f.optionalBool("tokenizer.ggml.add_bos_token") { tok += ", add_bos \(b)" }
        if let b = try? f.optionalBool("tokenizer.ggml.add_space_prefix") { tok += ", add_space_prefix \(b)" }
        lines.append(tok)
        if f.metadata["tokenizer.chat_template"] != nil { lines.append("chat template: present") }
        var counts: [String: Int] = [:]
        for t in f.tensors { counts[t.type.description, default: 0] += 1 }
        let typeList = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("tensors: \(f.tensors.count) (\(typeList))")
        let params = f.tensors.reduce(0) { $0 + $1.elementCount }
        lines.append(String(format: "parameters: %.1f M", Double(params) / 1e6))
        // Whether the network loads, and if not what is missing (a tensor type, an unused or missing tensor).
        if supported {
            do {
                _ = try LlamaModel(file: f, options: LoadOptions(threads: 1))
                lines.append("loads: yes")
            } catch {
                lines.append("loads: no — \(error)")
            }
        }
        if allMetadata {
            lines.append("metadata:")
            for k in f.metadataKeys {
                let v = f.metadata[k]!
                let shown: String
                if case let .array(type, values) = v {
                    shown = "[\(type) × \(values.count)]"
                } else if case let .string(s) = v {
                    shown = s.count > 80 ? "\"\(s.prefix(77))...\"" : "\"\(s)\""
                } else {
                    shown = "\(v)"
                }
                lines.append("  \(k) = \(shown)")
            }
        }
        Console.out(lines.joined(separator: "\n") + "\n")
    }
}
