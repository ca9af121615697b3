import Dispatch
import Foundation

/// The state and the step loop of a ``BatchEngine``, run on the engine's own thread.
///
/// The thread references only this object, never the engine, so releasing the engine lets the loop drain
/// what was submitted and end.
// @unchecked Sendable: `waiting`, `stopping` and `published` are guarded by `condition`; the slots and the
// requests in them are touched only on the engine thread (`run`).
final class BatchEngineCore: @unchecked Sendable {
    let model: LanguageModel
    let maxWaiting: Int?
    private let slots: [BatchSlot]
    private let condition = NSCondition()
    private var waiting: [BatchRequest] = []
    private var stopping = false
    /// Requests submitted and not yet finished (waiting or in a slot).
    private var inFlight = 0
    private var published: BatchEngineSnapshot
    /// Steps run so far (engine thread).
    private var steps = 0

    init(model: LanguageModel, slots: [BatchSlot], maxWaiting: Int?) {
        self.model = model
        self.slots = slots
        self.maxWaiting = maxWaiting
        published = BatchEngineSnapshot(slots: [], waitingRequests: 0)
        published.slots = slots.map(Self.state(of:))
    }

    // MARK: - Any thread

    /// Queues a request; throws when every slot is taken and `maxWaiting` requests already wait.
    func enqueue(_ request: BatchRequest) throws {
        condition.lock()
        defer { condition.unlock() }
        if let maxWaiting, inFlight >= slots.count + maxWaiting {
            throw GenerationError.queueFull(limit: maxWaiting)
        }
        inFlight += 1
        waiting.append(request)
        published.waitingRequests = waiting.count
        condition.signal()
    }

    /// Wakes the loop (a consumer cancelled; its request may be waiting).
    func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Lets the loop end once every submitted request has finished.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    var snapshot: BatchEngineSnapshot {
        condition.lock()
        defer { condition.unlock() }
        return published
    }

    // MARK: - Engine thread

    func run() {
        while true {
            condition.lock()
            while waiting.isEmpty && !slots.contains(where: { $0.request != nil }) {
                if stopping {
                    condition.unlock()
                    return
                }
                condition.wait()
            }
            // Requests cancelled while waiting end here; the others take free slots in arrival order.
            let dropped = waiting.filter { $0.cancelled.isCancelled }
            waiting.removeAll { $0.cancelled.isCancelled }
            var assigned: [(BatchRequest, BatchSlot)] = []
            while let request = waiting.first, let slot = chooseSlot(for: request) {
                waiting.removeFirst()
                slot.request = request
                assigned.append((request, slot))
            }
            published.waitingRequests = waiting.count
            inFlight -= dropped.count
            condition.unlock()
            for request in dropped {
                request.statistics.stopReason = .cancelled
                request.statistics.queueSeconds = Self.seconds(since: request.submitted)
                request.continuation.yield(.finished(request.statistics))
                request.continuation.finish()
            }
            for (request, slot) in assigned { begin(request, in: slot) }
            step()
            publish()
        }
    }

    /// The idle slot whose cache (made for the request's position map) shares the longest prefix with the
    /// prompt; among equals (no sharing included) the least recently used.
    private func chooseSlot(for request: BatchRequest) -> BatchSlot? {
        var best: (slot: BatchSlot, common: Int)?
        for slot in slots where slot.request == nil {
            let common =
                request.reusePrefix && slot.spec == request.spec
                ? Self.kept(slot, request.prompt, common: Self.commonPrefix(slot.history, request.prompt,
                                                                            limit: slot.cache.count)) : 0
            if let b = best, common < b.common || common == b.common && slot.lastUsed >= b.slot.lastUsed { continue }
            best = (slot, common)
        }
        return best?.slot
    }

    /// How many tokens of `prompt` the slot keeps when it shares `common` with it (what `begin` does): all of
    /// them when they are the whole prompt and its logits are cached; otherwise at least the last prompt token
    /// runs again, for its logits, and a prefix the cache's rings no longer hold is recomputed
    /// (``KVCache/reusablePrefix(upTo:)``), so reuse never changes outputs.
    private static func kept(_ slot: BatchSlot, _ prompt: [Int], common: Int) -> Int {
        if common == prompt.count && common == slot.cache.count && slot.lastLogits != nil { return common }
        return slot.cache.reusablePrefix(upTo: min(common, prompt.count - 1))
    }

    private static func commonPrefix(_ a: [Int], _ b: [Int], limit: Int) -> Int {
        let limit = min(limit, a.count, b.count)
        var n = 0
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }

    /// Brings the slot's cache to the longest prefix it shares with the prompt (as `Session` does), after
    /// giving the slot a cache of the request's position map if it has another.
    private func begin(_ request: BatchRequest, in slot: BatchSlot) {
        steps += 1
        slot.lastUsed = steps
        request.started = DispatchTime.now()
        request.statistics.queueSeconds = Self.seconds(since: request.submitted)
        request.statistics.slot = slot.index
        request.continuation.yield(.assigned(slot: slot.index))
        if slot.spec != request.spec || slot.cache.maxTokens != request.contextSize {
            do {
                slot.cache = try model.network.makeCache(maxTokens: request.contextSize, positions: request.positions)
            } catch {
                // Not expected: the map and the size were checked at submission.
                slot.request = nil
                retire(1)
                request.continuation.finish(throwing: error)
                return
            }
            slot.spec = request.spec
            slot.history = []
            slot.lastLogits = nil
        }
        let prompt = request.prompt
        let common = request.reusePrefix ? Self.commonPrefix(slot.history, prompt, limit: slot.cache.count) : 0
        let reused = Self.kept(slot, prompt, common: common)
        if reused == prompt.count, let logits = slot.lastLogits {
            slot.history = prompt
            request.prefilled = prompt.count
            request.statistics.cachedPromptTokens = common
            request.generationStarted = DispatchTime.now()
            slot.pendingLogits = logits
            return
        }
        slot.cache.truncate(to: reused)
        slot.lastLogits = nil
        slot.pendingLogits = nil
        slot.history = Array(prompt[..<reused])
        request.prefilled = reused
        request.statistics.cachedPromptTokens = reused
    }

    /// Samples what is pending, then runs one batched forward: one token per generating slot and prompt
    /// chunks of prefilling slots, at most `batchSize` tokens in all.
    private func step() {
        for slot in slots where slot.request != nil {
            if slot.pendingLogits != nil { sample(slot) }
            if let request = slot.request, request.cancelled.isCancelled { finish(slot, .cancelled) }
        }
        let batchSize = model.network.batchSize
        var entries: [(tokens: [Int], cache: KVCache)] = []
        var requests: [LogitsRequest] = []
        var members: [BatchSlot] = []
        for slot in slots where slot.isGenerating {
            entries.append(([slot.history.last!], slot.cache))
            requests.append(.last)
            members.append(slot)
        }
        // Prompts in the order their requests got a slot. A chunk shorter than the panel kernel's minimum
        // would take another numeric path than the prompt alone, so a prompt waits for room rather than
        // running such a chunk mid-prompt — except the first one, so that every step makes progress.
        var budget = batchSize - entries.count
        var first = true
        for slot in slots.filter({ $0.request != nil && !$0.isGenerating }).sorted(by: { $0.lastUsed < $1.lastUsed }) {
            let request = slot.request!
            let remaining = request.prompt.count - request.prefilled
            var n = min(remaining, budget)
            if n < min(remaining, MatMul.panelMinTokens) {
                guard first else { continue }
                n = min(remaining, MatMul.panelMinTokens)
            }
            first = false
            budget -= n
            let isLast = n == remaining
            entries.append((Array(request.prompt[request.prefilled..<(request.prefilled + n)]), slot.cache))
            requests.append(isLast ? .last : .none)
            members.append(slot)
        }
        if entries.isEmpty { return }
        let results: [[Float]]
        do {
            results = try model.network.forward(batch: entries, logits: requests)
        } catch {
            // Not expected (prompts and contexts are checked at submission); the slots start over.
            retire(members.filter { $0.request != nil }.count)
            for slot in members {
                slot.cache.clear()
                slot.history = []
                slot.lastLogits = nil
                slot.request?.continuation.finish(throwing: error)
                slot.request = nil
            }
            return
        }
        for (slot, (entry, logits)) in zip(members, zip(entries, results)) {
            guard let request = slot.request else { continue }
            if slot.isGenerating {
                slot.lastLogits = logits
                slot.pendingLogits = logits
                continue
            }
            request.prefilled += entry.tokens.count
            slot.history = Array(request.prompt[..<request.prefilled])
            if request.prefilled == request.prompt.count {
                request.statistics.promptSeconds = Self.seconds(since: request.started)
                request.generationStarted = DispatchTime.now()
                slot.lastLogits = logits
                slot.pendingLogits = logits
            }
        }
    }

    /// One token of `Session`'s decode loop (``TokenGeneration``); the token runs in the next step.
    private func sample(_ slot: BatchSlot) {
        guard let request = slot.request, let logits = slot.pendingLogits else { return }
        slot.pendingLogits = nil
        if request.cancelled.isCancelled { return finish(slot, .cancelled) }
        let continuation = request.continuation
        let step = request.generation.step(
            logits: logits, history: slot.history, cachedTokens: slot.cache.count,
            record: { slot.history.append($0) }, emit: { continuation.yield($0) })
        if let stop = step.stop { return finish(slot, stop) }
        if request.cancelled.isCancelled { return finish(slot, .cancelled) }
        // The cache moves on with the sampled token in the next step.
        slot.lastLogits = nil
    }

    private func finish(_ slot: BatchSlot, _ reason: GenerationStatistics.StopReason) {
        guard let request = slot.request else { return }
        var stats = request.statistics
        stats.stopReason = reason
        if request.prefilled == request.prompt.count {
            let continuation = request.continuation
            request.generation.finish(reason) { continuation.yield($0) }
            stats.generationSeconds = Self.seconds(since: request.generationStarted)
        } else {
            stats.promptSeconds = Self.seconds(since: request.started)
        }
        stats.generatedTokens = request.generation.produced
        slot.request = nil
        slot.pendingLogits = nil
        // A consumer that sees its stream end sees the slot idle (and may submit again at once).
        publish(retiring: 1)
        request.continuation.yield(.finished(stats))
        request.continuation.finish()
    }

    private func publish(retiring finished: Int = 0) {
        let states = slots.map(Self.state(of:))
        condition.lock()
        published.slots = states
        inFlight -= finished
        condition.unlock()
    }

    private func retire(_ count: Int) {
        condition.lock()
        inFlight -= count
        condition.unlock()
    }

    private static func state(of slot: BatchSlot) -> BatchEngineSnapshot.Slot {
        let phase: BatchEngineSnapshot.Slot.Phase =
            slot.request == nil ? .idle : slot.isGenerating ? .generating : .prefilling
        return .init(
            index: slot.index, phase: phase, cachedTokens: slot.cache.count,
            promptTokens: slot.request?.prompt.count ?? 0, generatedTokens: slot.request?.generation.produced ?? 0,
            contextSize: slot.cache.maxTokens, contextExtension: slot.spec)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
