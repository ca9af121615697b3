import Foundation
import XCTest

/// Prompt files as users get them wrong: missing, a folder, not UTF-8; and `-f -` for standard input.
final class InputFileTests: XCTestCase {
    func testBadPromptFilesNameThePathAndTheCause() throws {
        let model = try TestFiles.stories260K
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stretch-input-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("latin1.txt")
        try Data([0x4F, 0x6E, 0x63, 0x65, 0x20, 0xE9, 0x74, 0xE9]).write(to: bad)  // "Once été" in Latin-1
        let cases: [(String, String)] = [
            (bad.path, "\(bad.path): not UTF-8 text: invalid byte sequence at byte offset 5"),
            (dir.appendingPathComponent("missing.txt").path, "missing.txt: no such file"),
            (dir.path, "\(dir.path): a folder, not a file"),
        ]
        for (path, expected) in cases {
            let r = try CLIRunner.run(["generate", "-m", model, "-f", path, "-n", "4"])
            XCTAssertNotEqual(r.status, 0, path)
            XCTAssertTrue(r.stderr.contains(expected), "expected '\(expected)' in:\n\(r.stderr)")
            XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        }
    }

    func testDashReadsThePromptFromStandardInput() throws {
        let model = try TestFiles.stories260K
        let piped = try CLIRunner.run(["generate", "-m", model, "-f", "-", "-n", "12", "--temp", "0"], stdin: "Once upon a time")
        let direct = try CLIRunner.run(["generate", "-m", model, "-p", "Once upon a time", "-n", "12", "--temp", "0"])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stdout, direct.stdout)
        XCTAssertFalse(piped.stdout.isEmpty)
    }
}
