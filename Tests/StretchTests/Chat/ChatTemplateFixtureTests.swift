import Foundation
import XCTest

import Stretch

/// Compares renderings against jinja2's (see scripts/chat_template_fixtures.py), byte for byte.
final class ChatTemplateFixtureTests: XCTestCase {
    private struct Fixture {
        let date: Date
        let templates: [JinjaDict]
    }

    private func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/chat_templates.json")
        let root = try JinjaJSONParser.parse(String(contentsOf: url, encoding: .utf8))
        guard case .dict(let dict) = root, case .string(let dateText)? = dict[string: "date"],
            case .list(let templates)? = dict[string: "templates"]
        else { throw MalformedFixture() }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let date = try XCTUnwrap(formatter.date(from: dateText), "bad date \(dateText)")
        return Fixture(date: date, templates: templates.compactMap { if case .dict(let d) = $0 { d } else { nil } })
    }

    private func string(_ dict: JinjaDict, _ key: String) -> String? {
        if case .string(let s)? = dict[string: key] { return s }
        return nil
    }

    func testTemplatesMatchJinja2() throws {
        let fixture = try loadFixture()
        var checked = 0
        for entry in fixture.templates {
            let name = string(entry, "name") ?? "?"
            var template = try ChatTemplate(source: XCTUnwrap(string(entry, "source")))
            template.timeZone = TimeZone(identifier: "UTC")!
            guard case .list(let cases)? = entry[string: "cases"] else { continue }
            for (index, caseValue) in cases.enumerated() {
                guard case .dict(let testCase) = caseValue, case .list(let messages)? = testCase[string: "messages"]
                else { continue }
                var extra: [String: JinjaValue] = [:]
                if let tools = testCase[string: "tools"], case .list = tools { extra["tools"] = tools }
                let context = "\(name) case \(index)"
                do {
                    let output = try template.render(
                        messageValues: messages, addGenerationPrompt: testCase[string: "add_generation_prompt"]?
                            .isTruthy ?? false, bosToken: string(entry, "bos_token") ?? "",
                        eosToken: string(entry, "eos_token") ?? "", now: fixture.date, extraContext: extra)
                    XCTAssertEqual(output, string(testCase, "expected"), context)
                } catch let error as JinjaError {
                    guard let expectedError = string(testCase, "error") else {
                        XCTFail("\(context): unexpected error \(error)")
                        continue
                    }
                    guard case .raised(let message, _) = error else {
                        XCTFail("\(context): expected raise_exception, got \(error)")
                        continue
                    }
                    XCTAssertEqual(message, expectedError, context)
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    /// The real templates in the fixture are the ones in the GGUF files (read here by Stretch's reader), so
    /// the jinja2 renderings above are renderings of what users load.
    func testFixtureTemplatesAreTheGGUFTemplates() throws {
        let fixture = try loadFixture()
        let files = [
            "qwen2.5-coder-gguf": try TestFiles.qwen,
            "qwen2-vocab-gguf": try TestFiles.shared("tokenizer-vectors/ggml-vocab-qwen2.gguf"),
            "phi3-vocab-gguf": try TestFiles.shared("tokenizer-vectors/ggml-vocab-phi-3.gguf"),
            "command-r-vocab-gguf": try TestFiles.shared("tokenizer-vectors/ggml-vocab-command-r.gguf"),
        ]
        for (name, path) in files {
            let entry = try XCTUnwrap(fixture.templates.first { string($0, "name") == name }, name)
            XCTAssertEqual(try GGUFFile(path: path).optionalString("tokenizer.chat_template"), string(entry, "source"), name)
        }
    }

    func testBuiltinsMatchFamilyTemplates() throws {
        let fixture = try loadFixture()
        var checked = 0
        for entry in fixture.templates {
            guard let builtinName = string(entry, "builtin") else { continue }
            let builtin = try XCTUnwrap(BuiltinChatFormat(name: builtinName), builtinName)
            XCTAssertEqual(BuiltinChatFormat.detect(templateSource: string(entry, "source") ?? ""), builtin)
            guard case .list(let cases)? = entry[string: "cases"] else { continue }
            for caseValue in cases {
                guard case .dict(let testCase) = caseValue, let expected = string(testCase, "expected"),
                    case .list(let messageValues)? = testCase[string: "messages"]
                else { continue }
                let messages = messageValues.compactMap { value -> ChatMessage? in
                    guard case .dict(let d) = value, case .string(let role)? = d[string: "role"],
                        case .string(let content)? = d[string: "content"]
                    else { return nil }
                    return ChatMessage(role: role, content: content)
                }
                let output = builtin.render(
                    messages, addGenerationPrompt: testCase[string: "add_generation_prompt"]?.isTruthy ?? false,
                    bosToken: string(entry, "bos_token") ?? "", eosToken: string(entry, "eos_token") ?? "")
                XCTAssertEqual(output, expected, "builtin \(builtinName)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }
}

private struct MalformedFixture: Error, CustomStringConvertible {
    var description: String { "Fixtures/chat_templates.json is malformed (regenerate: python3 scripts/chat_template_fixtures.py)" }
}
