import Stretch
import XCTest

/// Stop strings split across streamed pieces are found, and nothing after them is emitted.
final class StopStringMatcherTests: XCTestCase {
    func feedAll(_ pieces: [String], stops: [String]) -> (String, Bool) {
        var m = StopStringMatcher(stops: stops)
        var out = ""
        for p in pieces {
            let (emit, stopped) = m.feed(p)
            out += emit
            if stopped { return (out, true) }
        }
        return (out + m.flush(), false)
    }

    func testStopSplitAcrossPieces() {
        let (out, stopped) = feedAll(["Hello", " wor", "ld<|e", "nd|> never"], stops: ["<|end|>"])
        XCTAssertTrue(stopped)
        XCTAssertEqual(out, "Hello world")
    }

    func testPartialPrefixThatDoesNotCompleteIsEmitted() {
        let (out, stopped) = feedAll(["a <", "|x", " b"], stops: ["<|end|>"])
        XCTAssertFalse(stopped)
        XCTAssertEqual(out, "a <|x b")
    }

    func testHeldBackTextIsFlushedAtTheEnd() {
        var m = StopStringMatcher(stops: ["STOP"])
        XCTAssertEqual(m.feed("abc ST").emit, "abc ")
        XCTAssertEqual(m.flush(), "ST")
    }

    func testNoStopsPassesThrough() {
        XCTAssertEqual(feedAll(["x", "y"], stops: []).0, "xy")
        XCTAssertEqual(feedAll(["x", "y"], stops: [""]).0, "xy")
    }
}
