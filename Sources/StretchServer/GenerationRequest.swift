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
    /// `tokenizer` checks `logit_bias` ids against the vocabulary and tokenizes its texts (nil: ids are
    /// checked only for sign, texts are skipped — request decoding without a model).
    init(kind: Kind, body: JSON, configuration: ServerConfiguration, tokenizer: Tokenizer?) throws {
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
        if let v = try fields.number("presence_penalty") { s.presencePenalty = Float(v) }
        if let v = try fields.number("frequency_penalty") { s.frequencyPenalty = Float(v) }
        if let bias = fields.value("logit_bias") { s.logitBias = try Self.logitBias(bias, tokenizer: tokenizer) }
        parameters.sampling = s
        parameters.logprobs = try Self.logprobs(kind: kind, fields)
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
                    "presence penalty": "presence_penalty", "frequency penalty": "frequency_penalty",
                    "logit bias": "logit_bias",
                ][name] ?? name
            throw APIError.badRequest("invalid '\(field)' \(value): \(requirement)")
        }
    }
}

extension GenerationRequest {
    /// How many alternatives per token to report, from each endpoint's field: chat `logprobs` (a boolean)
    /// with `top_logprobs` (0…20), completions `logprobs` (0…5), llama.cpp `n_probs`.
    static func logprobs(kind: Kind, _ fields: FieldReader) throws -> Int? {
        switch kind {
        case .chat:
            let top = try fields.int("top_logprobs")
            guard try fields.bool("logprobs") == true else {
                if let top, top > 0 { throw APIError.badRequest("'top_logprobs' needs 'logprobs': true") }
                return nil
            }
            if let top, !(0...20).contains(top) {
                throw APIError.badRequest("'top_logprobs' must be in 0...20 (got \(top))")
            }
            return top ?? 0
        case .completion:
            guard let n = try fields.int("logprobs") else { return nil }
            guard (0...5).contains(n) else { throw APIError.badRequest("'logprobs' must be in 0...5 (got \(n))") }
            return n
        case .llamaCompletion:
            guard let n = try fields.int("n_probs") else { return nil }
            guard n >= 0 else { throw APIError.badRequest("'n_probs' must be ≥ 0 (got \(n))") }
            return n > 0 ? n : nil
        }
    }

    /// `logit_bias` as OpenAI sends it (`{"15043": -100}`) or as llama-server also takes it
    /// (`[[15043, -1.5], ["Hello", false]]`: a text applies to each of its tokens, `false` bans).
    static func logitBias(_ value: JSON, tokenizer: Tokenizer?) throws -> [Int: Float] {
        let vocab = tokenizer?.vocabularySize ?? Int.max
        var bias: [Int: Float] = [:]
        func tokens(_ key: JSON) throws -> [Int] {
            switch key {
            case .int(let id):
                guard id >= 0 && id < vocab else {
                    throw APIError.badRequest("'logit_bias' names token \(id), outside the vocabulary (0..<\(vocab))")
                }
                return [id]
            case .string(let text):
                if let id = Int(text) { return try tokens(.int(id)) }
                return tokenizer?.encode(text, addSpecial: false, parseSpecial: false) ?? []
            default:
                throw APIError.badRequest("'logit_bias' keys must be token ids or texts, not \(key.typeName)")
            }
        }
        func amount(_ v: JSON) throws -> Float {
            switch v {
            case .int(let i): return Float(i)
            case .double(let d) where d.isFinite: return Float(d)
            case .bool(false): return -.infinity
            default: throw APIError.badRequest("'logit_bias' values must be numbers or false, not \(v.typeName)")
            }
        }
        switch value {
        case .null: break
        case .object(let members):
            for (key, v) in members { for t in try tokens(.string(key)) { bias[t, default: 0] += try amount(v) } }
        case .array(let pairs):
            for pair in pairs {
                guard case .array(let kv) = pair, kv.count == 2 else {
                    throw APIError.badRequest("'logit_bias' as an array holds [token, bias] pairs")
                }
                for t in try tokens(kv[0]) { bias[t, default: 0] += try amount(kv[1]) }
            }
        default: throw APIError.badRequest("'logit_bias' must be an object or an array, not \(value.typeName)")
        }
        return bias
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
        for name in ["tools", "functions"] {
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
        for name in ["grammar", "json_schema"] where present(name) != nil { throw APIError.notSupported(name) }
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
