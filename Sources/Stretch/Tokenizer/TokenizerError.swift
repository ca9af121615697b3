/// Why a ``Tokenizer`` could not be built from a GGUF file.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer family Stretch does not implement.
    case unsupportedModel(file: String, model: String)
    /// `tokenizer.ggml.pre` names a BPE pre-tokenizer Stretch does not implement; `supported` lists those it does.
    case unsupportedPreTokenizer(file: String, pre: String, supported: [String])
    /// A key the tokenizer needs is absent.
    case missingKey(file: String, key: String)
    /// A key is present but its value cannot be used.
    case invalidValue(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedModel(file, model):
            return "\(file): tokenizer.ggml.model '\(model)' is not supported; Stretch implements 'llama' "
                + "(SentencePiece) and 'gpt2' (byte-level BPE). Use a GGUF converted with one of those tokenizers."
        case let .unsupportedPreTokenizer(file, pre, supported):
            return "\(file): BPE pre-tokenizer tokenizer.ggml.pre='\(pre)' is not supported; Stretch implements "
                + supported.map { "'\($0)'" }.joined(separator: ", ")
                + ". Add its split rules to BytePairPreTokenizer to use this model."
        case let .missingKey(file, key):
            return "\(file): required tokenizer key '\(key)' is missing; the GGUF was probably converted without "
                + "its tokenizer. Re-convert it with llama.cpp's convert_hf_to_gguf.py."
        case let .invalidValue(file, key, reason):
            return "\(file): tokenizer key '\(key)' is unusable: \(reason)"
        }
    }
}
