/// Hard-coded chat formats used when no usable Jinja template is available. Raw values are llama.cpp's
/// `--chat-template` names; each renders exactly like its family's reference template.
public enum BuiltinChatFormat: String, CaseIterable, Sendable {
    /// `<|im_start|>role\n…<|im_end|>` (Qwen, Yi, many fine-tunes).
    case chatml
    /// Gemma: system text folded into the first user turn, `model` role.
    case gemma
    /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`.
    case llama3
    /// Llama 2: `[INST] <<SYS>>…<</SYS>> … [/INST]`.
    case llama2
    /// Mistral v0.3 style: `[INST] … [/INST]`, system prepended to the last user message.
    case mistralV3 = "mistral-v3"
    /// Phi-3: `<|user|>\n…<|end|>`.
    case phi3
    /// DeepSeek Coder: `### Instruction:` / `### Response:` with `<|EOT|>`.
    case deepseek
    /// DeepSeek V3/R1: `<｜User｜>` / `<｜Assistant｜>` with `<｜end▁of▁sentence｜>`.
    case deepseek3

    /// Looks up a format by its llama.cpp name (also accepting `mistral` for `mistral-v3`).
    public init?(name: String) {
        let normalized = name.lowercased()
        if normalized == "mistral" {
            self = .mistralV3
            return
        }
        self.init(rawValue: normalized)
    }

    /// The texts that end a turn in this format.
    public var endOfTurnMarkers: [String] {
        switch self {
        case .chatml: return ["<|im_end|>"]
        case .gemma: return ["<end_of_turn>"]
        case .llama3: return ["<|eot_id|>"]
        case .llama2, .mistralV3: return ["</s>"]
        case .phi3: return ["<|end|>"]
        case .deepseek: return ["<|EOT|>"]
        case .deepseek3: return ["<｜end▁of▁sentence｜>"]
        }
    }

    /// Guesses the format from template text, in the spirit of llama.cpp's `llm_chat_detect_template`.
    public static func detect(templateSource t: String) -> BuiltinChatFormat? {
        if t.contains("<|im_start|>") { return .chatml }
        if t.contains("<｜Assistant｜>") && t.contains("<｜User｜>") { return .deepseek3 }
        if t.contains("[INST]") { return t.contains("<<SYS>>") ? .llama2 : .mistralV3 }
        if t.contains("<|assistant|>") && t.contains("<|end|>") { return .phi3 }
        if t.contains("<start_of_turn>") { return .gemma }
        if t.contains("<|start_header_id|>") && t.contains("<|end_header_id|>") { return .llama3 }
        if t.contains("### Instruction:") && t.contains("<|EOT|>") { return .deepseek }
        return nil
    }

    /// Renders `messages` in this format.
    public func render(
        _ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String
    ) -> String {
        let system = messages.first?.role == "system" ? messages.first?.content : nil
        let rest = system == nil ? messages[...] : messages.dropFirst()
        var out = ""
        switch self {
        case .chatml:
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .gemma:
            out = bosToken
            for (i, m) in rest.enumerated() {
                let role = m.role == "assistant" ? "model" : m.role
                let prefix = i == 0 ? system.map { $0 + "\n\n" } ?? "" : ""
                out += "<start_of_turn>\(role)\n" + prefix + JinjaStrings.strip(m.content, nil) + "<end_of_turn>\n"
            }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }
        case .llama3:
            for (i, m) in messages.enumerated() {
                if i == 0 { out += bosToken }
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n" + JinjaStrings.strip(m.content, nil)
                    + "<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .llama2:
            for (i, m) in rest.enumerated() {
                var content = m.content
                if i == 0, let system { content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content }
                if m.role == "user" {
                    out += bosToken + "[INST] " + JinjaStrings.strip(content, nil) + " [/INST]"
                } else if m.role == "assistant" {
                    out += " " + JinjaStrings.strip(content, nil) + " " + eosToken
                }
            }
        case .mistralV3:
            out = bosToken
            for (i, m) in rest.enumerated() {
                if m.role == "user" {
                    if i == rest.count - 1, let system {
                        out += "[INST] " + system + "\n\n" + m.content + "[/INST]"
                    } else {
                        out += "[INST] " + m.content + "[/INST]"
                    }
                } else if m.role == "assistant" {
                    out += " " + m.content + eosToken
                }
            }
        case .phi3:
            for m in messages where ["system", "user", "assistant"].contains(m.role) {
                out += "<|\(m.role)|>\n\(m.content)<|end|>\n"
            }
            out += addGenerationPrompt ? "<|assistant|>\n" : eosToken
        case .deepseek:
            out = bosToken
            for m in messages {
                switch m.role {
                case "system": out += m.content + "\n\n"
                case "user": out += "### Instruction:\n" + m.content + "\n"
                case "assistant": out += "### Response:\n" + m.content + "\n<|EOT|>\n"
                default: break
                }
            }
            if addGenerationPrompt { out += "### Response:\n" }
        case .deepseek3:
            out = bosToken + (messages.last { $0.role == "system" }?.content ?? "")
            for m in messages {
                if m.role == "user" {
                    out += "<｜User｜>" + m.content
                } else if m.role == "assistant" {
                    let content = m.content.contains("</think>")
                        ? JinjaStrings.split(m.content, "</think>").last ?? "" : m.content
                    out += "<｜Assistant｜>" + content + "<｜end▁of▁sentence｜>"
                }
            }
            if addGenerationPrompt { out += "<｜Assistant｜>" }
        }
        return out
    }
}
