import Foundation
import Hummingbird
import NIOCore
import Stretch

/// The answer to one generation request in the shape its endpoint uses (OpenAI chat, OpenAI
/// completions, llama.cpp `/completion`), whole or streamed.
struct Reply: Sendable {
    let request: GenerationRequest
    let state: ServerState
    let slot: Int
    let start: DispatchTime
    let id: String
    let created = ServerResponder.now()

    /// What a generation produced.
    private struct Outcome {
        var text = ""
        var tokens: [Int] = []
        var stats: GenerationStatistics?
        var firstToken: Double?
        var lastToken: Double?
        /// Every token's log-probabilities (when asked for)…
        var logprobs: [TokenLogprobs] = []
        /// …and, while streaming, those not sent yet (a token's text may be held back for a while).
        var unsentLogprobs: [TokenLogprobs] = []
    }

    private func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    /// Waits for the whole generation.
    func whole(_ run: GenerationRun) async throws -> Response {
        var outcome = Outcome()
        do {
            for try await event in run.events { absorb(event, into: &outcome) }
        } catch {
            throw Self.apiError(error)
        }
        let stats = finish(&outcome)
        await run.released()
        return ServerResponder.json(body(outcome, stats: stats))
    }

    /// Streams Server-Sent Events; a failed write (the client left) cancels the generation.
    func stream(_ run: GenerationRun, to writer: inout any ResponseBodyWriter) async throws {
        var outcome = Outcome()
        do {
            if request.kind == .chat {
                try await send(
                    chunk(delta: [("role", .string("assistant")), ("content", .string(""))], finish: nil, logprobs: []),
                    to: &writer)
            }
            do {
                for try await event in run.events {
                    absorb(event, into: &outcome)
                    guard !event.text.isEmpty || (request.returnTokens && event.tokenID != nil) else { continue }
                    let probabilities = outcome.unsentLogprobs
                    outcome.unsentLogprobs = []
                    switch request.kind {
                    case .chat:
                        try await send(
                            chunk(delta: [("content", .string(event.text))], finish: nil, logprobs: probabilities),
                            to: &writer)
                    case .completion:
                        try await send(chunk(text: event.text, finish: nil, logprobs: probabilities), to: &writer)
                    case .llamaCompletion:
                        var fields: [(String, JSON)] = [("content", .string(event.text))]
                        if let t = event.tokenID { fields.append(("tokens", .array([.int(t)]))) }
                        fields += [("stop", .bool(false)), ("id_slot", .int(slot))]
                        if request.parameters.logprobs != nil {
                            fields.append(("completion_probabilities", llamaProbabilities(probabilities)))
                        }
                        try await send(.object(fields), to: &writer)
                    }
                }
            } catch let error where !(error is CancellationError) && !Task.isCancelled && !(error is WriteFailed) {
                // Errors after the first byte can only travel inside the stream.
                try await send(Self.apiError(error).json, to: &writer)
                try await writer.finish(nil)
                return
            }
            let stats = finish(&outcome)
            await run.released()
            let reason = Self.finishReason(stats)
            switch request.kind {
            case .chat:
                try await send(chunk(delta: [], finish: reason, logprobs: outcome.unsentLogprobs), to: &writer)
                if request.includeUsage { try await send(usageChunk(stats), to: &writer) }
                try await sendDone(to: &writer)
            case .completion:
                try await send(chunk(text: "", finish: reason, logprobs: outcome.unsentLogprobs), to: &writer)
                if request.includeUsage { try await send(usageChunk(stats), to: &writer) }
                try await sendDone(to: &writer)
            case .llamaCompletion:
                var final = Outcome()
                final.stats = stats
                try await send(body(final, stats: stats), to: &writer)
            }
            try await writer.finish(nil)
        } catch {
            run.cancel()
            throw error
        }
    }

    private struct WriteFailed: Error {}

    private func send(_ value: JSON, to writer: inout any ResponseBodyWriter) async throws {
        do {
            try await writer.write(ByteBuffer(string: "data: " + value.rendered + "\n\n"))
        } catch {
            throw WriteFailed()
        }
    }

    private func sendDone(to writer: inout any ResponseBodyWriter) async throws {
        do { try await writer.write(ByteBuffer(string: "data: [DONE]\n\n")) } catch { throw WriteFailed() }
    }

    private func absorb(_ event: GenerationEvent, into outcome: inout Outcome) {
        switch event {
        case .token(let id, let text):
            let t = elapsed()
            if outcome.firstToken == nil {
                outcome.firstToken = t
                state.metrics.firstToken(after: t)
            } else if let last = outcome.lastToken {
                state.metrics.interToken(t - last)
            }
            outcome.lastToken = t
            outcome.tokens.append(id)
            outcome.text += text
        case .logprobs(let record):
            outcome.logprobs.append(record)
            outcome.unsentLogprobs.append(record)
        case .text(let text): outcome.text += text
        case .finished(let stats): outcome.stats = stats
        case .assigned: break
        }
    }

    /// The statistics (made up from the tokens seen when the generation was cut short by a timeout).
    private func finish(_ outcome: inout Outcome) -> GenerationStatistics {
        var stats =
            outcome.stats
            ?? {
                var s = GenerationStatistics()
                s.promptTokens = request.prompt.count
                s.generatedTokens = outcome.tokens.count
                s.stopReason = .maxTokens
                return s
            }()
        if stats.stopReason == .cancelled { stats.stopReason = .maxTokens }
        state.metrics.finished(stats, seconds: elapsed())
        return stats
    }

    static func finishReason(_ stats: GenerationStatistics) -> String {
        switch stats.stopReason {
        case .endOfGeneration, .stopString: return "stop"
        case .maxTokens, .contextFull, .cancelled: return "length"
        }
    }

    static func apiError(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as GenerationError: return .badRequest("\(e)")
        case let e as ModelError: return .badRequest("\(e)")
        case let e as PositionError: return .badRequest("\(e)")
        default: return .server("\(error)")
        }
    }

    // MARK: - Shapes

    private func usage(_ stats: GenerationStatistics) -> JSON {
        .object([
            ("prompt_tokens", .int(stats.promptTokens)), ("completion_tokens", .int(stats.generatedTokens)),
            ("total_tokens", .int(stats.promptTokens + stats.generatedTokens)),
            ("prompt_tokens_details", .object([("cached_tokens", .int(stats.cachedPromptTokens))])),
        ])
    }

    private func timings(_ stats: GenerationStatistics) -> JSON {
        let promptMs = stats.promptSeconds * 1000
        let predictedMs = stats.generationSeconds * 1000
        let pn = stats.prefilledTokens
        let gn = stats.generatedTokens
        return .object([
            ("cache_n", .int(stats.cachedPromptTokens)), ("prompt_n", .int(pn)), ("prompt_ms", .double(promptMs)),
            ("prompt_per_token_ms", .double(pn > 0 ? promptMs / Double(pn) : 0)),
            ("prompt_per_second", .double(stats.promptTokensPerSecond)), ("predicted_n", .int(gn)),
            ("predicted_ms", .double(predictedMs)),
            ("predicted_per_token_ms", .double(gn > 0 ? predictedMs / Double(gn) : 0)),
            ("predicted_per_second", .double(stats.generationTokensPerSecond)),
        ])
    }

    private func header(_ object: String) -> [(String, JSON)] {
        [
            ("id", .string(id)), ("object", .string(object)), ("created", .int(created)),
            ("model", .string(state.modelID)),
        ]
    }

    private func body(_ outcome: Outcome, stats: GenerationStatistics) -> JSON {
        let reason = Self.finishReason(stats)
        switch request.kind {
        case .chat:
            let message: JSON = .object([("role", .string("assistant")), ("content", .string(outcome.text))])
            let choice: JSON = .object([
                ("index", .int(0)), ("message", message), ("logprobs", chatLogprobs(outcome.logprobs)),
                ("finish_reason", .string(reason)),
            ])
            return .object(
                header("chat.completion") + [
                    ("choices", .array([choice])), ("usage", usage(stats)), ("timings", timings(stats)),
                    ("context_extension", .string(contextExtension)),
                ])
        case .completion:
            let choice: JSON = .object([
                ("index", .int(0)), ("text", .string(outcome.text)),
                ("logprobs", completionLogprobs(outcome.logprobs)), ("finish_reason", .string(reason)),
            ])
            return .object(
                header("text_completion") + [
                    ("choices", .array([choice])), ("usage", usage(stats)), ("timings", timings(stats)),
                    ("context_extension", .string(contextExtension)),
                ])
        case .llamaCompletion:
            let stopType: String =
                switch stats.stopReason {
                case .endOfGeneration: "eos"
                case .stopString: "word"
                default: "limit"
                }
            var fields: [(String, JSON)] = [("content", .string(outcome.text))]
            if request.returnTokens || !request.stream {
                fields.append(("tokens", .array(outcome.tokens.map { .int($0) })))
            }
            fields += [
                ("id_slot", .int(slot)), ("stop", .bool(true)), ("model", .string(state.modelID)),
                ("tokens_predicted", .int(stats.generatedTokens)), ("tokens_evaluated", .int(stats.promptTokens)),
                ("tokens_cached", .int(stats.cachedPromptTokens)), ("stop_type", .string(stopType)),
                ("truncated", .bool(false)), ("timings", timings(stats)),
                ("context_extension", .string(contextExtension)),
            ]
            if request.parameters.logprobs != nil && !request.stream {
                fields.append(("completion_probabilities", llamaProbabilities(outcome.logprobs)))
            }
            return .object(fields)
        }
    }

    private func chunk(delta: [(String, JSON)], finish: String?, logprobs: [TokenLogprobs]) -> JSON {
        let choice: JSON = .object([
            ("index", .int(0)), ("delta", .object(delta)), ("logprobs", chatLogprobs(logprobs)),
            ("finish_reason", finish.map { .string($0) } ?? .null),
        ])
        return .object(header("chat.completion.chunk") + [("choices", .array([choice]))])
    }

    private func chunk(text: String, finish: String?, logprobs: [TokenLogprobs]) -> JSON {
        let choice: JSON = .object([
            ("index", .int(0)), ("text", .string(text)), ("logprobs", completionLogprobs(logprobs)),
            ("finish_reason", finish.map { .string($0) } ?? .null),
        ])
        return .object(header("text_completion") + [("choices", .array([choice]))])
    }

    /// The effective context extension of the request (named in every final answer).
    private var contextExtension: String {
        (try? request.contextExtension.map(state.positions)?.description) ?? state.defaultSpec
    }

    // MARK: - Log-probabilities

    private func piece(_ id: Int) -> (text: String, bytes: JSON) {
        let bytes = state.model.tokenizer.pieceBytes(id, renderSpecial: true)
        return (String(decoding: bytes, as: UTF8.self), .array(bytes.map { .int(Int($0)) }))
    }

    /// OpenAI chat: `{"content": [{"token", "logprob", "bytes", "top_logprobs": […]}]}`, null when not asked.
    private func chatLogprobs(_ records: [TokenLogprobs]) -> JSON {
        guard request.parameters.logprobs != nil, !records.isEmpty else { return .null }
        func entry(_ c: TokenLogprobs.Candidate) -> [(String, JSON)] {
            let p = piece(c.id)
            return [("token", .string(p.text)), ("logprob", .double(Double(c.logprob))), ("bytes", p.bytes)]
        }
        let content = records.map { r -> JSON in
            .object(entry(r.chosen) + [("top_logprobs", .array(r.top.map { .object(entry($0)) }))])
        }
        return .object([("content", .array(content)), ("refusal", .null)])
    }

    /// OpenAI completions: `{"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}`.
    private func completionLogprobs(_ records: [TokenLogprobs]) -> JSON {
        guard request.parameters.logprobs != nil, !records.isEmpty else { return .null }
        var offset = 0
        var offsets: [JSON] = []
        for r in records {
            offsets.append(.int(offset))
            offset += piece(r.chosen.id).text.unicodeScalars.count
        }
        return .object([
            ("tokens", .array(records.map { .string(piece($0.chosen.id).text) })),
            ("token_logprobs", .array(records.map { .double(Double($0.chosen.logprob)) })),
            ("top_logprobs", .array(records.map { r in
                .object(r.top.map { (piece($0.id).text, .double(Double($0.logprob))) })
            })),
            ("text_offset", .array(offsets)),
        ])
    }

    /// llama.cpp `/completion`: `[{"id", "token", "bytes", "logprob", "top_logprobs": [{"id", …}]}]`.
    private func llamaProbabilities(_ records: [TokenLogprobs]) -> JSON {
        func entry(_ c: TokenLogprobs.Candidate) -> [(String, JSON)] {
            let p = piece(c.id)
            return [("id", .int(c.id)), ("token", .string(p.text)), ("bytes", p.bytes), ("logprob", .double(Double(c.logprob)))]
        }
        return .array(records.map { r in .object(entry(r.chosen) + [("top_logprobs", .array(r.top.map { .object(entry($0)) }))]) })
    }

    private func usageChunk(_ stats: GenerationStatistics) -> JSON {
        .object(
            header(request.kind == .chat ? "chat.completion.chunk" : "text_completion") + [
                ("choices", .array([])), ("usage", usage(stats)), ("timings", timings(stats)),
                ("context_extension", .string(contextExtension)),
            ])
    }
}

extension GenerationEvent {
    /// The token id of a `.token` event.
    var tokenID: Int? {
        if case .token(let id, _) = self { return id }
        return nil
    }
}
