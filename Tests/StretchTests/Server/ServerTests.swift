import Foundation
import Stretch
import XCTest

/// `stretch serve` run as a user runs it, spoken to over HTTP on the loopback interface.
final class ServerTests: XCTestCase {
    private func greedy(_ model: LanguageModel, _ prompt: String, tokens: Int) async throws -> String {
        let session = try Session(model: model)
        var text = ""
        for try await event in session.generate(
            text: prompt, parameters: GenerationParameters(maxTokens: tokens, sampling: .greedy))
        { text += event.text }
        return text
    }

    private func assertError(
        _ r: HTTPReply, _ status: Int, _ type: String, _ needle: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
        let error = r.json["error"] as? [String: Any] ?? [:]
        XCTAssertEqual(error["code"] as? Int, status, r.text, file: file, line: line)
        XCTAssertEqual(error["type"] as? String, type, r.text, file: file, line: line)
        XCTAssertTrue(
            (error["message"] as? String ?? "").contains(needle), "'\(needle)' not in \(r.text)", file: file, line: line
        )
    }

    /// Completions (OpenAI and llama.cpp shapes), whole and streamed, equal the Session API's greedy text;
    /// the small endpoints; metrics; error cases.
    func testStories260KCompletionsEndpointsAndErrors() async throws {
        let path = try TestFiles.stories260K
        let server = try ServerProcess(["-m", path, "-np", "2", "--slots", "--metrics", "--max-body-size", "4096"])
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        let prompt = "Once upon a time"
        let expected = try await greedy(LanguageModel(path: path), prompt, tokens: 24)
        XCTAssertFalse(expected.isEmpty)

        let health = try server.request("GET", "/health")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.json["status"] as? String, "ok")

        let llama = try server.post("/completion", ["prompt": prompt, "n_predict": 24, "temperature": 0])
        XCTAssertEqual(llama.status, 200, llama.text)
        XCTAssertEqual(llama.json["content"] as? String, expected)
        XCTAssertEqual(llama.json["tokens_predicted"] as? Int, 24)
        XCTAssertEqual(llama.json["stop_type"] as? String, "limit")
        XCTAssertNotNil((llama.json["timings"] as? [String: Any])?["predicted_per_second"])

        let streamed = try server.post(
            "/completion", ["prompt": prompt, "n_predict": 24, "temperature": 0, "stream": true])
        XCTAssertEqual(streamed.headers["content-type"], "text/event-stream")
        let chunks = streamed.eventObjects
        XCTAssertEqual(chunks.last?["stop"] as? Bool, true)
        XCTAssertEqual(chunks.dropLast().map { $0["content"] as? String ?? "" }.joined(), expected)

        let openAI = try server.post(
            "/v1/completions", ["prompt": prompt, "max_tokens": 24, "temperature": 0, "model": "x"])
        XCTAssertEqual(openAI.status, 200, openAI.text)
        XCTAssertEqual(openAI.json["object"] as? String, "text_completion")
        XCTAssertTrue((openAI.json["id"] as? String ?? "").hasPrefix("cmpl-"))
        let choice = (openAI.json["choices"] as? [[String: Any]])?.first ?? [:]
        XCTAssertEqual(choice["text"] as? String, expected)
        XCTAssertEqual(choice["finish_reason"] as? String, "length")
        let usage = openAI.json["usage"] as? [String: Any] ?? [:]
        XCTAssertEqual(usage["prompt_tokens"] as? Int, 5)
        XCTAssertEqual(usage["completion_tokens"] as? Int, 24)
        XCTAssertEqual(usage["total_tokens"] as? Int, 29)
        XCTAssertNotNil((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"])

        let openAIStream = try server.post(
            "/v1/completions",
            [
                "prompt": prompt, "max_tokens": 24, "temperature": 0, "stream": true,
                "stream_options": ["include_usage": true],
            ])
        XCTAssertEqual(openAIStream.events.last, "[DONE]")
        let objects = openAIStream.eventObjects
        let texts = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
        XCTAssertEqual(texts.joined(), expected)
        XCTAssertEqual((objects.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int, 24)
        let reasons = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        XCTAssertEqual(reasons, ["length"])

        // Stop strings end the text before them.
        let stopped = try server.post(
            "/completion", ["prompt": prompt, "n_predict": 24, "temperature": 0, "stop": ["Lily"]])
        XCTAssertEqual(stopped.json["stop_type"] as? String, "word")
        XCTAssertFalse((stopped.json["content"] as? String ?? "Lily").contains("Lily"))

        // Small endpoints.
        let tokens = try server.post("/tokenize", ["content": prompt, "add_special": true])
        XCTAssertEqual(tokens.json["tokens"] as? [Int], [1, 403, 407, 261, 378])
        let pieces = try server.post("/tokenize", ["content": "Once upon", "with_pieces": true])
        XCTAssertEqual(
            (pieces.json["tokens"] as? [[String: Any]])?.map { $0["piece"] as? String ?? "" }, [" Once", " upon"])
        let text = try server.post("/detokenize", ["tokens": [403, 407, 261, 378]])
        XCTAssertEqual(text.json["content"] as? String, prompt)
        let models = try server.request("GET", "/v1/models")
        let entry = (models.json["data"] as? [[String: Any]])?.first ?? [:]
        XCTAssertEqual(entry["id"] as? String, "stories260K.gguf")
        XCTAssertEqual((entry["meta"] as? [String: Any])?["n_ctx_train"] as? Int, 512)
        XCTAssertEqual((entry["meta"] as? [String: Any])?["n_ctx"] as? Int, 512)
        XCTAssertEqual(try server.request("GET", "/props").json["total_slots"] as? Int, 2)
        let slots = try server.request("GET", "/slots")
        XCTAssertEqual((try JSONSerialization.jsonObject(with: slots.body) as? [[String: Any]])?.count, 2)
        let metrics = try server.request("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        for name in [
            "stretch_prompt_tokens_total", "stretch_tokens_predicted_total", "stretch_requests_processing 0",
            "stretch_requests_deferred 0", "stretch_requests_cancelled_total", "stretch_requests_rejected_total",
            "stretch_time_to_first_token_seconds_bucket", "stretch_request_duration_seconds_count",
        ] {
            XCTAssertTrue(metrics.text.contains(name), "\(name) missing:\n\(metrics.text)")
        }

        // Errors: JSON shape, status and a message naming the problem.
        assertError(
            try server.request("POST", "/completion", json: "{not json"), 400, "invalid_request_error", "not valid JSON"
        )
        assertError(
            try server.post("/completion", ["prompt": prompt, "temperature": "hot"]), 400, "invalid_request_error",
            "'temperature' must be a number")
        assertError(try server.post("/completion", ["n_predict": 4]), 400, "invalid_request_error", "'prompt'")
        assertError(
            try server.post("/completion", ["prompt": prompt, "top_p": 1.5]), 400, "invalid_request_error",
            "invalid 'top_p' 1.5")
        assertError(try server.post("/v1/chat/completions", ["model": "x"]), 400, "invalid_request_error", "'messages'")
        assertError(
            try server.post("/v1/chat/completions", ["messages": [["role": "wizard", "content": "hi"]]]), 400,
            "invalid_request_error", "role 'wizard' is unknown")
        assertError(
            try server.post(
                "/v1/chat/completions",
                [
                    "messages": [["role": "user", "content": "hi"]],
                    "tools": [["type": "function"]],
                ]), 501, "not_supported_error", "'tools'")
        assertError(try server.post("/v1/completions", ["prompt": prompt, "n": 2]), 501, "not_supported_error", "'n'")
        assertError(
            try server.post("/v1/completions", ["prompt": prompt, "logprobs": 6]), 400, "invalid_request_error",
            "'logprobs' must be in 0...5")
        assertError(
            try server.post("/v1/chat/completions", ["messages": [["role": "user", "content": "hi"]], "top_logprobs": 3]),
            400, "invalid_request_error", "'top_logprobs' needs 'logprobs': true")
        assertError(
            try server.post("/completion", ["prompt": prompt, "logit_bias": [["99999", 1]]]), 400,
            "invalid_request_error", "outside the vocabulary")
        assertError(
            try server.post("/completion", ["prompt": prompt, "presence_penalty": "much"]), 400,
            "invalid_request_error", "'presence_penalty' must be a number")
        assertError(
            try server.post("/completion", ["prompt": prompt, "response_format": ["type": "json_object"]]), 501,
            "not_supported_error", "'response_format'")
        assertError(try server.post("/completion", ["prompt": [1, 99999]]), 400, "invalid_request_error", "99999")
        assertError(
            try server.post("/completion", ["prompt": String(repeating: "x", count: 5000)]), 413,
            "invalid_request_error", "larger than 4096 bytes")
        assertError(try server.request("GET", "/nowhere"), 404, "not_found_error", "/nowhere")
    }

    /// A 2,000-token prompt fits with Self-Extend (G=8, W=256 reaches 2,304 tokens on L=512) and gives
    /// `stretch generate`'s tokens; without an extension it is refused before any work, naming both sizes.
    func testSelfExtendLongPromptMatchesGenerateAndPlainIsRefused() throws {
        let path = try TestFiles.stories260K
        let long = String(repeating: "Once upon a time there was a dog. The dog liked to play in the park. ", count: 86)
        let file = NSTemporaryDirectory() + "stretch-serve-long-\(UUID().uuidString).txt"
        try Data(long.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let cli = try CLIRunner.run([
            "generate", "-m", path, "-f", file, "-gan", "8", "-gaw", "256", "--temp", "0", "-n", "16",
        ])
        XCTAssertEqual(cli.status, 0, cli.stderr)

        let extended = try ServerProcess(["-m", path, "-gan", "8", "-gaw", "256"])
        let r = try extended.post("/completion", ["prompt": long, "n_predict": 16, "temperature": 0])
        XCTAssertEqual(r.status, 200, r.text)
        let evaluated = r.json["tokens_evaluated"] as? Int ?? 0
        XCTAssertTrue((1900...2300).contains(evaluated), "prompt tokens: \(evaluated)")
        XCTAssertEqual((r.json["content"] as? String ?? "") + "\n", cli.stdout)
        // The start-up lines name the effective context and the KV cache per slot, as `generate` does.
        XCTAssertTrue(extended.stderr.contains("context: 2304 tokens (trained L=512; self-extend"), extended.stderr)
        XCTAssertTrue(extended.stderr.contains("KV cache: K f16, V f16"), extended.stderr)
        XCTAssertTrue(extended.stderr.contains("tokens (allocated as the sequence grows), per slot × 1 slot(s)"),
                      extended.stderr)
        XCTAssertEqual(extended.stop(), 0, extended.stderr)

        let plain = try ServerProcess(["-m", path])
        let refused = try plain.post("/completion", ["prompt": long, "n_predict": 16])
        XCTAssertEqual(refused.status, 400, refused.text)
        let message = (refused.json["error"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("\(evaluated) tokens") && message.contains("512 tokens"), message)
        XCTAssertTrue(message.contains("self-extend:G="), message)
        // The same server serves the request when it names a context extension that fits.
        let perRequest = try plain.post(
            "/completion",
            ["prompt": long, "n_predict": 16, "temperature": 0, "context_extension": "self-extend:G=8:W=256"])
        XCTAssertEqual(perRequest.status, 200, perRequest.text)
        XCTAssertEqual((perRequest.json["content"] as? String ?? "") + "\n", cli.stdout)
        XCTAssertEqual(plain.stop(), 0, plain.stderr)
    }

    /// A request naming `"context_extension": "dca"` past the trained window gets a slot of the server's
    /// `-c` (DCA has no length limit) and the text `stretch generate --context-extension dca` gives.
    func testPerRequestDualChunkPastTheWindowEqualsGenerate() throws {
        let path = try TestFiles.stories260K
        let long = String(repeating: "Once upon a time there was a dog. The dog liked to play in the park. ", count: 40)
        let file = NSTemporaryDirectory() + "stretch-serve-dca-\(UUID().uuidString).txt"
        try Data(long.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let cli = try CLIRunner.run([
            "generate", "-m", path, "-f", file, "--context-extension", "dca", "-c", "1200", "--temp", "0", "-n", "16",
        ])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        let server = try ServerProcess(["-m", path, "-c", "1200"])
        let r = try server.post(
            "/completion", ["prompt": long, "n_predict": 16, "temperature": 0, "context_extension": "dca"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertGreaterThan(r.json["tokens_evaluated"] as? Int ?? 0, 512)
        XCTAssertEqual((r.json["content"] as? String ?? "") + "\n", cli.stdout)
        XCTAssertEqual(server.stop(), 0, server.stderr)
    }

    /// --api-key: 401 without or with a wrong key, 200 with it; /health and /v1/models stay open.
    func testAPIKey() throws {
        let server = try ServerProcess(["-m", try TestFiles.stories260K, "--api-key", "sk-test-123"])
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        let body: [String: Any] = ["prompt": "Once", "n_predict": 2]
        XCTAssertEqual(try server.request("GET", "/health").status, 200)
        XCTAssertEqual(try server.request("GET", "/v1/models").status, 200)
        assertError(try server.post("/completion", body), 401, "authentication_error", "Invalid API Key")
        assertError(
            try server.post("/completion", body, headers: ["Authorization": "Bearer sk-test-12"]), 401,
            "authentication_error", "Invalid API Key")
        assertError(try server.request("GET", "/props"), 401, "authentication_error", "Invalid API Key")
        XCTAssertEqual(
            try server.post("/completion", body, headers: ["Authorization": "Bearer sk-test-123"]).status, 200)
    }

    /// Qwen's chat template: chat whole and streamed equal ChatSession's greedy reply; with one slot and no
    /// queue a second request gets 503 + Retry-After; a client leaving mid-stream frees the slot.
    func testQwenChatQueueFullAndDisconnect() async throws {
        let path = try TestFiles.qwen
        let server = try ServerProcess([
            "-m", path, "-c", "2048", "-np", "1", "--queue-size", "0", "--slots", "--metrics",
        ])
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        let system = "You are a helpful assistant."
        let question = "What is the capital of France? Answer in one word."
        let model = try LanguageModel(path: path)
        let chat = ChatSession(session: try Session(model: model, contextSize: 2048), systemPrompt: system)
        var expected = ""
        for try await event in chat.respond(
            to: question, parameters: GenerationParameters(maxTokens: 16, sampling: .greedy))
        {
            expected += event.text
        }
        XCTAssertTrue(expected.contains("Paris"), expected)
        let messages: [[String: Any]] = [
            ["role": "system", "content": system], ["role": "user", "content": [["type": "text", "text": question]]],
        ]
        let whole = try server.post("/v1/chat/completions", ["messages": messages, "max_tokens": 16, "temperature": 0])
        XCTAssertEqual(whole.status, 200, whole.text)
        XCTAssertEqual(whole.json["object"] as? String, "chat.completion")
        XCTAssertTrue((whole.json["id"] as? String ?? "").hasPrefix("chatcmpl-"))
        let choice = (whole.json["choices"] as? [[String: Any]])?.first ?? [:]
        XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, expected)
        XCTAssertEqual((choice["message"] as? [String: Any])?["role"] as? String, "assistant")
        XCTAssertEqual(choice["finish_reason"] as? String, "stop")

        let streamed = try server.post(
            "/v1/chat/completions", ["messages": messages, "max_tokens": 16, "temperature": 0, "stream": true])
        XCTAssertEqual(streamed.events.last, "[DONE]")
        let deltas = streamed.eventObjects.compactMap {
            ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
        }
        XCTAssertEqual(deltas.first?["role"] as? String, "assistant")
        XCTAssertEqual(deltas.compactMap { $0["content"] as? String }.joined(), expected)

        let template = try server.post("/apply-template", ["messages": messages])
        XCTAssertTrue((template.json["prompt"] as? String ?? "").hasSuffix("<|im_start|>assistant\n"), template.text)

        // A long generation holds the only slot; the queue takes none.
        let long = try JSONSerialization.data(withJSONObject: [
            "messages": [["role": "user", "content": "Count from 1 to 1000."]], "max_tokens": 1000, "ignore_eos": true,
            "stream": true,
        ])
        let fd = try HTTPReply.open("POST", "/v1/chat/completions", port: server.port, body: long)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var first = ""
        while first.components(separatedBy: "data: ").count <= 3 {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            first += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 200"), first)
        let busy = try server.post("/v1/chat/completions", ["messages": messages, "max_tokens": 4])
        assertError(busy, 503, "unavailable_error", "queue")
        XCTAssertEqual(busy.headers["retry-after"], "1")
        let slotsBusy = try server.request("GET", "/slots")
        XCTAssertEqual(
            ((try JSONSerialization.jsonObject(with: slotsBusy.body) as? [[String: Any]])?.first)?["is_processing"]
                as? Bool, true)

        // The client leaves mid-stream: the slot is freed and the next request is served.
        close(fd)
        var idle = false
        for _ in 0..<100 where !idle {
            let slots = try server.request("GET", "/slots")
            idle =
                ((try JSONSerialization.jsonObject(with: slots.body) as? [[String: Any]])?.first)?["is_processing"]
                as? Bool == false
            if !idle { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(idle, "the slot stayed busy after the client left")
        // A client waiting for a whole (non-streamed) answer leaves too: the connection's closing cancels it.
        let longWhole = try JSONSerialization.data(withJSONObject: [
            "messages": [["role": "user", "content": "Count from 1 to 1000."]], "max_tokens": 1000, "ignore_eos": true,
        ])
        let waiting = try HTTPReply.open("POST", "/v1/chat/completions", port: server.port, body: longWhole)
        var started = false
        for _ in 0..<100 where !started {
            started = try slotIsProcessing(server)
            if !started { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        XCTAssertTrue(started, "the non-streamed request never took the slot")
        close(waiting)
        var freed = false
        for _ in 0..<100 where !freed {
            freed = try !slotIsProcessing(server)
            if !freed { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(freed, "the slot stayed busy after a non-streaming client left")
        let after = try server.post("/v1/chat/completions", ["messages": messages, "max_tokens": 16, "temperature": 0])
        XCTAssertEqual(after.status, 200, after.text)
        XCTAssertEqual(
            ((after.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String,
            expected)
        let metrics = try server.request("GET", "/metrics").text
        XCTAssertTrue(metrics.contains("stretch_requests_cancelled_total 2"), metrics)
        XCTAssertTrue(metrics.contains("stretch_requests_rejected_total 1"), metrics)
    }

    /// The server listens before its model loads: /health and every endpoint answer 503 "Loading model"
    /// until it is ready, then 200.
    func testHealthIsUnavailableWhileTheModelLoads() throws {
        let server = try ServerProcess(
            ["-m", try TestFiles.stories260K], environment: ["STRETCH_SERVE_LOAD_DELAY": "3"], waitForModel: false)
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        assertError(try server.request("GET", "/health"), 503, "unavailable_error", "Loading model")
        assertError(try server.post("/completion", ["prompt": "Once"]), 503, "unavailable_error", "Loading model")
        try server.waitUntilLoaded()
        XCTAssertEqual(try server.request("GET", "/health").status, 200)
    }

    /// Log-probabilities in the three response shapes equal a naive log-softmax of the model's logits; a
    /// `logit_bias` ban gives the second most likely token; presence and frequency penalties give the
    /// Session API's output for the same parameters.
    func testLogprobsLogitBiasAndPenalties() async throws {
        let path = try TestFiles.stories260K
        let model = try LanguageModel(path: path)
        let server = try ServerProcess(["-m", path, "-np", "2"])
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        let prompt = "Once upon a time"
        let ids = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        let vocab = model.network.config.vocabularySize
        let cache = try model.network.makeCache(maxTokens: 64, positions: PlainPositions())
        let row = try model.network.forward(ids, cache: cache, logits: .last)
        let z = log(row.map { exp(Double($0)) }.reduce(0, +))
        let order = row.indices.sorted { row[$0] > row[$1] }

        let llama = try server.post("/completion", ["prompt": prompt, "n_predict": 1, "temperature": 0, "n_probs": 3])
        let probs = try XCTUnwrap(llama.json["completion_probabilities"] as? [[String: Any]], llama.text)
        XCTAssertEqual(probs.first?["id"] as? Int, order[0])
        XCTAssertEqual(try XCTUnwrap(probs.first?["logprob"] as? Double), Double(row[order[0]]) - z, accuracy: 1e-3)
        let top = try XCTUnwrap(probs.first?["top_logprobs"] as? [[String: Any]])
        XCTAssertEqual(top.map { $0["id"] as? Int }, order.prefix(3).map { $0 })
        for (entry, id) in zip(top, order) {
            XCTAssertEqual(try XCTUnwrap(entry["logprob"] as? Double), Double(row[id]) - z, accuracy: 1e-3)
        }

        let oai = try server.post("/v1/completions", ["prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": 2])
        let lp = try XCTUnwrap((oai.json["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any], oai.text)
        XCTAssertEqual(
            try XCTUnwrap((lp["token_logprobs"] as? [Double])?.first), Double(row[order[0]]) - z, accuracy: 1e-3)
        XCTAssertEqual((lp["top_logprobs"] as? [[String: Double]])?.first?.count, 2)

        // Banning the most likely token leaves the second.
        let banned = try server.post(
            "/completion",
            ["prompt": prompt, "n_predict": 1, "temperature": 0, "logit_bias": [[order[0], false]]])
        XCTAssertEqual(banned.json["tokens"] as? [Int], [order[1]], banned.text)
        let biased = try server.post(
            "/completion", ["prompt": prompt, "n_predict": 1, "temperature": 0, "logit_bias": ["\(order[2])": 100]])
        XCTAssertEqual(biased.json["tokens"] as? [Int], [order[2]], biased.text)
        XCTAssertLessThan(order[0], vocab)

        // Penalties: as the Session API with the same parameters (20 tokens, so that repeats occur).
        var parameters = GenerationParameters(maxTokens: 20, sampling: .greedy)
        parameters.sampling.presencePenalty = 10
        parameters.sampling.frequencyPenalty = 1
        var expected = ""
        for try await event in try Session(model: model).generate(text: prompt, parameters: parameters) {
            expected += event.text
        }
        var plain = ""
        for try await event in try Session(model: model).generate(
            text: prompt, parameters: GenerationParameters(maxTokens: 20, sampling: .greedy))
        { plain += event.text }
        XCTAssertNotEqual(expected, plain, "the penalties must change this output for the test to mean anything")
        let penalized = try server.post(
            "/v1/completions",
            [
                "prompt": prompt, "max_tokens": 20, "temperature": 0, "presence_penalty": 10,
                "frequency_penalty": 1,
            ])
        XCTAssertEqual((penalized.json["choices"] as? [[String: Any]])?.first?["text"] as? String, expected)
    }

    /// CORS: no headers for any origin unless named; a named origin gets them, and its preflight a 204.
    func testCORSIsOffUnlessOriginsAreNamed() throws {
        let path = try TestFiles.stories260K
        let closed = try ServerProcess(["-m", path])
        let reply = try closed.request("GET", "/health", headers: ["Origin": "http://app.example"])
        XCTAssertNil(reply.headers["access-control-allow-origin"], "\(reply.headers)")
        XCTAssertEqual(try closed.request("OPTIONS", "/v1/completions", headers: ["Origin": "http://app.example"]).status, 404)
        XCTAssertEqual(closed.stop(), 0)
        let open = try ServerProcess(["-m", path, "--cors-origin", "http://app.example"])
        defer { XCTAssertEqual(open.stop(), 0, open.stderr) }
        let preflight = try open.request("OPTIONS", "/v1/completions", headers: ["Origin": "http://app.example"])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["access-control-allow-origin"], "http://app.example")
        let other = try open.request("GET", "/health", headers: ["Origin": "http://evil.example"])
        XCTAssertNil(other.headers["access-control-allow-origin"])
        let named = try open.request("GET", "/health", headers: ["Origin": "http://app.example"])
        XCTAssertEqual(named.headers["access-control-allow-origin"], "http://app.example")
    }

    /// Disconnects while queued and while the prompt runs: the queued request leaves the queue, the slot
    /// in its prompt is freed within an engine step, the metrics count both, and the next request is served.
    func testDisconnectWhileQueuedAndDuringThePrompt() async throws {
        let path = try TestFiles.qwen
        let server = try ServerProcess(["-m", path, "-c", "2048", "-np", "1", "--queue-size", "2", "--slots", "--metrics"])
        defer { XCTAssertEqual(server.stop(), 0, server.stderr) }
        func metric(_ name: String) throws -> Int {
            let line = try server.request("GET", "/metrics").text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return Int(Double(line?.split(separator: " ").last ?? "") ?? -1)
        }
        func slot() throws -> [String: Any] {
            (try JSONSerialization.jsonObject(with: try server.request("GET", "/slots").body) as? [[String: Any]])?.first ?? [:]
        }
        func until(_ what: String, _ condition: () throws -> Bool) async throws {
            for _ in 0..<300 {
                if try condition() { return }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            XCTFail("timed out waiting until \(what)")
        }
        let long = try JSONSerialization.data(withJSONObject: [
            "messages": [["role": "user", "content": "Count from 1 to 1000."]], "max_tokens": 1000, "ignore_eos": true,
            "stream": true,
        ])
        let running = try HTTPReply.open("POST", "/v1/chat/completions", port: server.port, body: long)
        try await until("the slot generates") { try slot()["state"] as? String == "generating" }
        // Queued: it waits, then its client leaves; the queue empties while the slot keeps generating.
        let queued = try HTTPReply.open(
            "POST", "/completion", port: server.port, body: Data(#"{"prompt": "Hello", "n_predict": 4}"#.utf8))
        try await until("the request waits") { try metric("stretch_requests_deferred") == 1 }
        close(queued)
        try await until("the queue empties") { try metric("stretch_requests_deferred") == 0 }
        XCTAssertEqual(try slot()["state"] as? String, "generating")
        close(running)
        try await until("the slot is idle") { try slot()["state"] as? String == "idle" }
        // During the prompt: ~1,700 tokens take seconds; the client leaves while they run.
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 170)
        let prompt = try JSONSerialization.data(withJSONObject: ["prompt": text, "n_predict": 4])
        let prefilling = try HTTPReply.open("POST", "/completion", port: server.port, body: prompt)
        try await until("the prompt runs") { try slot()["state"] as? String == "prefilling" }
        close(prefilling)
        try await until("the slot is idle") { try slot()["state"] as? String == "idle" }
        XCTAssertLessThan(try XCTUnwrap(slot()["n_past"] as? Int), 1_700, "the prompt was stopped part way")
        let next = try server.post("/completion", ["prompt": "The capital of France is", "n_predict": 4, "temperature": 0])
        XCTAssertEqual(next.status, 200, next.text)
        XCTAssertEqual(next.json["tokens_predicted"] as? Int, 4)
        try await until("three cancellations are counted") { try metric("stretch_requests_cancelled_total") == 3 }
    }

    private func slotIsProcessing(_ server: ServerProcess) throws -> Bool {
        let slots = try server.request("GET", "/slots")
        return ((try JSONSerialization.jsonObject(with: slots.body) as? [[String: Any]])?.first)?["is_processing"]
            as? Bool == true
    }
}
