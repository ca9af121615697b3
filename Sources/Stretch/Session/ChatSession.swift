import Foundation

/// A conversation on a ``Session``: messages rendered with the model's chat template, each reply streamed
/// and appended to the conversation, each turn reusing the cached prefix of the one before.
///
/// ```swift
/// let chat = try ChatSession(model: model, contextExtension: "self-extend:G=4:W=1024",
///                            systemPrompt: "You are a helpful assistant.")
/// for try await event in chat.respond(to: "Summarize this file: …") { print(event.text, terminator: "") }
/// ```
///
/// A reply ends at the vocabulary's end-of-generation tokens or at the end-of-turn markers the template
/// implies (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>`…). A cancelled reply keeps the text streamed so far.
public final class ChatSession: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only read and written under `lock`; the session is Sendable.

    /// The session holding the conversation's tokens.
    public let session: Session
    /// How messages become a prompt.
    public let formatter: ChatFormatter
    /// The system prompt kept across ``clear()``.
    public let systemPrompt: String?

    private let lock = NSLock()
    private var stored: [ChatMessage]
    private let stopTokens: Set<Int>
    private let stopTexts: [String]

    /// Starts a conversation on an existing session, with the model's chat format unless one is given.
    ///
    /// - Parameter history: earlier turns (after the system prompt), for example a conversation read from a file.
    public init(
        session: Session, systemPrompt: String? = nil, history: [ChatMessage] = [], formatter: ChatFormatter? = nil
    ) {
        self.session = session
        self.formatter = formatter ?? session.model.chatFormatter
        self.systemPrompt = systemPrompt
        stored = (systemPrompt.map { [ChatMessage(role: "system", content: $0)] } ?? []) + history
        (stopTokens, stopTexts) = self.formatter.endOfTurnStops(tokenizer: session.model.tokenizer)
    }

    /// Starts a conversation on a new session with a context extension spec (see ``Session``).
    public convenience init(
        model: LanguageModel, contextExtension: String = "none", contextSize: Int? = nil, systemPrompt: String? = nil
    ) throws {
        try self.init(
            session: Session(model: model, contextExtension: contextExtension, contextSize: contextSize),
            systemPrompt: systemPrompt)
    }

    /// The conversation so far.
    public var messages: [ChatMessage] { lock.withLock { stored } }

    /// Forgets every turn but the system prompt (the session's cache is reused up to the change).
    public func clear() {
        lock.withLock { stored = systemPrompt.map { [ChatMessage(role: "system", content: $0)] } ?? [] }
    }

    /// The prompt text for the conversation plus `messages`, ready for the assistant's turn.
    public func prompt(adding messages: [ChatMessage] = []) throws -> String {
        try formatter.render(self.messages + messages, addGenerationPrompt: true)
    }

    /// The prompt's tokens (``ChatFormatter/promptTokens(_:tokenizer:)``).
    public func tokens(forPrompt text: String) -> [Int] {
        formatter.promptTokens(text, tokenizer: session.model.tokenizer)
    }

    /// Adds a user message and streams the assistant's reply, which joins the conversation when it ends
    /// (or is cancelled). `parameters.stop` and `stopTokens` add to the template's end-of-turn markers.
    public func respond(
        to userText: String, parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        let user = ChatMessage(role: "user", content: userText)
        let prompt: [Int]
        do {
            prompt = tokens(forPrompt: try self.prompt(adding: [user]))
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        var parameters = parameters
        parameters.stopTokens.formUnion(stopTokens)
        parameters.stop += stopTexts
        let inner = session.generate(prompt: prompt, parameters: parameters)
        let turn = Turn(chat: self, user: user)
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let forward = Task {
            do {
                for try await event in inner {
                    if case .finished = event { turn.end() } else { turn.add(event.text) }
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                // A failed turn (a prompt beyond the context, say) leaves the conversation as it was.
                turn.discard()
                continuation.finish(throwing: error)
            }
        }
        // Set after the task starts, so the handler may run after the stream already ended (Swift then
        // reports `.cancelled`): a discarded or ended turn ignores it.
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                turn.end()
                forward.cancel()
            }
        }
        return stream
    }

    fileprivate func append(_ user: ChatMessage, reply: String) {
        lock.withLock { stored += [user, ChatMessage(role: "assistant", content: reply)] }
    }
}

/// One reply in progress: its text so far, committed to the conversation exactly once.
private final class Turn: @unchecked Sendable {
    // @unchecked Sendable: `text` and `ended` are only touched under `lock`.
    private let lock = NSLock()
    private var text = ""
    private var ended = false
    private let chat: ChatSession
    private let user: ChatMessage

    init(chat: ChatSession, user: ChatMessage) {
        self.chat = chat
        self.user = user
    }

    func add(_ piece: String) { lock.withLock { if !ended { text += piece } } }

    /// Ends the turn without adding it to the conversation.
    func discard() { lock.withLock { ended = true } }

    func end() {
        let reply: String? = lock.withLock {
            if ended { return nil }
            ended = true
            return text
        }
        if let reply { chat.append(user, reply: reply) }
    }
}
