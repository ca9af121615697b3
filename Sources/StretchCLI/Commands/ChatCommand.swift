import ArgumentParser
import Dispatch
import Foundation
import Stretch

/// `stretch chat`: a conversation in the terminal with the model's chat template, llama.cpp `-cnv` style.
///
/// Interactive on a terminal (`> ` prompts, streamed replies, Ctrl-C stops a reply, `/clear` resets, end
/// of input quits); piped, each input line is one user turn; `--json` answers a messages array.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with an instruct model using its chat template (streams replies; Ctrl-C stops a reply).",
        discussion: """
            Each line is a user turn (end a line with \\ to continue it on the next). /clear starts over \
            (keeping the system prompt); end of input (Ctrl-D) quits. Piped input works the same way: \
            stretch chat < questions.txt. With --json, standard input is a JSON array of {"role", "content"} \
            messages and the reply is printed as one JSON message.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.customLong("system-prompt"), .customLong("sys", withSingleDash: true)], help: "System prompt.")
    var systemPrompt: String?
    @Option(name: [.customShort("p"), .customLong("prompt")], help: "The first user turn.") var prompt: String?
    @Option(name: [.customShort("f"), .customLong("file")],
            help: "A file whose text opens the first user turn (followed by -p, if given): a document to discuss.")
    var file: String?
    @Option(name: [.customShort("n"), .customLong("n-predict")], help: "Most tokens per reply (-1 = no limit).")
    var maxTokens: Int = -1
    @Option(name: .customLong("chat-template"),
            help: "Use this chat template instead of the GGUF's: a built-in name (chatml, llama3, gemma, …) or Jinja source.")
    var chatTemplate: String?
    @Option(name: .customLong("chat-template-file"), help: "Read the chat template (Jinja) from a file.")
    var chatTemplateFile: String?
    @Flag(name: .customLong("json"), help: "Read a JSON messages array on stdin; print the reply as a JSON message.")
    var json = false

    func validate() throws {
        if chatTemplate != nil && chatTemplateFile != nil {
            throw ValidationError("give --chat-template or --chat-template-file, not both")
        }
        if maxTokens < -1 { throw ValidationError("-n must be ≥ -1 (got \(maxTokens))") }
    }

    func run() async throws {
        let template = try chatTemplateFile.map(CommandSupport.readText) ?? chatTemplate
        let model = try LanguageModel(file: modelOptions.openFile(), options: modelOptions.loadOptions, chatTemplate: template)
        if let warning = model.chatFormatter.warning { Console.error("warning: \(warning)") }
        let session = try contextOptions.session(on: model, quiet: json)
        let parameters = GenerationParameters(maxTokens: maxTokens, sampling: sampling.parameters)
        if json {
            try await answerJSON(session: session, parameters: parameters)
            return
        }
        let chat = ChatSession(session: session, systemPrompt: systemPrompt)
        let interactive = isatty(STDIN_FILENO) == 1
        let interrupt = InterruptHandler()
        if interactive {
            Console.error("chat template: \(model.chatFormatter.description); Ctrl-C stops a reply, /clear starts over, Ctrl-D quits")
        }
        var first = try firstTurn()
        let lines = Self.inputLines()
        var iterator = lines.makeAsyncIterator()
        while true {
            let text: String
            if let f = first {
                text = f
                first = nil
                if interactive { Console.out("> \(f.count > 200 ? String(f.prefix(200)) + "…" : f)\n") }
            } else {
                if interactive { Console.out("\n> ") }
                guard let line = await Self.readTurn(&iterator) else { break }
                text = line
            }
            let command = text.trimmingCharacters(in: .whitespaces)
            if command.isEmpty { continue }
            if command == "/clear" {
                chat.clear()
                Console.error("(conversation cleared)")
                continue
            }
            if command == "/exit" || command == "/quit" { break }
            await reply(chat: chat, to: text, parameters: parameters, interrupt: interrupt)
        }
        if interactive { Console.out("\n") }
    }

    /// The first user turn from -f and -p, if either is given.
    private func firstTurn() throws -> String? {
        let document = try file.map(CommandSupport.readText)
        switch (document, prompt) {
        case let (d?, p?): return d + "\n\n" + p
        case let (d?, nil): return d
        case let (nil, p?): return p
        case (nil, nil): return nil
        }
    }

    /// Streams one reply to stdout; Ctrl-C cancels it, leaving the part already shown in the conversation.
    private func reply(chat: ChatSession, to text: String, parameters: GenerationParameters, interrupt: InterruptHandler) async {
        let task = Task {
            var stats: GenerationStatistics?
            for try await event in chat.respond(to: text, parameters: parameters) {
                if case let .finished(s) = event { stats = s } else { Console.out(event.text) }
            }
            return stats
        }
        interrupt.current = { task.cancel() }
        let result = await task.result
        interrupt.current = nil
        Console.out("\n")
        switch result {
        case let .success(stats?):
            Console.error(String(
                format: "[prompt: %d tokens (%d cached), %.1f tokens/s | reply: %d tokens, %.1f tokens/s | stop: %@]",
                stats.promptTokens, stats.cachedPromptTokens, stats.promptTokensPerSecond, stats.generatedTokens,
                stats.generationTokensPerSecond, stats.stopReason.rawValue))
        case .success(nil):
            Console.error("[reply stopped]")
        case let .failure(error):
            Console.error("error: \(error)")
        }
    }

    /// `--json`: the conversation on stdin, the reply on stdout as `{"role": "assistant", "content": …}`.
    private func answerJSON(session: Session, parameters: GenerationParameters) async throws {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let messages: [ChatMessage]
        do {
            messages = try JSONDecoder().decode([ChatMessage].self, from: data)
        } catch {
            throw ValidationError("--json expects a JSON array of {\"role\": …, \"content\": …} messages on stdin")
        }
        guard let last = messages.last, last.role == "user" else {
            throw ValidationError("--json: the last message must have the role \"user\"")
        }
        var history = Array(messages.dropLast())
        var system = systemPrompt
        if history.first?.role == "system" { system = history.removeFirst().content }
        let chat = ChatSession(session: session, systemPrompt: system, history: history)
        var text = ""
        for try await event in chat.respond(to: last.content, parameters: parameters) { text += event.text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(ChatMessage(role: "assistant", content: text)), as: UTF8.self) + "\n")
    }

    /// Lines of standard input, read on a thread of their own (reading blocks).
    private static func inputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            Thread.detachNewThread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
        }
    }

    /// One user turn: a line, joined with the following ones while it ends with a backslash.
    private static func readTurn(_ lines: inout AsyncStream<String>.Iterator) async -> String? {
        guard var line = await lines.next() else { return nil }
        var text = ""
        while line.hasSuffix("\\") {
            text += line.dropLast() + "\n"
            guard let next = await lines.next() else { return text }
            line = next
        }
        return text + line
    }
}

/// Ctrl-C: stops the reply in progress; with none, quits.
final class InterruptHandler: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched under `lock`; the signal source runs on its own queue.
    private let lock = NSLock()
    private var stored: (@Sendable () -> Void)?
    private let source: DispatchSourceSignal

    /// What Ctrl-C does now (nil: quit).
    var current: (@Sendable () -> Void)? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "stretch.sigint"))
        source.setEventHandler { [weak self] in
            if let stop = self?.current {
                stop()
            } else {
                Console.out("\n")
                exit(130)
            }
        }
        source.resume()
    }
}
