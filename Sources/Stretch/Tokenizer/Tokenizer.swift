/// Text ↔ token ids for a GGUF model, reproducing llama.cpp's `llama_tokenize` / `llama_detokenize`.
///
/// Supported vocabularies: `tokenizer.ggml.model = llama` (SentencePiece, e.g. LLaMA-2, TinyStories,
/// Gemma 3) and `gpt2` (byte-level BPE) with the pre-tokenizers listed in
/// ``TokenizerError/unsupportedPreTokenizer(file:pre:supported:)`` (Llama 3, GPT-2, Qwen2/3.5, Falcon,
/// StarCoder, DeepSeek, Command-R, MPT, GPT-4o, Tekken and their aliases). Special-token
/// handling, BOS/EOS insertion and end-of-generation detection follow llama.cpp's vocabulary loader.
/// A `Tokenizer` is immutable after `init` and safe to use from several threads.
// @unchecked: all state is immutable after init (the vocabulary and tables are only read).
public final class Tokenizer: @unchecked Sendable {
    /// The two implemented algorithm families.
    public enum Model: Sendable, Equatable {
        /// SentencePiece (`tokenizer.ggml.model = llama`).
        case sentencePiece
        /// Byte-level BPE (`tokenizer.ggml.model = gpt2`).
        case bytePair
    }

    /// Which algorithm this vocabulary uses.
    public let model: Model
    /// Beginning-of-sequence token, if the vocabulary has one.
    public let bosID: Int?
    /// End-of-sequence token, if the vocabulary has one.
    public let eosID: Int?
    /// Unknown-token id, if any.
    public let unknownID: Int?
    /// Explicit or auto-detected end-of-turn token (`<|im_end|>`, `<end_of_turn>`, …), if any.
    public let eotID: Int?
    /// Whether `encode(_:addSpecial:)` prepends ``bosID`` when `addSpecial` is true.
    public let addBOS: Bool
    /// Whether `encode(_:addSpecial:)` appends ``eosID`` when `addSpecial` is true.
    public let addEOS: Bool
    /// SentencePiece only: whether a space is prepended to text at the start and after special tokens.
    public let addSpacePrefix: Bool
    /// Every token that ends generation (eos, eot, eom, `<|im_end|>`, `<|endoftext|>`, FIM pad/repo/sep…).
    public let endOfGenerationIDs: Set<Int>

    let vocab: Vocabulary
    private let partitioner: SpecialTokenPartitioner
    private let sentencePiece: SentencePieceTokenizer?
    private let bytePair: BytePairTokenizer?

    /// Number of entries in the vocabulary (the model's logit count may be larger).
    public var vocabularySize: Int { vocab.count }

    /// Builds the tokenizer from `tokenizer.ggml.*` metadata.
    ///
    /// - Throws: ``TokenizerError`` for an unsupported `tokenizer.ggml.model` or pre-tokenizer, or
    ///   missing/invalid vocabulary keys; ``GGUFError`` if a key has the wrong type.
    public init(gguf: GGUFFile) throws {
        let file = gguf.path
        guard let modelName = try gguf.optionalString("tokenizer.ggml.model") else {
            throw TokenizerError.missingKey(file: file, key: "tokenizer.ggml.model")
        }
        switch modelName {
        case "llama": model = .sentencePiece
        case "gpt2": model = .bytePair
        default: throw TokenizerError.unsupportedModel(file: file, model: modelName)
        }
        var preTokenizer: BytePairPreTokenizer?
        if model == .bytePair {
            let pre = try gguf.optionalString("tokenizer.ggml.pre") ?? "default"
            guard let rule = BytePairPreTokenizer(name: pre) else {
                throw TokenizerError.unsupportedPreTokenizer(file: file, pre: pre, supported: BytePairPreTokenizer.supportedNames)
            }
            preTokenizer = rule
        }

        // Vocabulary texts.
        guard let tokenValue = gguf.metadata["tokenizer.ggml.tokens"] else {
            throw TokenizerError.missingKey(file: file, key: "tokenizer.ggml.tokens")
        }
        guard case let .array(_, tokenValues) = tokenValue, !tokenValues.isEmpty else {
            throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.tokens", reason: "not a non-empty array of strings")
        }
        let n = tokenValues.count
        var table = ByteStringTable(expectedCount: n, expectedBytes: n * 8)
        for (i, value) in tokenValues.enumerated() {
            guard case var .string(s) = value else {
                throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.tokens", reason: "element \(i) is not a string")
            }
            if s.isEmpty { s = "[EMPTY_\(i)]" }
            s.withUTF8 { _ = table.append($0) }
        }

        var scores = [Float](repeating: 0, count: n)
        if let s = try gguf.optionalFloatArray("tokenizer.ggml.scores") {
            guard s.count >= n else {
                throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.scores", reason: "\(s.count) scores for \(n) tokens")
            }
            scores = Array(s[0..<n])
        }
        var kinds = [TokenKind](repeating: .normal, count: n)
        if let t = try gguf.optionalIntArray("tokenizer.ggml.token_type") {
            guard t.count >= n else {
                throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.token_type", reason: "\(t.count) types for \(n) tokens")
            }
            for i in 0..<n { kinds[i] = TokenKind(typeCode: t[i]) }
        }

        // Flags and special ids, with llama.cpp's per-family defaults.
        var bos: Int?, eos: Int?, unk: Int?
        var addBOS: Bool, addEOS = false, addSpacePrefix: Bool
        switch model {
        case .sentencePiece: bos = 1; eos = 2; unk = 0; addBOS = true; addSpacePrefix = true
        case .bytePair: bos = 11; eos = 11; unk = nil; addBOS = preTokenizer?.addsBOSByDefault ?? false; addSpacePrefix = false
        }
        func specialID(_ key: String, default value: Int?) throws -> Int? {
            var id = value
            if let d = id, d >= n { id = nil }
            if let v = try gguf.optionalInt(key), v >= 0, v < n { id = v }
            return id
        }
        bos = try specialID("tokenizer.ggml.bos_token_id", default: bos)
        eos = try specialID("tokenizer.ggml.eos_token_id", default: eos)
        unk = try specialID("tokenizer.ggml.unknown_token_id", default: unk)
        var eot = try specialID("tokenizer.ggml.eot_token_id", default: nil)
        var eom = try specialID("tokenizer.ggml.eom_token_id", default: nil)
        var fimPad = try specialID("tokenizer.ggml.fim_pad_token_id", default: nil)
        var fimRep = try specialID("tokenizer.ggml.fim_rep_token_id", default: nil)
        var fimSep = try specialID("tokenizer.ggml.fim_sep_token_id", default: nil)
        if let v = try gguf.optionalBool("tokenizer.ggml.add_space_prefix") { addSpacePrefix = v }
        if model == .bytePair { addSpacePrefix = false }
        if let v = try gguf.optionalBool("tokenizer.ggml.add_bos_token") { addBOS = v }
        if let v = try gguf.optionalBool("tokenizer.ggml.add_eos_token") { addEOS = v }
        if addBOS && bos == nil {
            throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.add_bos_token", reason: "true, but tokenizer.ggml.bos_token_id is not set")
        }
        if addEOS && eos == nil {
            throw TokenizerError.invalidValue(file: file, key: "tokenizer.ggml.add_eos_token", reason: "true, but tokenizer.ggml.eos_token_id is not set")
        }

        // llama.cpp's text-based detection of end-of-turn / FIM tokens; such tokens become control tokens.
        func find(_ texts: [String]) -> Int? {
            for t in texts {
                let id = table.lookup(Array(t.utf8))
                if id >= 0 { return id }
            }
            return nil
        }
        func markControl(_ id: Int?) { if let id { kinds[id] = .control } }
        if eot == nil {
            eot = find(["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"])
            markControl(eot)
        }
        if eom == nil { eom = find(["<|eom_id|>"]); markControl(eom) }
        markControl(find(["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]))
        markControl(find(["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]))
        markControl(find(["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"]))
        if fimPad == nil { fimPad = find(["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]); markControl(fimPad) }
        if fimRep == nil { fimRep = find(["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]); markControl(fimRep) }
        if fimSep == nil { fimSep = find(["<|file_sep|>"]); markControl(fimSep) }

        var eog = Set<Int>()
        for id in [fimPad, fimRep, fimSep, eos, eot, eom] { if let id { eog.insert(id) } }
        for text in ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
                     "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
                     "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
                     "<｜end▁of▁sentence｜>", "[e~["] {
            let id = table.lookup(Array(text.utf8))
            if id >= 0 { eog.insert(id); kinds[id] = .control }
        }
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            let id = table.lookup(Array(text.utf8))
            if id >= 0 { kinds[id] = .userDefined }
        }
        func has(_ text: String) -> Int? { let id = table.lookup(Array(text.utf8)); return id >= 0 && eog.contains(id) ? id : nil }
        if has("<|return|>") != nil || has("<|flush|>") != nil, has("<|call|>") != nil || has("<|calls|>") != nil,
           let end = has("<|end|>") {
            eog.remove(end); kinds[end] = .userDefined
        }
        if has("<|tool_response>") != nil, let s = has("</s>") {
            eog.remove(s); kinds[s] = .normal
        }

        let vocab = Vocabulary(table: table, scores: scores, kinds: kinds)
        self.vocab = vocab
        self.bosID = bos
        self.eosID = eos
        self.unknownID = unk
        self.eotID = eot
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.endOfGenerationIDs = eog
        self.partitioner = SpecialTokenPartitioner(vocab: vocab)
        switch model {
        case .sentencePiece:
            sentencePiece = SentencePieceTokenizer(vocab: vocab, unknownID: unk)
            bytePair = nil
        case .bytePair:
            guard let merges = try gguf.optionalStringArray("tokenizer.ggml.merges") else {
                throw TokenizerError.missingKey(file: file, key: "tokenizer.ggml.merges")
            }
            sentencePiece = nil
            bytePair = BytePairTokenizer(vocab: vocab, mergeList: merges, preTokenizer: preTokenizer!)
        }
    }

    // MARK: Encoding

    /// Converts text to token ids exactly as llama.cpp's `llama_tokenize(text, add_special, parse_special)`.
    ///
    /// - Parameters:
    ///   - addSpecial: add BOS (and EOS) when the model's `add_bos_token` / `add_eos_token` flags say so.
    ///   - parseSpecial: turn control-token texts written in `text` (such as `<|im_start|>`) into their ids.
    ///     User-defined tokens are always matched, as in llama.cpp.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial && addBOS, let bos = bosID { output.append(bos) }
        var text = text
        text.withUTF8 { bytes in
            let fragments = partitioner.isEmpty
                ? (bytes.isEmpty ? [] : [.text(0..<bytes.count)])
                : partitioner.partition(bytes, parseSpecial: parseSpecial)
            switch model {
            case .sentencePiece:
                let spm = sentencePiece!
                var isPreviousSpecial = true
                var escaped: [UInt8] = []
                for fragment in fragments {
                    switch fragment {
                    case let .token(id):
                        output.append(id)
                        isPreviousSpecial = true
                    case let .text(range):
                        escaped.removeAll(keepingCapacity: true)
                        escaped.reserveCapacity(range.count + 16)
                        if addSpacePrefix && isPreviousSpecial { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
                        for b in bytes[range] {
                            if b == 0x20 { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) } else { escaped.append(b) }
                        }
                        escaped.withUnsafeBufferPointer { spm.tokenize($0, into: &output) }
                        isPreviousSpecial = false
                    }
                }
            case .bytePair:
                let bpe = bytePair!
                var scratch = BytePairTokenizer.Scratch()
                for fragment in fragments {
                    switch fragment {
                    case let .token(id): output.append(id)
                    case let .text(range): bpe.tokenize(UnsafeBufferPointer(rebasing: bytes[range]), scratch: &scratch, into: &output)
                    }
                }
            }
        }
        if addSpecial && addEOS, let eos = eosID { output.append(eos) }
        return output
    }

    // MARK: Decoding

    /// The kind of a token (after llama.cpp's load-time overrides), or nil for an out-of-range id.
    public func kind(_ id: Int) -> TokenKind? {
        id >= 0 && id < vocab.count ? vocab.kinds[id] : nil
    }

    /// The vocabulary entry of `id` verbatim (`▁the`, `Ġthe`, `<0x0A>`, `<|im_end|>`), or "" if out of range.
    public func tokenText(_ id: Int) -> String {
        guard id >= 0 && id < vocab.count else { return "" }
        return String(decoding: vocab.text(id), as: UTF8.self)
    }

    /// The bytes a token contributes to decoded text (llama.cpp's `token_to_piece`).
    ///
    /// Normal tokens decode to their text (SentencePiece: U+2581 → space; BPE: byte-level mapping undone),
    /// byte tokens to their byte, user-defined tokens to their text. Control and unknown tokens give
    /// nothing unless `renderSpecial` is true, in which case they give their text. Unused tokens give nothing.
    public func pieceBytes(_ id: Int, renderSpecial: Bool = false) -> [UInt8] {
        guard id >= 0 && id < vocab.count else { return [] }
        let text = vocab.text(id)
        switch vocab.kinds[id] {
        case .control, .unknown:
            return renderSpecial ? Array(text) : []
        case .userDefined:
            return Array(text)
        case .normal:
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            switch model {
            case .sentencePiece:
                var i = text.startIndex
                while i < text.endIndex {
                    if text[i] == 0xE2, i + 2 < text.endIndex, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                        out.append(0x20); i += 3
                    } else {
                        out.append(text[i]); i += 1
                    }
                }
            case .bytePair:
                ByteLevelMapping.decode(text, into: &out)
            }
            return out
        case .byte:
            // `<0xXX>`
            let digits = Array(text.dropFirst(3).prefix(2))
            guard digits.count == 2, let v = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) else { return [] }
            return [v]
        case .unused, .undefined:
            return []
        }
    }

    /// A token's text for display: control tokens show their names, byte tokens show `<0xXX>`,
    /// everything else shows its decoded text.
    public func piece(_ id: Int) -> String {
        if kind(id) == .byte { return tokenText(id) }
        return String(decoding: pieceBytes(id, renderSpecial: true), as: UTF8.self)
    }

    /// Converts ids back to text.
    ///
    /// Mirrors llama.cpp's `llama_detokenize` with one deliberate difference: with `add_space_prefix`
    /// (SentencePiece models such as LLaMA-2/TinyStories), the space that encoding put in front of the
    /// text is removed from the first piece — also when that piece follows a leading BOS (llama.cpp keeps
    /// it there) — so that `decode(encode(x)) == x`. Invalid UTF-8 is replaced by U+FFFD.
    ///
    /// - Parameter renderSpecial: include the text of control tokens (`<|im_end|>`); default: omit them.
    public func decode(_ ids: [Int], renderSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// ``decode(_:renderSpecial:)`` as raw bytes (may end inside a multi-byte character).
    public func decodeBytes(_ ids: [Int], renderSpecial: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var stripSpace = addSpacePrefix
        for (i, id) in ids.enumerated() {
            if i == 0, id == bosID, ids.count > 1 {
                out.append(contentsOf: pieceBytes(id, renderSpecial: renderSpecial))
                continue
            }
            let piece = pieceBytes(id, renderSpecial: renderSpecial)
            if stripSpace, piece.first == 0x20 {
                out.append(contentsOf: piece.dropFirst())
            } else {
                out.append(contentsOf: piece)
            }
            stripSpace = false
        }
        return out
    }

    /// Whether `id` ends generation (EOS, EOT such as `<|im_end|>` / `<end_of_turn>`, `<|endoftext|>`, …).
    public func isEndOfGeneration(_ id: Int) -> Bool { endOfGenerationIDs.contains(id) }
}
