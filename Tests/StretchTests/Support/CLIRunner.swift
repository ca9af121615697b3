import Foundation
import XCTest

/// Runs the built `stretch` binary, as a user would, and captures stdout, stderr and the exit code.
enum CLIRunner {
    struct Output {
        let stdout: String
        let stderr: String
        let status: Int32
    }

    static var binary: URL {
        // The test bundle sits in the products directory next to the executable.
        let products = Bundle.allBundles.map(\.bundleURL).first { $0.pathExtension == "xctest" }?.deletingLastPathComponent()
            ?? Bundle.main.bundleURL
        return products.appendingPathComponent("stretch")
    }

    /// Runs `stretch arguments` (or `executable arguments`), with `stdin` as standard input (none: an empty,
    /// closed input).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: String = "", executable: URL? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        process.currentDirectoryURL = TestFiles.repositoryRoot
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let inputWriter = input.fileHandleForWriting
        DispatchQueue.global().async {
            inputWriter.write(Data(stdin.utf8))
            try? inputWriter.close()
        }
        // Read both pipes concurrently so a full pipe never blocks the child.
        let errData = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.data, as: UTF8.self),
                      status: process.terminationStatus)
    }
}

/// The stderr bytes, filled by the reading thread.
// @unchecked: written once by the reader before `group.leave()`, read only after `group.wait()`.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
