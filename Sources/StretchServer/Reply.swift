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
                    chunk(delta: [("role", .string("assistant")), ("content", .string(""))], finish: nil), to: &writer)
            }
            do {
                for try await event in run.events {
                    absorb(event, into: &outcome)
                    guard !event.text.isEmpty || (request.returnTokens && event.tokenID != nil) else { continue }
                    switch request.kind {
                    case .chat:
                        try await send(chunk(delta: [("content", .string(event.text))], finish: nil), to: &writer)
                    case .completion: try await send(chunk(text: event.text, finish: nil), to: &writer)
                    case .llamaCompletion:
                        var fields: [(String, JSON)] = [("content", .string(event.text))]
                        if let t = event.tokenID { fields.append(("tokens", .array([.int(t)]))) }
                        fields += [("stop", .bool(false)), ("id_slot", .int(slot))]
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
                try await send(chunk(delta: [], finish: reason), to: &writer)
                if request.includeUsage { try await send(usageChunk(stats), to: &writer) }
                try await sendDone(to: &writer)
            case .completion:
                try await send(chunk(text: "", finish: reason), to: &writer)
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
            if outcome.firstToken == nil {
                let t = elapsed()
                outcome.firstToken = t
                state.metrics.firstToken(after: t)
            }
            outcome.tokens.append(id)
            outcome.text += text
        case .text(let text): outcome.text += text
        case .finished(let stats): outcome.stats = stats
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
        state.metrics.finished(
            promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens, seconds: elapsed())
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
                ("index", .int(0)), ("message", message), ("logprobs", .null), ("finish_reason", .string(reason)),
            ])
            return .object(
                header("chat.completion") + [
                    ("choices", .array([choice])), ("usage", usage(stats)), ("timings", timings(stats)),
                ])
        case .completion:
            let choice: JSON = .object([
                ("index", .int(0)), ("text", .string(outcome.text)), ("logprobs", .null),
                ("finish_reason", .string(reason)),
            ])
            return .object(
                header("text_completion") + [
                    ("choices", .array([choice])), ("usage", usage(stats)), ("timings", timings(stats)),
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
            ]
            return .object(fields)
        }
    }

    private func chunk(delta: [(String, JSON)], finish: String?) -> JSON {
        let choice: JSON = .object([
            ("index", .int(0)), ("delta", .object(delta)), ("logprobs", .null),
            ("finish_reason", finish.map { .string($0) } ?? .null),
        ])
        return .object(header("chat.completion.chunk") + [("choices", .array([choice]))])
    }

    private func chunk(text: String, finish: String?) -> JSON {
        let choice: JSON = .object([
            ("index", .int(0)), ("text", .string(text)), ("logprobs", .null),
            ("finish_reason", finish.map { .string($0) } ?? .null),
        ])
        return .object(header("text_completion") + [("choices", .array([choice]))])
    }

    private func usageChunk(_ stats: GenerationStatistics) -> JSON {
        .object(
            header(request.kind == .chat ? "chat.completion.chunk" : "text_completion") + [
                ("choices", .array([])), ("usage", usage(stats)), ("timings", timings(stats)),
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
