/// A loaded GGUF model ready for sessions: the network, its tokenizer and its chat format.
///
/// Everything here is immutable after load and shared by every ``Session`` opened on it.
public final class LanguageModel: Sendable {
    /// The mapped file.
    public let file: GGUFFile
    /// The transformer.
    public let network: LlamaModel
    /// The tokenizer read from the same file.
    public let tokenizer: Tokenizer

    /// Opens and loads `path` with `options`.
    public convenience init(path: String, options: LoadOptions = LoadOptions()) throws {
        try self.init(file: GGUFFile(path: path), options: options)
    }

    /// Loads the model and tokenizer of an opened GGUF.
    public init(file: GGUFFile, options: LoadOptions = LoadOptions()) throws {
        self.file = file
        network = try LlamaModel(file: file, options: options)
        tokenizer = try Tokenizer(gguf: file)
    }

    /// The context length the model was trained at (`L`).
    public var trainedContext: Int { network.config.contextLength }
    /// How the model runs.
    public var options: LoadOptions { network.options }
}
