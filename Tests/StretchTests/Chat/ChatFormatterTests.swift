import XCTest

import Stretch

/// Template resolution, fallbacks and detection.
final class ChatFormatterTests: XCTestCase {
    private let chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"

    func testUsesGGUFTemplate() throws {
        let formatter = try ChatFormatter(ggufTemplate: chatml, override: nil, bosToken: "<s>", eosToken: "</s>")
        XCTAssertEqual(formatter.description, "jinja (from GGUF)")
        XCTAssertNil(formatter.warning)
        XCTAssertEqual(formatter.endOfTurnMarkers, ["<|im_end|>", "</s>"])
        XCTAssertFalse(formatter.rendersBOS)
        XCTAssertEqual(try formatter.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: false),
            "<|im_start|>user\nhi<|im_end|>\n")
    }

    func testFallsBackToDetectedBuiltinWithWarning() throws {
        let broken = "{{ bos_token }}<start_of_turn>{{ messages | frobnicate }}"
        let formatter = try ChatFormatter(ggufTemplate: broken, override: nil, bosToken: "<bos>", eosToken: "<eos>")
        XCTAssertEqual(formatter.description, "builtin gemma (detected from GGUF template)")
        XCTAssertTrue(formatter.warning?.contains("unknown filter 'frobnicate'") ?? false, formatter.warning ?? "")
        XCTAssertTrue(formatter.rendersBOS)
        XCTAssertTrue(formatter.endOfTurnMarkers.contains("<end_of_turn>"))
    }

    func testFallsBackToChatML() throws {
        let unknown = try ChatFormatter(ggufTemplate: "{% bogus %}", override: nil, bosToken: "", eosToken: "")
        XCTAssertEqual(unknown.description, "builtin chatml (fallback)")
        XCTAssertNotNil(unknown.warning)
        let missing = try ChatFormatter(ggufTemplate: nil, override: nil, bosToken: "", eosToken: "")
        XCTAssertEqual(missing.warning, "the model has no chat template; using chatml")
    }

    func testOverrides() throws {
        let builtin = try ChatFormatter(ggufTemplate: chatml, override: "llama3", bosToken: "<b>", eosToken: "")
        XCTAssertEqual(builtin.description, "builtin llama3 (override)")
        XCTAssertEqual(builtin.endOfTurnMarkers, ["<|eot_id|>"])
        let jinja = try ChatFormatter(ggufTemplate: nil, override: "{{ messages[0].content }}!", bosToken: "",
            eosToken: "")
        XCTAssertEqual(jinja.description, "jinja (override)")
        XCTAssertEqual(try jinja.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: true), "x!")
        XCTAssertThrowsError(try ChatFormatter(ggufTemplate: nil, override: "{% if %}", bosToken: "", eosToken: ""))
    }

    func testSystemRejectingTemplateStillValidates() throws {
        let template = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system') }}"
            + "{% endif %}<start_of_turn>{{ m.content }}{% endfor %}"
        let formatter = try ChatFormatter(ggufTemplate: template, override: nil, bosToken: "", eosToken: "")
        XCTAssertEqual(formatter.description, "jinja (from GGUF)")
    }

    func testDetectionAndNames() {
        XCTAssertEqual(BuiltinChatFormat.detect(templateSource: "<|im_start|>"), .chatml)
        XCTAssertEqual(BuiltinChatFormat.detect(templateSource: "[INST] <<SYS>>"), .llama2)
        XCTAssertEqual(BuiltinChatFormat.detect(templateSource: "[INST]"), .mistralV3)
        XCTAssertEqual(BuiltinChatFormat.detect(templateSource: "<|assistant|><|end|>"), .phi3)
        XCTAssertEqual(BuiltinChatFormat.detect(templateSource: "<｜User｜><｜Assistant｜>"), .deepseek3)
        XCTAssertNil(BuiltinChatFormat.detect(templateSource: "plain"))
        XCTAssertEqual(BuiltinChatFormat(name: "mistral"), .mistralV3)
        XCTAssertEqual(BuiltinChatFormat(name: "Gemma"), .gemma)
        XCTAssertNil(BuiltinChatFormat(name: "nope"))
    }
}
