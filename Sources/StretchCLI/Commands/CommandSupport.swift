import ArgumentParser
import Foundation
import Stretch

/// File reading and writing shared by the evaluation commands, with errors that name the file.
enum CommandSupport {
    /// Reads a UTF-8 text file.
    static func readText(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw EvaluationError.unreadableInput(
                path: path, reason: "not a readable UTF-8 text file (\(error.localizedDescription))")
        }
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
}
