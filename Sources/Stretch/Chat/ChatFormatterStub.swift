// TEMPORARY stub until the Jinja chat layer lands; replaced by the real ChatFormatter.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public struct ChatFormatter: Sendable {
    public let warning: String? = nil
    public let description = "builtin chatml"
    public let endOfTurnMarkers = ["<|im_end|>"]
    public init(templateSource: String?, override: String?, bosToken: String, eosToken: String) throws {}
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        var s = ""
        for m in messages { s += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { s += "<|im_start|>assistant\n" }
        return s
    }
}
