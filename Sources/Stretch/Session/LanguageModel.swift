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
    /// How conversations become prompts: the GGUF's own Jinja template (`tokenizer.chat_template`), an
    /// override, or a built-in format detected from the template text.
    public let chatFormatter: ChatFormatter

    /// Opens and loads `path` with `options`.
    ///
    /// - Parameter chatTemplate: overrides the GGUF's chat template: a built-in format name (`chatml`,
    ///   `llama3`, `gemma`, …) or Jinja source.
    public convenience init(path: String, options: LoadOptions = LoadOptions(), chatTemplate: String? = nil) throws {
        try self.init(file: GGUFFile(path: path), options: options, chatTemplate: chatTemplate)
    }

    /// Loads the model and tokenizer of an opened GGUF.
    public init(file: GGUFFile, options: LoadOptions = LoadOptions(), chatTemplate: String? = nil) throws {
        self.file = file
        network = try LlamaModel(file: file, options: options)
        let tokenizer = try Tokenizer(gguf: file)
        self.tokenizer = tokenizer
        chatFormatter = try ChatFormatter(
            ggufTemplate: try file.optionalString("tokenizer.chat_template"), override: chatTemplate,
            bosToken: tokenizer.bosID.map(tokenizer.tokenText) ?? "",
            eosToken: tokenizer.eosID.map(tokenizer.tokenText) ?? "")
    }

    /// The context length the model was trained at (`L`).
    public var trainedContext: Int { network.config.contextLength }
    /// How the model runs.
    public var options: LoadOptions { network.options }
}
