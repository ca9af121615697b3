import Foundation
import Stretch
import XCTest

/// Locates model files and reference data for tokenizer tests, and caches loaded tokenizers.
///
/// Layout: the repository root is three folders above this file; models live in `<root>/models`
/// (override: `STRETCH_MODELS_DIR`), shared data in `<root>/../shared` (override: `STRETCH_SHARED_DIR`).
/// `stories260K.gguf` is also looked up in `<shared>/models`.
enum TokenizerTestResources {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tokenizer
        .deletingLastPathComponent()  // StretchTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // root

    static var sharedDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["STRETCH_SHARED_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static var modelDirectories: [URL] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["STRETCH_MODELS_DIR"], !env.isEmpty {
            dirs.append(URL(fileURLWithPath: env))
        }
        dirs.append(repositoryRoot.appendingPathComponent("models"))
        dirs.append(sharedDirectory.appendingPathComponent("models"))
        return dirs
    }

    static let stories = "stories260K.gguf"
    static let qwen = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    static let gemma = "gemma-3-270m-q4_k_m.gguf"

    /// Path of a model file; skips loudly when absent (fails under CI), via ``TestFiles``.
    static func modelPath(_ name: String) throws -> String {
        for dir in modelDirectories {
            let path = dir.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return try TestFiles.require(modelDirectories[0].appendingPathComponent(name).path, what: "model \(name)")
    }

    /// Path of a file under the shared directory; skips loudly when absent (fails under CI).
    static func sharedPath(_ relative: String) throws -> String {
        try TestFiles.require(sharedDirectory.appendingPathComponent(relative).path, what: "../shared/\(relative)")
    }

    // nonisolated(unsafe): read and written only under `lock`.
    private nonisolated(unsafe) static var cache: [String: Tokenizer] = [:]
    private static let lock = NSLock()

    /// A tokenizer for a model file (loaded once per test process).
    static func tokenizer(_ name: String) throws -> Tokenizer {
        let path = try modelPath(name)
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[path] { return t }
        let t = try Tokenizer(gguf: GGUFFile(path: path))
        cache[path] = t
        return t
    }

    /// The llama.cpp reference entry for a model key (file name without `.gguf`).
    static func reference(_ modelKey: String) throws -> [String: Any] {
        let path = try sharedPath("models/reference-llama.cpp.json")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root[modelKey] as? [String: Any], "reference json has no entry \(modelKey)")
    }

    /// `token_ids` of a golden `tokens.json`.
    static func goldenTokens(_ relative: String) throws -> [Int] {
        let path = try sharedPath(relative)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["token_ids"] as? [Int])
    }

    /// A text file under the shared directory.
    static func sharedText(_ relative: String) throws -> String {
        let path = try sharedPath(relative)
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Index of the first difference between two id lists, with context, for failure messages.
    static func firstDifference(_ a: [Int], _ b: [Int]) -> String {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] {
            let lo = max(0, i - 5)
            return "first difference at \(i): got \(Array(a[lo..<min(a.count, i + 6)])) expected \(Array(b[lo..<min(b.count, i + 6)]))"
        }
        return a.count == b.count ? "equal" : "lengths \(a.count) vs \(b.count), common prefix equal"
    }
}
