import Foundation
import XCTest

/// `stretch chat` driven through pipes, as scripts use it.
final class ChatCLITests: XCTestCase {
    /// Two questions, one per line: the default model answers both (greedy), the second turn reuses the
    /// first turn's cached tokens, and /clear starts the conversation over.
    func testPipedTurnsAnswerReuseTheCacheAndClear() throws {
        let model = try TestFiles.qwen
        let question = "What is the capital of France? Answer in one word."
        let input = [question, "And of Italy? One word.", "/clear", question].joined(separator: "\n") + "\n"
        let r = try CLIRunner.run(
            ["chat", "-m", model, "--temp", "0", "-sys", "You are a helpful assistant.", "-c", "2048"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        let replies = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(replies.count, 4, r.stdout)  // three replies, then the final newline
        XCTAssertTrue(replies[0].contains("Paris"), r.stdout)
        XCTAssertTrue(replies[1].contains("Rome"), r.stdout)
        XCTAssertEqual(replies[2], replies[0], "after /clear the same question gets the same greedy answer")
        let stats = try Self.turnStatistics(r.stderr)
        XCTAssertEqual(stats.count, 3, r.stderr)
        XCTAssertEqual(stats[0].cached, 0)
        // Turn 2 reuses turn 1's prompt and reply (only the new user turn and the template's markers run).
        XCTAssertGreaterThan(stats[0].prompt, 20)
        XCTAssertGreaterThanOrEqual(stats[1].cached, stats[0].prompt)
        XCTAssertLessThan(stats[1].prompt - stats[1].cached, 20)
        // After /clear the prompt is the first one again, and its prefix (system prompt …) is still cached.
        XCTAssertEqual(stats[2].prompt, stats[0].prompt)
        XCTAssertGreaterThan(stats[2].cached, 10)
        XCTAssertTrue(r.stderr.contains("(conversation cleared)"), r.stderr)
    }

    /// Through a pseudo-terminal, as a person types: two answers, Ctrl-C (a real SIGINT from the terminal)
    /// stops a long reply without quitting, the next turn reuses the cache, Ctrl-D quits with status 0
    /// (scripts/chat-pty-check.py drives the terminal with Python's pty module).
    func testPseudoTerminalTwoTurnsCtrlCAndCtrlD() throws {
        let model = try TestFiles.qwen
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestFiles.repositoryRoot.appendingPathComponent("scripts/chat-pty-check.py").path,
                             CLIRunner.binary.path, model]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.hasPrefix("ok: two answers, Ctrl-C stopped a reply"), text)
    }

    /// `--json` answers a messages array with one JSON message.
    func testJSONMessagesInJSONMessageOut() throws {
        let model = try TestFiles.qwen
        let messages = #"[{"role": "system", "content": "You are a helpful assistant."}, "#
            + #"{"role": "user", "content": "What is the capital of France? Answer in one word."}]"#
        let r = try CLIRunner.run(["chat", "--json", "-m", model, "--temp", "0", "-c", "512"], stdin: messages)
        XCTAssertEqual(r.status, 0, r.stderr)
        let reply = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: String])
        XCTAssertEqual(reply["role"], "assistant")
        XCTAssertTrue(reply["content"]?.contains("Paris") ?? false, r.stdout)

        let bad = try CLIRunner.run(["chat", "--json", "-m", model], stdin: "{not json")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("JSON array"), bad.stderr)
        let noUser = try CLIRunner.run(["chat", "--json", "-m", model], stdin: #"[{"role": "assistant", "content": "hi"}]"#)
        XCTAssertNotEqual(noUser.status, 0)
        XCTAssertTrue(noUser.stderr.contains("\"user\""), noUser.stderr)
    }

    /// A turn that does not fit the context is refused with the numbers; the conversation goes on.
    func testTurnBeyondTheContextIsAnErrorAndTheChatContinues() throws {
        let model = try TestFiles.stories260K
        let long = Array(repeating: "Once upon a time there was a cat.", count: 40).joined(separator: " ")
        let r = try CLIRunner.run(["chat", "-m", model, "--temp", "0", "-c", "128", "-n", "8"], stdin: long + "\nHi\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("exceed the context of 128 tokens"), r.stderr)
        XCTAssertEqual(try Self.turnStatistics(r.stderr).count, 1, "the short turn after the error is answered")
        XCTAssertTrue(r.stderr.contains("warning:"), "stories260K has no chat template: the fallback is announced")
    }

    /// (prompt tokens, cached tokens) of each answered turn, from the `[prompt: N tokens (M cached) …]` lines.
    static func turnStatistics(_ stderr: String) throws -> [(prompt: Int, cached: Int)] {
        let pattern = try NSRegularExpression(pattern: #"\[prompt: (\d+) tokens \((\d+) cached\)"#)
        let range = NSRange(stderr.startIndex..., in: stderr)
        return pattern.matches(in: stderr, range: range).map { m in
            let n = { (i: Int) in Int(stderr[Range(m.range(at: i), in: stderr)!])! }
            return (n(1), n(2))
        }
    }
}

/// The README's Swift example (Examples/ChatExample), built with the tests, run as a user would.
final class ChatExampleTests: XCTestCase {
    func testExampleStreamsAReplyWithSelfExtend() throws {
        let model = try TestFiles.qwen
        let process = Process()
        process.executableURL = CLIRunner.binary.deletingLastPathComponent().appendingPathComponent("ChatExample")
        process.arguments = [model, "What is the capital of France?"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertFalse(text.contains("error:"), text)
        XCTAssertTrue(text.contains("Paris"), text)
        XCTAssertTrue(text.contains(" tokens/s]"), text)
    }
}
