import Foundation

/// A Jinja chat template (e.g. a GGUF's `tokenizer.chat_template`), parsed once and rendered the way
/// Hugging Face transformers' `apply_chat_template` renders it.
public struct ChatTemplate: Sendable {
    /// The template text.
    public let source: String
    /// The time zone `strftime_now` uses (Python's `datetime.now()` is local time).
    public var timeZone: TimeZone = .current
    private let template: JinjaTemplate

    /// Parses `source`; throws ``JinjaError`` on syntax errors or unsupported tags.
    public init(source: String) throws {
        self.source = source
        template = try JinjaTemplate(source: source)
    }

    /// Renders a conversation. The context mirrors transformers: `messages`, `add_generation_prompt`,
    /// `bos_token`, `eos_token`, and `tools`/`documents` set to `None`; `extraContext` adds or overrides variables.
    public func render(
        messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String, now: Date = Date(),
        extraContext: [String: JinjaValue] = [:]
    ) throws -> String {
        try render(messageValues: messages.map(\.templateValue), addGenerationPrompt: addGenerationPrompt,
            bosToken: bosToken, eosToken: eosToken, now: now, extraContext: extraContext)
    }

    /// Renders messages given as arbitrary template values (for tool calls and other structured fields).
    public func render(
        messageValues: [JinjaValue], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
        now: Date = Date(), extraContext: [String: JinjaValue] = [:]
    ) throws -> String {
        var context: [String: JinjaValue] = [
            "messages": .list(messageValues), "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken), "eos_token": .string(eosToken), "tools": .none, "documents": .none,
        ]
        for (key, value) in extraContext { context[key] = value }
        return try template.render(context, now: now, timeZone: timeZone)
    }
}
