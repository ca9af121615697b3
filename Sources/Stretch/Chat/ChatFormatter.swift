import Foundation

/// Turns a conversation into prompt text for the engine, choosing between an override, the GGUF's Jinja
/// template and builtin formats the way llama.cpp does.
public struct ChatFormatter: Sendable {
    /// The renderer chosen.
    public let backend: ChatFormatterBackend
    /// A short description such as `jinja (from GGUF)` or `builtin chatml`.
    public let description: String
    /// Why a fallback was taken, if one was.
    public let warning: String?
    /// Texts that end an assistant turn (template markers plus the EOS token text).
    public let endOfTurnMarkers: [String]
    /// The BOS token text passed to templates.
    public let bosToken: String
    /// The EOS token text passed to templates.
    public let eosToken: String
    /// Whether rendered prompts already begin with the BOS text, so the engine must not add another.
    public let rendersBOS: Bool

    private static let knownMarkers = [
        "<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<|EOT|>", "<｜end▁of▁sentence｜>",
        "<|END_OF_TURN_TOKEN|>",
    ]

    /// A small conversation used to check that a template actually renders.
    static let probe = [
        ChatMessage(role: "system", content: "You are a helpful assistant."),
        ChatMessage(role: "user", content: "Hello"), ChatMessage(role: "assistant", content: "Hi there"),
        ChatMessage(role: "user", content: "How are you?"),
    ]

    /// Resolves the formatter. `override` is a builtin name or Jinja source (`--chat-template` /
    /// `--chat-template-file`); it throws if unusable. Otherwise the GGUF template is tried, then detection, then
    /// chatml, recording a ``warning``.
    public init(ggufTemplate: String?, override: String?, bosToken: String, eosToken: String) throws {
        self.bosToken = bosToken
        self.eosToken = eosToken
        var chosen: ChatFormatterBackend
        var description: String
        var warning: String?
        var templateText = ""
        if let override {
            templateText = override
            if let builtin = BuiltinChatFormat(name: override.trimmingCharacters(in: .whitespacesAndNewlines)) {
                chosen = .builtin(builtin)
                description = "builtin \(builtin.rawValue) (override)"
            } else {
                do {
                    chosen = .jinja(try ChatFormatter.validated(override, bosToken: bosToken, eosToken: eosToken))
                    description = "jinja (override)"
                } catch {
                    throw ChatFormatterError.invalidOverride(String(describing: error))
                }
            }
        } else if let ggufTemplate, !ggufTemplate.isEmpty {
            templateText = ggufTemplate
            do {
                chosen = .jinja(try ChatFormatter.validated(ggufTemplate, bosToken: bosToken, eosToken: eosToken))
                description = "jinja (from GGUF)"
            } catch {
                if let detected = BuiltinChatFormat.detect(templateSource: ggufTemplate) {
                    chosen = .builtin(detected)
                    description = "builtin \(detected.rawValue) (detected from GGUF template)"
                    warning = "the GGUF chat template could not be used (\(error)); using builtin \(detected.rawValue)"
                } else {
                    chosen = .builtin(.chatml)
                    description = "builtin chatml (fallback)"
                    warning = "the GGUF chat template could not be used (\(error)) and its format was not "
                        + "recognised; using chatml"
                }
            }
        } else {
            chosen = .builtin(.chatml)
            description = "builtin chatml (fallback)"
            warning = "the model has no chat template; using chatml"
        }
        backend = chosen
        self.description = description
        self.warning = warning
        var markers = ChatFormatter.knownMarkers.filter { templateText.contains($0) }
        if case .builtin(let builtin) = chosen { markers += builtin.endOfTurnMarkers }
        if !eosToken.isEmpty { markers.append(eosToken) }
        var seen = Set<String>()
        endOfTurnMarkers = markers.filter { seen.insert($0).inserted }
        let sample = (try? ChatFormatter.render(chosen, ChatFormatter.probe, addGenerationPrompt: true,
            bosToken: bosToken, eosToken: eosToken)) ?? ""
        rendersBOS = !bosToken.isEmpty && sample.hasPrefix(bosToken)
    }

    /// Parses a template and renders the probe conversation (retrying without a system turn, which some
    /// templates reject) to prove it works.
    private static func validated(_ source: String, bosToken: String, eosToken: String) throws -> ChatTemplate {
        let template = try ChatTemplate(source: source)
        do {
            _ = try template.render(messages: probe, addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
        } catch JinjaError.raised {
            _ = try template.render(messages: Array(probe.dropFirst()), addGenerationPrompt: true,
                bosToken: bosToken, eosToken: eosToken)
        }
        return template
    }

    private static func render(
        _ backend: ChatFormatterBackend, _ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String,
        eosToken: String
    ) throws -> String {
        switch backend {
        case .jinja(let template):
            return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                bosToken: bosToken, eosToken: eosToken)
        case .builtin(let format):
            return format.render(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
                eosToken: eosToken)
        }
    }

    /// Renders a conversation into prompt text.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        try ChatFormatter.render(backend, messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
            eosToken: eosToken)
    }

    /// Whether `prompt` already starts with the BOS text.
    public func startsWithBOS(_ prompt: String) -> Bool {
        !bosToken.isEmpty && prompt.hasPrefix(bosToken)
    }

    /// A rendered prompt's tokens: BOS is added only when the tokenizer adds one and the template did not
    /// already render it (as llama.cpp does; HF renders without adding any); special-token text is parsed.
    public func promptTokens(_ prompt: String, tokenizer: Tokenizer) -> [Int] {
        tokenizer.encode(prompt, addSpecial: !startsWithBOS(prompt), parseSpecial: true)
    }

    /// The end-of-turn markers as stops: those that are one special token stop as that token, the others
    /// as stop strings.
    public func endOfTurnStops(tokenizer: Tokenizer) -> (tokens: Set<Int>, texts: [String]) {
        var tokens: Set<Int> = [], texts: [String] = []
        for marker in endOfTurnMarkers where !marker.isEmpty {
            let ids = tokenizer.encode(marker, addSpecial: false, parseSpecial: true)
            if ids.count == 1, tokenizer.kind(ids[0]) != .normal { tokens.insert(ids[0]) } else { texts.append(marker) }
        }
        return (tokens, texts)
    }
}
