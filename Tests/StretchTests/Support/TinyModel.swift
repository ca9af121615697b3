import Foundation
import Stretch

/// Builds tiny random-weight GGUF models with the project's own writer, for shape and edge-case tests.
struct TinyModel {
    var architecture = "llama"
    var vocab = 64
    var dim = 64
    var ffn = 96
    var layers = 2
    var heads = 4
    var kvHeads = 2
    var context = 128
    var weightType: GGMLType = .f32
    var qkvBias = false
    var tiedOutput = true
    var seed: UInt64 = 1
    /// Store the quantized weights' dequantized values (by the test-side ``ReferenceDequantizer``) as F32:
    /// the float twin of the `weightType` model with the same seed.
    var storeDequantized = false
    /// Tensors to leave out or reshape, to build broken models.
    var omit: Set<String> = []
    var reshape: [String: [Int]] = [:]
    /// Extra tensors (name → dims) no architecture reads, to build files the strict loader must refuse.
    var extra: [String: [Int]] = [:]
    /// Rotary base (`{arch}.rope.freq_base`).
    var ropeBase: Double = 10000
    /// Further metadata, written after the hyperparameters (e.g. `rope.scaling.*` keys).
    var extraMetadata: [(String, GGUFValue)] = []

    func write(to path: String) throws {
        var w = GGUFWriter()
        let a = architecture
        w.set("general.architecture", .string(a))
        w.set("\(a).context_length", .uint32(UInt32(context)))
        w.set("\(a).embedding_length", .uint32(UInt32(dim)))
        w.set("\(a).block_count", .uint32(UInt32(layers)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("\(a).rope.freq_base", .float32(Float(ropeBase)))
        for (key, value) in extraMetadata { w.set(key, value) }
        // A byte-level vocabulary of `vocab` SentencePiece pieces is enough for the tokenizer to load.
        w.set("tokenizer.ggml.model", .string("llama"))
        var tokens: [GGUFValue] = [.string("<unk>"), .string("<s>"), .string("</s>")]
        var types: [GGUFValue] = [.int32(2), .int32(3), .int32(3)]
        for i in 3..<vocab {
            tokens.append(.string(i - 3 < 256 ? String(format: "<0x%02X>", i - 3) : "tok\(i)"))
            types.append(.int32(6))
        }
        w.set("tokenizer.ggml.tokens", .array(.string, tokens))
        w.set("tokenizer.ggml.scores", .array(.float32, (0..<vocab).map { _ in .float32(0) }))
        w.set("tokenizer.ggml.token_type", .array(.int32, types))
        w.set("tokenizer.ggml.bos_token_id", .uint32(1))
        w.set("tokenizer.ggml.eos_token_id", .uint32(2))

        var rng = SeededGenerator(seed: seed)
        func add(_ name: String, _ dims: [Int], type: GGMLType, scale: Float = 0.2) {
            if omit.contains(name) { return }
            let d = reshape[name] ?? dims
            let count = d.reduce(1, *)
            let values = (0..<count).map { _ in Float.random(in: -scale...scale, using: &rng) }
            if type == .f32 {
                w.addF32(name, dims: d, values: values)
            } else {
                var bytes: [UInt8] = []
                let rows = count / d[0]
                values.withUnsafeBufferPointer { buf in
                    for r in 0..<rows { bytes += Quantize.row(type, buf.baseAddress! + r * d[0], count: d[0]) }
                }
                if storeDequantized {
                    w.addF32(name, dims: d, values: ReferenceDequantizer.row(type, bytes, count: count))
                } else {
                    w.tensors.append(.init(name: name, type: type, dims: d, data: bytes))
                }
            }
        }
        let hd = dim / heads
        add("token_embd.weight", [dim, vocab], type: weightType)
        add("output_norm.weight", [dim], type: .f32, scale: 1)
        if !tiedOutput { add("output.weight", [dim, vocab], type: weightType) }
        for l in 0..<layers {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", [dim], type: .f32, scale: 1)
            add(p + "attn_q.weight", [dim, heads * hd], type: weightType)
            add(p + "attn_k.weight", [dim, kvHeads * hd], type: weightType)
            add(p + "attn_v.weight", [dim, kvHeads * hd], type: weightType)
            if qkvBias {
                add(p + "attn_q.bias", [heads * hd], type: .f32)
                add(p + "attn_k.bias", [kvHeads * hd], type: .f32)
                add(p + "attn_v.bias", [kvHeads * hd], type: .f32)
            }
            add(p + "attn_output.weight", [heads * hd, dim], type: weightType)
            add(p + "ffn_norm.weight", [dim], type: .f32, scale: 1)
            add(p + "ffn_gate.weight", [dim, ffn], type: weightType)
            add(p + "ffn_up.weight", [dim, ffn], type: weightType)
            add(p + "ffn_down.weight", [ffn, dim], type: weightType)
        }
        for (name, dims) in extra.sorted(by: { $0.key < $1.key }) { add(name, dims, type: .f32) }
        try w.write(to: path)
    }
}
