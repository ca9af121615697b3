import Foundation

/// The checks a completion request's body passes before any work starts, callable without a running server
/// (fuzzing, tests).
public enum RequestDecoding {
    /// Decodes `body` as every completion endpoint does (JSON, then the fields they share) and throws the
    /// ``APIError`` the server would answer with. The prompt and messages are read later, with the tokenizer.
    public static func check(_ body: Data, configuration: ServerConfiguration = ServerConfiguration()) throws {
        let json = try JSON.decode(body)
        guard case .object = json else { throw APIError.badRequest("the request body must be a JSON object") }
        for kind in [GenerationRequest.Kind.chat, .completion, .llamaCompletion] {
            _ = try GenerationRequest(kind: kind, body: json, configuration: configuration, tokenizer: nil)
        }
    }
}
