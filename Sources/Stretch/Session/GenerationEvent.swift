/// One element of a generation stream.
public enum GenerationEvent: Sendable, Equatable {
    /// A generated token and the text it completed: empty while a UTF-8 character is still incomplete or
    /// the text could still become a stop string (it then arrives with a later token).
    case token(id: Int, text: String)
    /// The log-probabilities of the token in the `.token` event that follows (only when
    /// ``GenerationParameters/logprobs`` asks for them).
    case logprobs(TokenLogprobs)
    /// A ``BatchEngine`` gave the request slot `slot` (before its prompt runs; sessions do not send it).
    case assigned(slot: Int)
    /// Text held back until the end (an unfinished stop-string prefix, a trailing partial character).
    case text(String)
    /// The last event: counts, timings and why the generation stopped.
    case finished(GenerationStatistics)

    /// The text this event adds to the output.
    public var text: String {
        switch self {
        case let .token(_, text), let .text(text): return text
        case .finished, .logprobs, .assigned: return ""
        }
    }
}
