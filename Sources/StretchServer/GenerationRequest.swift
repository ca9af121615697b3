import Foundation
import Stretch

/// One generation request, read from any of the completion endpoints' bodies and checked before any
/// byte of the answer is sent.
struct GenerationRequest: Sendable {
    /// Which endpoint asked: it decides the response's shape.
    enum Kind: Sendable {
        case chat, completion, llamaCompletion
    }

    var kind: Kind
    var prompt: [Int] = []
    var parameters = GenerationParameters()
    var stream = false
    var includeUsage = false
    var cachePrompt = true
    var returnTokens = false
    /// A context extension spec other than the server's, if the request names one.
    var contextExtension: String?

    /// Reads the fields shared by every completion endpoint; the prompt is read by the caller.
    init(kind: Kind, body: JSON, configuration: ServerConfiguration) throws {
        self.kind = kind
        let fields = try FieldReader(body)
        try fields.rejectUnsupported()
        parameters.sampling = configuration.sampling
        parameters.maxTokens = configuration.maxTokens
        for name in ["max_tokens", "max_completion_tokens", "n_predict"] {
            if let n = try fields.int(name) {
                guard n >= -1 else { throw APIError.badRequest("'\(name)' must be ≥ -1 (got \(n))") }
                parameters.maxTokens = n
            }
        }
        var s = parameters.sampling
        if let v = try fields.number("temperature") { s.temperature = Float(v) }
        if let v = try fields.int("top_k") { s.topK = v }
        if let v = try fields.number("top_p") { s.topP = Float(v) }
        if let v = try fields.number("min_p") { s.minP = Float(v) }
        if let v = try fields.number("repeat_penalty") { s.repetitionPenalty = Float(v) }
        if let v = try fields.int("repeat_last_n") { s.repetitionWindow = v }
        if let v = try fields.int("seed") { s.seed = v < 0 ? nil : UInt64(v) }
        parameters.sampling = s
        if let stop = fields.value("stop") {
            switch stop {
            case .null: break
            case .string(let text): parameters.stop = [text]
            case .array(let items):
                parameters.stop = try items.map {
                    guard case .string(let text) = $0 else {
                        throw APIError.badRequest("'stop' must be a string or an array of strings")
                    }
                    return text
                }
            default: throw APIError.badRequest("'stop' must be a string or an array of strings, not \(stop.typeName)")
            }
        }
        parameters.stop.removeAll { $0.isEmpty }
        stream = try fields.bool("stream") ?? false
        if let options = fields.value("stream_options"), options != .null {
            guard case .object = options else { throw APIError.badRequest("'stream_options' must be an object") }
            includeUsage = try FieldReader(options).bool("include_usage") ?? false
        }
        parameters.ignoreEndOfGeneration = try fields.bool("ignore_eos") ?? false
        cachePrompt = try fields.bool("cache_prompt") ?? true
        returnTokens = try fields.bool("return_tokens") ?? false
        contextExtension = try fields.string("context_extension")
        do {
            try parameters.validate()
        } catch let GenerationError.invalidParameter(name, value, requirement) {
            let field =
                [
                    "temperature": "temperature", "top-p": "top_p", "min-p": "min_p",
                    "repetition penalty": "repeat_penalty", "repetition window": "repeat_last_n",
                ][name] ?? name
            throw APIError.badRequest("invalid '\(field)' \(value): \(requirement)")
        }
    }
}

/// Typed access to a request object's fields, each wrong type a 400 naming the field.
struct FieldReader {
    let members: JSON

    init(_ body: JSON) throws {
        guard case .object = body else { throw APIError.badRequest("the request body must be a JSON object") }
        members = body
    }

    func value(_ name: String) -> JSON? { members[name] }

    func int(_ name: String) throws -> Int? {
        switch members[name] {
        case nil, .null?: return nil
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
        case let other?: throw APIError.badRequest("'\(name)' must be an integer, not \(other.typeName)")
        }
    }

    func number(_ name: String) throws -> Double? {
        switch members[name] {
        case nil, .null?: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case let other?: throw APIError.badRequest("'\(name)' must be a number, not \(other.typeName)")
        }
    }

    func bool(_ name: String) throws -> Bool? {
        switch members[name] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?: throw APIError.badRequest("'\(name)' must be a boolean, not \(other.typeName)")
        }
    }

    func string(_ name: String) throws -> String? {
        switch members[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw APIError.badRequest("'\(name)' must be a string, not \(other.typeName)")
        }
    }

    /// Fields that change the answer in ways not implemented yet: refused (501), never silently ignored.
    func rejectUnsupported() throws {
        func present(_ name: String) -> JSON? {
            guard let v = members[name], v != .null else { return nil }
            return v
        }
        for name in ["tools", "functions", "logit_bias"] {
            if let v = present(name) {
                if case .array(let items) = v, items.isEmpty { continue }
                if case .object(let items) = v, items.isEmpty { continue }
                throw APIError.notSupported(name)
            }
        }
        if let v = present("tool_choice"), v != .string("none"), v != .string("auto") {
            throw APIError.notSupported("tool_choice")
        }
        if let v = present("response_format"), v != .object([("type", .string("text"))]) {
            throw APIError.notSupported("response_format")
        }
        for name in ["presence_penalty", "frequency_penalty"] {
            if let v = try number(name), v != 0 { throw APIError.notSupported(name) }
        }
        if let v = present("logprobs"), v != .bool(false), v != .int(0) { throw APIError.notSupported("logprobs") }
        for name in ["top_logprobs", "n_probs"] {
            if let v = try int(name), v != 0 { throw APIError.notSupported(name) }
        }
        for name in ["n", "best_of"] {
            if let v = try int(name), v != 1 {
                if v < 1 { throw APIError.badRequest("'\(name)' must be ≥ 1 (got \(v))") }
                throw APIError(
                    status: .notImplemented, message: "'\(name)' > 1 is not supported yet (one choice per request)",
                    type: "not_supported_error")
            }
        }
        if let v = try bool("echo"), v { throw APIError.notSupported("echo") }
        if let v = try string("suffix"), !v.isEmpty { throw APIError.notSupported("suffix") }
    }
}
