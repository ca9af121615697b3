import ArgumentParser
import Foundation
import Stretch
import StretchEvaluation

/// File reading and writing shared by the evaluation commands, with errors that name the file.
enum CommandSupport {
    /// Reads a UTF-8 text file (`-`: standard input), naming the path and the cause in words on failure:
    /// a missing file, a folder, an unreadable file, or the byte offset of the first invalid UTF-8.
    static func readText(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw EvaluationError.unreadableInput(path: path, reason: "no such file")
            }
            if isFolder.boolValue { throw EvaluationError.unreadableInput(path: path, reason: "a folder, not a file") }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw EvaluationError.unreadableInput(path: path, reason: "the file cannot be read (permissions?)")
            }
            data = contents
        }
        if let text = String(validating: data, as: UTF8.self) { return text }
        throw EvaluationError.unreadableInput(
            path: path == "-" ? "standard input" : path,
            reason: "not UTF-8 text: invalid byte sequence at byte offset \(firstInvalidUTF8Offset(data))")
    }

    /// Offset of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0
            guard length > 0, i + length <= bytes.count,
                  String(validating: bytes[i..<(i + length)], as: UTF8.self) != nil else { return i }
            i += length
        }
        return bytes.count
    }

    /// Reads a JSON array of token ids, checking each against the vocabulary.
    static func readTokenIDs(_ path: String, vocabularySize: Int) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.unreadableInput(path: path, reason: "file not found or unreadable")
        }
        guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw EvaluationError.unreadableInput(
                path: path, reason: "expected a JSON array of token ids such as [1, 403, 407]")
        }
        return try array.enumerated().map { k, v in
            guard let n = v as? NSNumber, let id = Int(exactly: n.doubleValue), id >= 0, id < vocabularySize else {
                throw EvaluationError.unreadableInput(
                    path: path, reason: "item \(k) (\(v)) is not a token id in 0..<\(vocabularySize)")
            }
            return id
        }
    }

    /// Writes `text` to `path`, creating parent folders.
    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        } catch {
            throw EvaluationError.unwritableOutput(path: path, reason: error.localizedDescription)
        }
    }

    /// Notes, on stderr, each scheme's start-up lines for a run needing `requested` tokens: its effective
    /// context (``ContextPlan/summary``), its KV cache (types, bytes per token, the most it takes), and its
    /// context warning if any (for example plain attention past the trained context), followed by `suffix`.
    static func noteContext(
        _ schemes: [ContextScheme], model: LlamaModel, requested: Int, quiet: Bool, suffix: String = ""
    ) throws {
        let notes = ProgressReporter(total: 0, quiet: quiet)
        let L = model.config.contextLength
        for s in schemes {
            let plan = try ContextPlan(trainedContext: L, requested: requested, positions: s.positions)
            notes.note("\(s.spec): \(plan.summary)")
            notes.note("\(s.spec): \(ContextOptions.kvSummary(model, positions: s.positions, tokens: plan.contextSize))")
            if let w = ErrorHints.warning(plan, positions: s.positions) { notes.note("\(s.spec): \(w)\(suffix)") }
        }
    }

    /// Runs `body` for each scheme in turn under one progress line over all of them (`tokensPerScheme`
    /// each); `body` gets the scheme and a callback for the tokens done within it. Results in order.
    static func forEachScheme<R>(
        _ schemes: [ContextScheme], tokensPerScheme: Int, progress: ProgressReporter,
        _ body: (ContextScheme, @escaping (Int) -> Void) throws -> R
    ) rethrows -> [R] {
        var results: [R] = []
        for (k, s) in schemes.enumerated() {
            let offset = k * tokensPerScheme
            results.append(try body(s) { done in progress.update(offset + done, label: s.spec) })
        }
        return results
    }
}
