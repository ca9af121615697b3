import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Stretch

/// Routes each request to its endpoint, after the API key and body-size checks, and turns every error
/// into llama-server's JSON error shape.
struct ServerResponder: HTTPResponder {
    typealias Context = ServerContext
    let host: ServerHost

    /// The loaded model's state; `route` answers 503 before any handler runs while the model loads.
    var state: ServerState { host.state! }

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        // CORS is off unless origins are named (--cors-origin): then those origins, and only they, get
        // the headers that let a browser page read the answer.
        let origin = request.headers[.origin]
        let allowed = origin.flatMap { o in
            host.configuration.corsOrigins.contains(o) || host.configuration.corsOrigins.contains("*") ? o : nil
        }
        if request.method == .options {
            guard let allowed else {
                return Self.errorResponse(.notFound("File Not Found: no endpoint OPTIONS \(request.uri.path)"))
            }
            var headers: HTTPFields = [
                .accessControlAllowOrigin: allowed, .accessControlAllowMethods: "GET, POST, OPTIONS",
                .accessControlAllowHeaders: "Authorization, Content-Type, X-Api-Key", .vary: "Origin",
            ]
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = await answer(request, context: context)
        if let allowed {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.vary] = "Origin"
        }
        return response
    }

    private func answer(_ request: Request, context: ServerContext) async -> Response {
        do {
            return try await route(request, context: context)
        } catch let error as APIError {
            return Self.errorResponse(error)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return Self.errorResponse(
                APIError(
                    status: .contentTooLarge,
                    message: "the request body is larger than \(host.configuration.maxBodySize) bytes",
                    type: "invalid_request_error"))
        } catch is CancellationError {
            return Self.errorResponse(.unavailable("the request was cancelled"))
        } catch {
            return Self.errorResponse(.server("\(error)"))
        }
    }

    private func route(_ request: Request, context: ServerContext) async throws -> Response {
        let path = request.uri.path
        let method = request.method
        let open = ["/health", "/v1/health", "/v1/models", "/models"].contains(path)
        if !open { try authorize(request) }
        // llama-server's answer while the model loads, on every endpoint.
        if host.state == nil { throw APIError.unavailable("Loading model") }
        let get: [String: () async throws -> Response] = [
            "/health": health, "/v1/health": health, "/v1/models": models, "/models": models, "/props": props,
            "/slots": slots, "/metrics": metrics,
        ]
        let post: [String: (JSON, ServerContext) async throws -> Response] = [
            "/v1/chat/completions": chat, "/chat/completions": chat, "/v1/completions": openAICompletion,
            "/completions": openAICompletion, "/completion": llamaCompletion, "/tokenize": tokenize,
            "/detokenize": detokenize, "/apply-template": applyTemplate,
        ]
        if method == .get, let handler = get[path] { return try await handler() }
        if method == .post, let handler = post[path] {
            return try await handler(try await body(request), context)
        }
        if get[path] != nil || post[path] != nil {
            throw APIError(
                status: .methodNotAllowed, message: "\(method) is not allowed on \(path)", type: "invalid_request_error"
            )
        }
        throw APIError.notFound("File Not Found: no endpoint \(method) \(path)")
    }

    // MARK: - Checks

    /// Accepts `Authorization: Bearer KEY` (or `X-Api-Key: KEY`) when keys are set, comparing in constant time.
    private func authorize(_ request: Request) throws {
        let keys = host.configuration.apiKeys
        guard !keys.isEmpty else { return }
        var given = request.headers[.authorization] ?? request.headers[HTTPField.Name("X-Api-Key")!] ?? ""
        if given.lowercased().hasPrefix("bearer ") { given = String(given.dropFirst(7)) }
        var ok = false
        for key in keys where Self.constantTimeEqual(Array(given.utf8), Array(key.utf8)) { ok = true }
        if !ok { throw APIError.unauthorized }
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the key.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for k in 0..<max(a.count, b.count) {
            diff |= (k < a.count ? a[k] : 0) ^ (k < b.count ? b[k] : 0)
        }
        return diff == 0 && a.count == b.count
    }

    private func body(_ request: Request) async throws -> JSON {
        let limit = host.configuration.maxBodySize
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPError(.contentTooLarge)
        }
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        let json = try JSON.decode(Data(buffer.readableBytesView))
        guard case .object = json else { throw APIError.badRequest("the request body must be a JSON object") }
        return json
    }

    // MARK: - Small endpoints

    private func health() async throws -> Response {
        if host.isDraining { throw APIError.unavailable("the server is shutting down") }
        return Self.json(.object([("status", .string("ok"))]))
    }

    private func models() async throws -> Response {
        let n = state.model.trainedContext
        let slotInfo = state.engine.snapshot.slots
        let meta: JSON = .object([
            ("n_ctx_train", .int(n)), ("n_ctx", .int(state.engine.plan.contextSize)),
            ("n_ctx_slots", .array(slotInfo.map { .int($0.contextSize) })),
            ("n_ctx_max", .int(state.engine.plan.maximum ?? state.engine.plan.contextSize)),
            ("context_extension", .string(state.defaultSpec)),
            ("n_vocab", .int(state.model.tokenizer.vocabularySize)),
        ])
        let entry: JSON = .object([
            ("id", .string(state.modelID)), ("object", .string("model")), ("created", .int(Self.now())),
            ("owned_by", .string("stretch")), ("meta", meta),
        ])
        return Self.json(.object([("object", .string("list")), ("data", .array([entry]))]))
    }

    private func props() async throws -> Response {
        let s = host.configuration.sampling
        let settings: JSON = .object([
            ("n_ctx", .int(state.engine.plan.contextSize)),
            ("n_predict", .int(host.configuration.maxTokens)),
            ("temperature", .double(Double(s.temperature))), ("top_k", .int(s.topK)),
            ("top_p", .double(Double(s.topP))),
            ("min_p", .double(Double(s.minP))), ("repeat_penalty", .double(Double(s.repetitionPenalty))),
            ("repeat_last_n", .int(s.repetitionWindow)), ("presence_penalty", .double(Double(s.presencePenalty))),
            ("frequency_penalty", .double(Double(s.frequencyPenalty))), ("context_extension", .string(state.defaultSpec)),
        ])
        return Self.json(
            .object([
                ("default_generation_settings", settings), ("total_slots", .int(host.configuration.slots)),
                ("model_path", .string(state.model.file.path)), ("model_alias", .string(state.modelID)),
                ("chat_template", .string(state.model.chatFormatter.description)),
                ("n_ctx_train", .int(state.model.trainedContext)),
                ("build_info", .string("stretch")),
            ]))
    }

    private func slots() async throws -> Response {
        guard host.configuration.slotsEndpoint else {
            throw APIError(
                status: .notImplemented, message: "This server does not support slots endpoint. Start it with --slots",
                type: "not_supported_error")
        }
        let items = state.engine.snapshot.slots.map { slot -> JSON in
            .object([
                ("id", .int(slot.index)), ("n_ctx", .int(slot.contextSize)),
                ("is_processing", .bool(slot.phase != .idle)), ("state", .string(slot.phase.rawValue)),
                ("n_past", .int(slot.cachedTokens)), ("n_prompt_tokens", .int(slot.promptTokens)),
                ("n_decoded", .int(slot.generatedTokens)), ("context_extension", .string(slot.contextExtension)),
            ])
        }
        return Self.json(.array(items))
    }

    private func metrics() async throws -> Response {
        guard host.configuration.metrics else {
            throw APIError(
                status: .notImplemented,
                message: "This server does not support metrics endpoint. Start it with --metrics",
                type: "not_supported_error")
        }
        let text = state.metrics.render(state.engine.snapshot)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func tokenize(_ body: JSON, _ context: ServerContext) async throws -> Response {
        let fields = try FieldReader(body)
        guard let content = try fields.string("content") else {
            throw APIError.badRequest("'content' (a string) is required")
        }
        let tokenizer = state.model.tokenizer
        let ids = tokenizer.encode(
            content, addSpecial: try fields.bool("add_special") ?? false,
            parseSpecial: try fields.bool("parse_special") ?? true)
        let tokens: [JSON]
        if try fields.bool("with_pieces") ?? false {
            tokens = ids.map { id in
                let bytes = tokenizer.pieceBytes(id)
                let piece: JSON =
                    String(validating: bytes, as: UTF8.self).map { .string($0) } ?? .array(bytes.map { .int(Int($0)) })
                return .object([("id", .int(id)), ("piece", piece)])
            }
        } else {
            tokens = ids.map { .int($0) }
        }
        return Self.json(.object([("tokens", .array(tokens))]))
    }

    private func detokenize(_ body: JSON, _ context: ServerContext) async throws -> Response {
        let ids = try tokenIDs(body["tokens"], field: "tokens") ?? []
        return Self.json(.object([("content", .string(state.model.tokenizer.decode(ids)))]))
    }

    private func applyTemplate(_ body: JSON, _ context: ServerContext) async throws -> Response {
        let messages = try Self.chatMessages(body)
        let prompt: String
        do {
            prompt = try state.model.chatFormatter.render(messages, addGenerationPrompt: true)
        } catch {
            throw APIError.badRequest("the chat template failed on these messages: \(error)")
        }
        return Self.json(.object([("prompt", .string(prompt))]))
    }

    /// Token ids in `value` (nil when absent), each checked against the vocabulary.
    func tokenIDs(_ value: JSON?, field: String) throws -> [Int]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value else {
            throw APIError.badRequest("'\(field)' must be an array of token ids")
        }
        let vocab = state.model.tokenizer.vocabularySize
        return try items.map {
            guard case .int(let id) = $0 else { throw APIError.badRequest("'\(field)' must be an array of token ids") }
            guard id >= 0, id < vocab else {
                throw APIError.badRequest("'\(field)' holds \(id), which is not a token id (0..<\(vocab))")
            }
            return id
        }
    }

    /// The `messages` of a chat request: roles system/developer/user/assistant/tool, content a string or
    /// text parts.
    static func chatMessages(_ body: JSON) throws -> [ChatMessage] {
        guard case .array(let items)? = body["messages"] else {
            throw APIError.badRequest("'messages' (an array of {\"role\", \"content\"}) is required")
        }
        guard !items.isEmpty else { throw APIError.badRequest("'messages' must not be empty") }
        return try items.enumerated().map { k, item in
            guard case .object = item else { throw APIError.badRequest("messages[\(k)] must be an object") }
            guard case .string(var role)? = item["role"] else {
                throw APIError.badRequest("messages[\(k)].role (a string) is required")
            }
            guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                throw APIError.badRequest(
                    "messages[\(k)].role '\(role)' is unknown (system, developer, user, assistant, tool)")
            }
            if role == "developer" { role = "system" }
            var text = ""
            switch item["content"] {
            case .string(let s)?: text = s
            case .null?, nil:
                guard role == "assistant" else { throw APIError.badRequest("messages[\(k)].content is required") }
            case .array(let parts)?:
                for (p, part) in parts.enumerated() {
                    guard case .string(let type)? = part["type"] else {
                        throw APIError.badRequest("messages[\(k)].content[\(p)].type is required")
                    }
                    guard type == "text" else {
                        throw APIError(
                            status: .notImplemented,
                            message:
                                "messages[\(k)].content[\(p)]: content parts of type '\(type)' are not supported yet (only text)",
                            type: "not_supported_error")
                    }
                    guard case .string(let s)? = part["text"] else {
                        throw APIError.badRequest("messages[\(k)].content[\(p)].text (a string) is required")
                    }
                    text += s
                }
            default:
                throw APIError.badRequest("messages[\(k)].content must be a string or an array of text parts")
            }
            return ChatMessage(role: role, content: text)
        }
    }

    // MARK: - Responses

    static func now() -> Int { Int(Date().timeIntervalSince1970) }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.rendered)))
    }

    static func errorResponse(_ error: APIError) -> Response {
        var response = json(error.json, status: error.status)
        if let retry = error.retryAfter { response.headers[.retryAfter] = "\(retry)" }
        return response
    }
}
