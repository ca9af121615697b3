import Foundation
import Stretch

/// Progress of a long job on stderr: `label: done/total tokens, rate, ETA`, redrawn in place.
///
/// Live updates appear only on an interactive terminal, not with `quiet`, and only once the job has run
/// for ``delay`` seconds (short jobs stay silent). Written to a file or pipe (a long run under `nohup`), a
/// plain progress line appears every ``logInterval`` seconds instead, so a log shows how far an hour-long
/// 64k-token run has come. A final summary line is always written unless quiet.
// @unchecked: the drawing state is mutable and unlocked; a reporter is used by one thread at a time (its run loop).
public final class ProgressReporter: @unchecked Sendable {
    /// What is being counted (e.g. "tokens").
    public let unit: String
    /// Total units expected.
    public private(set) var total: Int
    /// Whether to draw live updates (an interactive terminal and not quiet).
    public let live: Bool
    /// Whether to write anything at all.
    public let quiet: Bool
    /// Seconds before the first live update.
    public var delay: Double = 2
    /// Minimum seconds between live updates.
    public var interval: Double = 0.25
    /// Seconds between plain progress lines when standard error is not a terminal.
    public var logInterval: Double = 60
    private let write: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var lastDraw: Double = -1
    private var drewLine = false
    private var label = ""

    /// Creates a reporter; `write` receives raw text (default: stderr), `clock` seconds (default: wall clock).
    public init(
        total: Int, unit: String = "tokens", quiet: Bool = false, interactive: Bool = ProgressReporter.stderrIsTerminal,
        write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
        clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate }
    ) {
        self.total = max(0, total)
        self.unit = unit
        self.quiet = quiet
        live = interactive && !quiet
        self.write = write
        self.clock = clock
        start = clock()
    }

    /// Whether standard error is a terminal.
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Seconds since the reporter was created.
    public var elapsed: Double { clock() - start }

    /// One progress line: `label: 1024/4096 tokens (25%), 310.2 tokens/s, ETA 10 s`.
    public static func line(label: String, done: Int, total: Int, elapsed: Double, unit: String) -> String {
        let pct = total > 0 ? Int((Double(done) / Double(total) * 100).rounded(.down)) : 100
        var s = (label.isEmpty ? "" : label + ": ") + "\(done)/\(total) \(unit) (\(pct)%)"
        if elapsed > 0, done > 0 {
            let rate = Double(done) / elapsed
            s += String(format: ", %.1f %@/s", rate, unit)
            s += ", ETA " + duration(Double(max(0, total - done)) / rate)
        }
        return s
    }

    /// `42 s`, `3 m 05 s`, `1 h 02 m`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return String(format: "%d m %02d s", s / 60, s % 60) }
        return String(format: "%d h %02d m", s / 3600, (s % 3600) / 60)
    }

    /// Reports `done` units so far; `label` names the current part of the job.
    public func update(_ done: Int, label: String? = nil) {
        if let label { self.label = label }
        guard live else {
            guard !quiet else { return }
            let now = clock()
            guard now - max(start, lastDraw) >= logInterval, done < total else { return }
            lastDraw = now
            write(Self.line(label: self.label, done: done, total: total, elapsed: now - start, unit: unit) + "\n")
            return
        }
        let now = clock()
        guard now - start >= delay, now - lastDraw >= interval || done >= total else { return }
        lastDraw = now
        drewLine = true
        write("\r\u{1B}[K" + Self.line(label: self.label, done: done, total: total, elapsed: now - start, unit: unit))
    }

    /// Clears the live line and writes `summary` (unless quiet).
    public func finish(_ summary: String) {
        if drewLine { write("\r\u{1B}[K") }
        drewLine = false
        if !quiet { write(summary + "\n") }
    }

    /// Writes a message line without disturbing the live line's next redraw (unless quiet).
    public func note(_ message: String) {
        if drewLine { write("\r\u{1B}[K") }
        drewLine = false
        if !quiet { write(message + "\n") }
    }
}
