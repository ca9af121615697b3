import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Stretch

/// The generation endpoints: `POST /v1/chat/completions`, `/v1/completions` and llama.cpp's `/completion`.
extension ServerResponder {
    func chat(_ body: JSON, _ context: ServerContext) async throws -> Response {
        var request = try GenerationRequest(kind: .chat, body: body, configuration: state.configuration, tokenizer: state.model.tokenizer)
        let messages = try Self.chatMessages(body)
        let formatter = state.model.chatFormatter
        let text: String
        do {
            text = try formatter.render(messages, addGenerationPrompt: true)
        } catch {
            throw APIError.badRequest("the chat template failed on these messages: \(error)")
        }
        request.prompt = formatter.promptTokens(text, tokenizer: state.model.tokenizer)
        // `ignore_eos` keeps generating through the end-of-turn markers too (llama.cpp bans every end token).
        if !request.parameters.ignoreEndOfGeneration {
            request.parameters.stopTokens.formUnion(state.chatStopTokens)
            request.parameters.stop += state.chatStopTexts
        }
        return try await generate(request, context: context)
    }

    func openAICompletion(_ body: JSON, _ context: ServerContext) async throws -> Response {
        var request = try GenerationRequest(kind: .completion, body: body, configuration: state.configuration, tokenizer: state.model.tokenizer)
        request.prompt = try prompt(body)
        return try await generate(request, context: context)
    }

    func llamaCompletion(_ body: JSON, _ context: ServerContext) async throws -> Response {
        var request = try GenerationRequest(kind: .llamaCompletion, body: body, configuration: state.configuration, tokenizer: state.model.tokenizer)
        request.prompt = try prompt(body)
        return try await generate(request, context: context)
    }

    /// `prompt`: a string (tokenized with BOS and special tokens) or token ids.
    private func prompt(_ body: JSON) throws -> [Int] {
        switch body["prompt"] {
        case .string(let text)?:
            return state.model.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        case .array(let items)? where items.count == 1:
            if case .string(let text) = items[0] {
                return state.model.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
            }
            return try tokenIDs(body["prompt"], field: "prompt") ?? []
        case .array(let items)? where items.allSatisfy({ if case .int = $0 { true } else { false } }):
            return try tokenIDs(body["prompt"], field: "prompt") ?? []
        case .array?:
            throw APIError(
                status: .notImplemented, message: "several prompts in one request are not supported yet",
                type: "not_supported_error")
        case nil, .null?:
            throw APIError.badRequest("'prompt' (a string or an array of token ids) is required")
        case let other?:
            throw APIError.badRequest("'prompt' must be a string or an array of token ids, not \(other.typeName)")
        }
    }

    /// Admits the request (context check, a slot of the engine), then answers it whole or as Server-Sent
    /// Events. Everything that refuses a request (a prompt beyond the context, a full queue, a timeout
    /// while queued) is a plain JSON error before the first byte.
    private func generate(_ request: GenerationRequest, context: ServerContext) async throws -> Response {
        let model = state.model
        let L = model.trainedContext
        let positions = try request.contextExtension.map(state.positions) ?? state.engine.positions
        let spec = positions.description
        let limit: Int
        do {
            limit = try state.engine.contextSize(for: positions)
        } catch {
            throw APIError.badRequest("'context_extension' \(spec): \(error)")
        }
        guard !request.prompt.isEmpty else { throw APIError.badRequest("the prompt is empty") }
        let needed = request.prompt.count
        if needed > limit {
            let window = L / 2
            let g = SelfExtendPositions.smallestGroupSize(target: needed, window: window, trainedContext: L)
            throw APIError(
                status: .badRequest,
                message: "the prompt has \(needed) tokens, more than the context of \(limit) tokens (\(spec), trained "
                    + "L=\(L)); a context extension that fits: \"context_extension\": \"self-extend:G=\(g):W=\(window)\" "
                    + "(server flags -gan \(g) -gaw \(window))",
                type: "exceed_context_size_error")
        }
        if state.isDraining { throw APIError.unavailable("the server is shutting down") }
        let start = DispatchTime.now()
        let run = GenerationRun(
            state: state, prompt: request.prompt, parameters: request.parameters, positions: positions,
            reusePrefix: request.cachePrompt, timeout: state.configuration.requestTimeout)
        context.channel.closeFuture.whenComplete { _ in run.cancel() }
        let slot: Int
        do {
            slot = try await run.admitted()
        } catch GenerationError.queueFull(let limit) {
            state.metrics.rejected()
            throw APIError.unavailable(
                "all \(state.engine.slotCount) slots are busy and the queue (\(limit)) is full; retry later",
                retryAfter: 1)
        } catch let error as APIError {
            if error.status == .serviceUnavailable { state.metrics.rejected() }
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw Reply.apiError(error)
        }
        let reply = Reply(
            request: request, state: state, slot: slot, start: start,
            id: (request.kind == .chat ? "chatcmpl-" : "cmpl-") + Self.randomID())
        if request.stream {
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    try await reply.stream(run, to: &writer)
                })
        }
        return try await reply.whole(run)
    }

    static func randomID() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<24).map { _ in letters.randomElement()! })
    }
}
