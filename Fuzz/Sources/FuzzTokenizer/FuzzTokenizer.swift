import Foundation
import Stretch
import FuzzSupport

/// The vocabularies, loaded once: `STRETCH_FUZZ_VOCAB_DIR` (default /work/shared/tokenizer-vectors, then
/// ../shared/tokenizer-vectors) holds llama.cpp's `ggml-vocab-*.gguf` files.
let tokenizers: [Tokenizer] = {
    let env = ProcessInfo.processInfo.environment["STRETCH_FUZZ_VOCAB_DIR"]
    let dirs = [env, "../shared/tokenizer-vectors", "../../shared/tokenizer-vectors", "/work/shared/tokenizer-vectors"]
        .compactMap { $0 }
    guard let dir = dirs.first(where: { FileManager.default.fileExists(atPath: $0 + "/ggml-vocab-llama-spm.gguf") }) else {
        fatalError("no tokenizer vocabularies found; set STRETCH_FUZZ_VOCAB_DIR")
    }
    // SentencePiece, byte-level BPE with the llama-3 and the gpt-2 pre-tokenizers, Qwen2's.
    return ["llama-spm", "llama-bpe", "gpt-2", "qwen2"].map { name in
        do { return try Tokenizer(gguf: GGUFFile(path: "\(dir)/ggml-vocab-\(name).gguf")) } catch {
            fatalError("cannot load \(name): \(error)")
        }
    }
}()

/// libFuzzer entry: the first byte picks the tokenizer and the flags, the rest is the text.
/// Every id must be in the vocabulary; byte-level BPE must give the text back exactly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let selector = Int(data[0])
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let tokenizer = tokenizers[selector % tokenizers.count]
    let parseSpecial = selector & 0x10 != 0
    let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: parseSpecial)
    for id in ids where id < 0 || id >= tokenizer.vocabularySize {
        fatalError("id \(id) outside the vocabulary of \(tokenizer.vocabularySize)")
    }
    let back = tokenizer.decode(ids, renderSpecial: parseSpecial)
    if tokenizer.model == .bytePair, !parseSpecial, back != text {
        fatalError("byte-level BPE round trip lost text: \(Array(text.utf8)) -> \(ids) -> \(Array(back.utf8))")
    }
    return 0
}

@_cdecl("FuzzTokenizer_main")
func fuzzTokenizerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    // Load the vocabularies before the first input: under AddressSanitizer on a busy machine the loading took
    // more than libFuzzer's 10 s per-input timeout and was reported as a hang of the first seed.
    precondition(!tokenizers.isEmpty)
    return FuzzDriver.run(argc, argv, fuzzTokenizer)
}
