import Foundation
import XCTest

/// Locates the shared reference files and the downloaded models for tests.
///
/// `../shared` (beside the repository) holds stories260K and the golden outputs; `models/` (in the
/// repository, filled by `python3 scripts/get_models.py`) holds the PyPI models. Override with
/// `STRETCH_SHARED_DIR` / `STRETCH_MODELS_DIR`. When a file is absent a test is skipped with a loud
/// message, except under CI (`CI=true`), where nothing may be skipped and a missing file fails.
enum TestFiles {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var sharedDirectory: String {
        ProcessInfo.processInfo.environment["STRETCH_SHARED_DIR"]
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared").path
    }

    static var modelsDirectory: String {
        ProcessInfo.processInfo.environment["STRETCH_MODELS_DIR"] ?? repositoryRoot.appendingPathComponent("models").path
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    struct MissingFile: Error, CustomStringConvertible {
        let path: String
        var description: String { "required test file missing under CI: \(path)" }
    }

    /// Returns `path` if it exists; otherwise skips the test (or fails it under CI).
    static func require(_ path: String, what: String) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return path }
        if isCI { throw MissingFile(path: path) }
        let message = "SKIPPED: \(what) not found at \(path) — this test needs it (see README, Tests)"
        FileHandle.standardError.write(Data(("*** " + message + "\n").utf8))
        throw XCTSkip(message)
    }

    static func shared(_ relative: String) throws -> String {
        try require(sharedDirectory + "/" + relative, what: "../shared/\(relative)")
    }

    static func model(_ name: String) throws -> String {
        try require(modelsDirectory + "/" + name, what: "model \(name) (run python3 scripts/get_models.py)")
    }

    static var stories260K: String { get throws { try shared("models/stories260K.gguf") } }
    static var qwen: String { get throws { try model("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf") } }
    static var gemma: String { get throws { try model("gemma-3-270m-q4_k_m.gguf") } }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func floats(_ path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
