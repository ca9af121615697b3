/// One turn of a conversation, as passed to chat templates (`messages[i]`).
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user`, `assistant`, `tool`, …
    public var role: String
    /// The text of the turn.
    public var content: String
    /// Optional reasoning text some templates (DeepSeek-R1 style, Qwen3) read as `reasoning_content`.
    public var reasoningContent: String?

    private enum CodingKeys: String, CodingKey {
        case role, content
        case reasoningContent = "reasoning_content"
    }

    /// Creates a message.
    public init(role: String, content: String, reasoningContent: String? = nil) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
    }

    /// The message as the dict a template sees; absent optional fields stay undefined, as in Python.
    public var templateValue: JinjaValue {
        var pairs: [(String, JinjaValue)] = [("role", .string(role)), ("content", .string(content))]
        if let reasoningContent { pairs.append(("reasoning_content", .string(reasoningContent))) }
        return .object(pairs)
    }
}
