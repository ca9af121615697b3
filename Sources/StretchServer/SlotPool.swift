import Foundation
import Stretch

/// The slots that generate side by side, each one ``Session`` on the shared model, and the bounded
/// FIFO queue of requests waiting for one.
///
/// A request gets the idle slot whose tokens share the longest prefix with its prompt (the session
/// then reuses that prefix), else the least recently used one. This is the only type that knows how
/// requests meet sessions: a batched engine can replace it behind the same `acquire`/`release`.
actor SlotPool {
    /// A slot held by one request until ``release(_:)``.
    struct Lease: Sendable {
        let slot: Int
        let session: Session
    }

    /// What `/slots` and `/metrics` show of a slot.
    struct SlotInfo: Sendable {
        let id: Int
        let contextSize: Int
        let busy: Bool
        let tokens: Int
        let contextExtension: String
    }

    private struct Slot {
        let id: Int
        var session: Session
        var spec: String
        var busy = false
        var lastUsed: UInt64 = 0
    }

    private let model: LanguageModel
    private let configuredContext: Int?
    private let queueSize: Int
    private var slots: [Slot] = []
    private var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Int, Error>)] = []
    private var nextTicket: UInt64 = 0
    private var clock: UInt64 = 0

    /// Opens `count` sessions with the position map `spec`.
    init(model: LanguageModel, count: Int, spec: String, contextSize: Int?, queueSize: Int) throws {
        self.model = model
        configuredContext = contextSize
        self.queueSize = queueSize
        for id in 0..<count {
            let session = try Self.makeSession(model: model, spec: spec, contextSize: contextSize)
            slots.append(Slot(id: id, session: session, spec: spec))
        }
    }

    /// A session for `spec`: the configured context size when the map allows it, else the map's limit.
    static func makeSession(model: LanguageModel, spec: String, contextSize: Int?) throws -> Session {
        try Session(
            model: model, positions: PositionSpec.parse(spec, trainedContext: model.trainedContext),
            contextSize: contextLimit(model: model, spec: spec, contextSize: contextSize))
    }

    /// Tokens a slot made for `spec` holds.
    static func contextLimit(model: LanguageModel, spec: String, contextSize: Int?) throws -> Int {
        let positions = try PositionSpec.parse(spec, trainedContext: model.trainedContext)
        let widest = try ContextPlan(trainedContext: model.trainedContext, requested: nil, positions: positions)
        guard let contextSize, contextSize > 0 else { return widest.contextSize }
        return min(contextSize, widest.contextSize)
    }

    /// Slots in all.
    var count: Int { slots.count }

    /// Requests waiting for a slot.
    var queued: Int { waiters.count }

    /// The slots as they are now.
    func snapshot() -> [SlotInfo] {
        slots.map {
            SlotInfo(
                id: $0.id, contextSize: $0.session.contextSize, busy: $0.busy, tokens: $0.session.tokens.count,
                contextExtension: $0.spec)
        }
    }

    /// Takes a slot for `prompt` with the position map `spec`, waiting in the queue (at most `timeout`
    /// seconds) when all are busy; throws 503 when the queue is full or the wait times out.
    func acquire(prompt: [Int], spec: String, timeout: Double) async throws -> Lease {
        let id: Int
        if let idle = bestIdleSlot(for: prompt, spec: spec) {
            id = idle
        } else {
            guard waiters.count < queueSize else {
                throw APIError.unavailable(
                    "all \(slots.count) slots are busy and the queue (\(queueSize)) is full; retry later", retryAfter: 1
                )
            }
            id = try await wait(timeout: timeout)
        }
        slots[id].busy = true
        clock += 1
        slots[id].lastUsed = clock
        if slots[id].spec != spec {
            do {
                slots[id].session = try Self.makeSession(model: model, spec: spec, contextSize: configuredContext)
                slots[id].spec = spec
            } catch {
                release(id)
                throw APIError.badRequest("invalid 'context_extension' \(spec): \(error)")
            }
        }
        return Lease(slot: id, session: slots[id].session)
    }

    /// Gives the slot back: to the first request waiting, else to the idle set.
    func release(_ id: Int) {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: id)
        } else {
            slots[id].busy = false
        }
    }

    private func bestIdleSlot(for prompt: [Int], spec: String) -> Int? {
        var best: (id: Int, common: Int, lastUsed: UInt64)?
        for slot in slots where !slot.busy {
            var common = 0
            if slot.spec == spec {
                let tokens = slot.session.tokens
                let limit = min(tokens.count, prompt.count)
                while common < limit && tokens[common] == prompt[common] { common += 1 }
            }
            if let b = best, common < b.common || (common == b.common && slot.lastUsed >= b.lastUsed) { continue }
            best = (slot.id, common, slot.lastUsed)
        }
        return best?.id
    }

    private func wait(timeout: Double) async throws -> Int {
        let ticket = nextTicket
        nextTicket += 1
        let timer = Task { [weak self] in
            try await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
            await self?.drop(
                ticket, error: APIError.unavailable("no slot became free within \(Int(timeout)) s", retryAfter: 1))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((ticket, continuation))
                }
            }
        } onCancel: {
            Task { await self.drop(ticket, error: CancellationError()) }
        }
    }

    private func drop(_ ticket: UInt64, error: Error) {
        guard let k = waiters.firstIndex(where: { $0.ticket == ticket }) else { return }
        waiters.remove(at: k).continuation.resume(throwing: error)
    }
}
