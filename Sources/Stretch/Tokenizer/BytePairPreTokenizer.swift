/// The BPE pre-tokenizer named by `tokenizer.ggml.pre`: the regex passes llama.cpp runs before merging,
/// plus the per-family flags llama.cpp sets with it. This is the one place that maps names to rules.
struct BytePairPreTokenizer: Sendable {
    /// The passes in order; each splits the pieces of the previous one.
    let passes: [PreTokenizerPass]
    /// A word that is itself a vocabulary entry becomes that token without merging (llama3, tekken).
    let ignoresMerges: Bool
    /// llama.cpp's default for `add_bos_token` in this family (the GGUF key overrides it).
    let addsBOSByDefault: Bool

    private init(_ passes: [PreTokenizerPass], ignoresMerges: Bool = false, addsBOSByDefault: Bool = false) {
        self.passes = passes
        self.ignoresMerges = ignoresMerges
        self.addsBOSByDefault = addsBOSByDefault
    }

    private static let gpt2Digits: [PreTokenizerPass] = [
        .run(prefix: nil, body: .number, max: 1, exact: false, atEnd: false), .gpt2,
    ]

    /// Every supported `tokenizer.ggml.pre` value (llama.cpp's names and aliases).
    static let supportedNames: [String] = families.flatMap(\.names).sorted()

    private static let families: [(names: [String], rule: BytePairPreTokenizer)] = [
        (["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"],
         BytePairPreTokenizer([.llama3(maxDigits: 3, marks: false)], ignoresMerges: true, addsBOSByDefault: true)),
        (["dbrx", "smaug-bpe"], BytePairPreTokenizer([.llama3(maxDigits: 3, marks: false)])),
        (["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "megrez", "hunyuan", "solar-open", "grok-2"],
         BytePairPreTokenizer([.llama3(maxDigits: 1, marks: false)])),
        (["qwen35"], BytePairPreTokenizer([.llama3(maxDigits: 1, marks: true)])),
        (["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
          "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4"],
         BytePairPreTokenizer([.gpt2])),
        (["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"],
         BytePairPreTokenizer(gpt2Digits)),
        (["falcon"], BytePairPreTokenizer([
            .run(prefix: nil, body: .punctuationOrASCIISymbol, max: 0, exact: false, atEnd: false),
            .gpt2,
            .run(prefix: nil, body: .asciiDigit, max: 3, exact: true, atEnd: false),
        ])),
        (["deepseek-llm"], BytePairPreTokenizer([
            .run(prefix: nil, body: .lineBreak, max: 1, exact: false, atEnd: false),
            .run(prefix: .whitespace, body: PreTokenizerCharacterClass.deepSeekLetters, max: 0, exact: false, atEnd: false),
            .run(prefix: .whitespace, body: PreTokenizerCharacterClass.deepSeekPunctuation, max: 0, exact: false, atEnd: false),
            .run(prefix: nil, body: .whitespace, max: 0, exact: false, atEnd: true),
            .run(prefix: nil, body: PreTokenizerCharacterClass.deepSeekCJK, max: 0, exact: false, atEnd: false),
            .run(prefix: nil, body: .number, max: 0, exact: false, atEnd: false),
        ])),
        (["deepseek-coder"], BytePairPreTokenizer([
            .run(prefix: nil, body: .lineBreak, max: 1, exact: false, atEnd: false),
            .run(prefix: .whitespace, body: .letter, max: 0, exact: false, atEnd: false),
            .run(prefix: .whitespace, body: .punctuation, max: 0, exact: false, atEnd: false),
            .run(prefix: nil, body: PreTokenizerCharacterClass.deepSeekCJK, max: 0, exact: false, atEnd: false),
            .run(prefix: nil, body: .number, max: 1, exact: false, atEnd: false),
        ])),
        (["deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"], BytePairPreTokenizer([
            .run(prefix: nil, body: .number, max: 3, exact: false, atEnd: false),
            .run(prefix: nil, body: PreTokenizerCharacterClass.deepSeekV3CJK, max: 0, exact: false, atEnd: false),
            .deepSeekV3Words,
        ])),
        (["tekken"], BytePairPreTokenizer([.caseSplit(maxDigits: 1, contractions: false)],
                                          ignoresMerges: true, addsBOSByDefault: true)),
        (["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"],
         BytePairPreTokenizer([.caseSplit(maxDigits: 3, contractions: true)])),
    ]

    private static let byName: [String: BytePairPreTokenizer] = {
        var table: [String: BytePairPreTokenizer] = [:]
        for (names, rule) in families { for name in names { table[name] = rule } }
        return table
    }()

    /// The rules for a `tokenizer.ggml.pre` value, or nil if Stretch does not implement it.
    init?(name: String) {
        guard let rule = Self.byName[name] else { return nil }
        self = rule
    }

    /// Splits `text` (valid UTF-8) into words, returned as byte ranges in order covering the text.
    func split(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var cps: [UInt32] = []
        var starts: [Int] = []
        cps.reserveCapacity(text.count)
        starts.reserveCapacity(text.count + 1)
        var i = 0
        let n = text.count
        while i < n {
            let b0 = UInt32(text[i])
            starts.append(i)
            if b0 < 0x80 {
                cps.append(b0); i += 1
            } else if b0 < 0xE0, i + 1 < n {
                cps.append(((b0 & 0x1F) << 6) | (UInt32(text[i + 1]) & 0x3F)); i += 2
            } else if b0 < 0xF0, i + 2 < n {
                cps.append(((b0 & 0x0F) << 12) | ((UInt32(text[i + 1]) & 0x3F) << 6) | (UInt32(text[i + 2]) & 0x3F)); i += 3
            } else if i + 3 < n {
                cps.append(((b0 & 0x07) << 18) | ((UInt32(text[i + 1]) & 0x3F) << 12)
                           | ((UInt32(text[i + 2]) & 0x3F) << 6) | (UInt32(text[i + 3]) & 0x3F)); i += 4
            } else {
                cps.append(0xFFFD); i += 1
            }
        }
        starts.append(n)
        let count = cps.count
        var flags = [UInt8](repeating: 0, count: count)
        PreTokenizerFlags.ascii.withUnsafeBufferPointer { ascii in
            flags.withUnsafeMutableBufferPointer { fl in
                for k in 0..<count {
                    let cp = cps[k]
                    fl[k] = cp < 0x80 ? ascii[Int(cp)] : PreTokenizerFlags.compute(cp)
                }
            }
        }

        var pieces: [Range<Int>] = count > 0 ? [0..<count] : []
        cps.withUnsafeBufferPointer { cp in
            flags.withUnsafeBufferPointer { fl in
                for pass in passes {
                    var next: [Range<Int>] = []
                    next.reserveCapacity(count / 3 + 1)
                    for piece in pieces { pass.split(piece, cp, fl, into: &next) }
                    pieces = next
                }
            }
        }
        for k in pieces.indices { pieces[k] = starts[pieces[k].lowerBound]..<starts[pieces[k].upperBound] }
        return pieces
    }
}
