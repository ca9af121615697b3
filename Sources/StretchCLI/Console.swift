import Foundation

/// Unbuffered writes to stdout (generated text) and stderr (progress, timings), so output pipes cleanly.
enum Console {
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    static func error(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}
