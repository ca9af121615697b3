/// The role of a vocabulary entry, as stored in `tokenizer.ggml.token_type`.
///
/// The raw values are the GGUF / llama.cpp token-type codes. Stretch applies llama.cpp's load-time
/// overrides (for example, end-of-turn-looking tokens such as `<|im_end|>` are forced to ``control``).
public enum TokenKind: UInt8, Sendable, CaseIterable {
    /// Type code 0 or any unknown code: never produced by encoding, decodes to nothing.
    case undefined = 0
    /// An ordinary piece of text.
    case normal = 1
    /// The unknown-token placeholder (`<unk>`).
    case unknown = 2
    /// A control token (`<s>`, `<|im_start|>`, `<end_of_turn>`): only matched in text with `parseSpecial`.
    case control = 3
    /// A user-defined token: always matched verbatim in text before tokenization.
    case userDefined = 4
    /// A padding / unused slot.
    case unused = 5
    /// A byte-fallback token `<0xXX>`.
    case byte = 6

    /// Maps a raw `tokenizer.ggml.token_type` value to a kind (unknown codes become ``undefined``).
    public init(typeCode: Int) {
        self = (0...6).contains(typeCode) ? TokenKind(rawValue: UInt8(typeCode))! : .undefined
    }
}
