import Stretch
import StretchEvaluation
import XCTest

final class ProgressReporterTests: XCTestCase {
    func testLineFormat() {
        XCTAssertEqual(
            ProgressReporter.line(label: "none", done: 1024, total: 4096, elapsed: 4, unit: "tokens"),
            "none: 1024/4096 tokens (25%), 256.0 tokens/s, ETA 12 s")
        XCTAssertEqual(ProgressReporter.duration(185), "3 m 05 s")
        XCTAssertEqual(ProgressReporter.duration(3720), "1 h 02 m")
    }

    func testLiveOnlyOnATerminalAfterTheDelayAndSummaryAlways() {
        final class Box: @unchecked Sendable {
            var out = ""
            var now = 0.0
        }
        let box = Box()
        let live = ProgressReporter(total: 100, interactive: true, write: { box.out += $0 }, clock: { box.now })
        live.update(10)
        XCTAssertEqual(box.out, "", "nothing during the first 2 s")
        box.now = 3
        live.update(50, label: "x")
        XCTAssertEqual(box.out, "\r\u{1B}[Kx: 50/100 tokens (50%), 16.7 tokens/s, ETA 3 s")
        live.finish("done")
        XCTAssertTrue(box.out.hasSuffix("\r\u{1B}[Kdone\n"))

        box.out = ""
        box.now = 0
        let piped = ProgressReporter(total: 100, interactive: false, write: { box.out += $0 }, clock: { box.now })
        box.now = 10
        piped.update(50)
        XCTAssertEqual(box.out, "", "piped: nothing during the first minute")
        box.now = 60
        piped.update(60, label: "y")
        XCTAssertEqual(box.out, "y: 60/100 tokens (60%), 1.0 tokens/s, ETA 40 s\n", "piped: a plain line per minute")
        box.now = 100
        piped.update(70)
        XCTAssertEqual(box.out.count(where: { $0 == "\n" }), 1, "piped: not again within the minute")
        box.now = 120
        piped.update(80)
        XCTAssertTrue(box.out.hasSuffix("y: 80/100 tokens (80%), 0.7 tokens/s, ETA 30 s\n"), box.out)
        box.out = ""
        piped.finish("summary")
        XCTAssertEqual(box.out, "summary\n")

        box.out = ""
        let quiet = ProgressReporter(
            total: 100, quiet: true, interactive: true, write: { box.out += $0 }, clock: { box.now })
        box.now = 20
        quiet.update(50)
        quiet.finish("summary")
        XCTAssertEqual(box.out, "")
    }
}
