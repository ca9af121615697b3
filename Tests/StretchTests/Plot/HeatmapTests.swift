import Stretch
import StretchEvaluation
import XCTest

final class HeatmapTests: XCTestCase {
    func testColourScaleEndpoints() {
        let h = Heatmap(title: "t", xLabel: "x", yLabel: "y", columns: ["a"], rows: ["r"], values: [[1]])
        XCTAssertEqual(h.colour(0), "#d73027")
        XCTAssertEqual(h.colour(0.5), "#fee08b")
        XCTAssertEqual(h.colour(1), "#1a9850")
        XCTAssertEqual(h.colour(7), "#1a9850")
        XCTAssertEqual(h.colour(nil), "#cccccc")
    }

    func testCellsLabelsAndGroups() throws {
        var h = Heatmap(
            title: "Passkey", xLabel: "length", yLabel: "depth", columns: ["1k", "2k", "1k", "2k"],
            rows: ["0%", "100%"], values: [[1, 0.5, nil, 0], [1, 1, 1, 1]])
        h.columnGroups = [("none", 2), ("self-extend", 2)]
        let svg = try ParsedSVG(h.svg())
        let cells = svg.all("rect", in: "cells")
        XCTAssertEqual(cells.count, 8)
        XCTAssertEqual(cells.map { $0.attributes["fill"]! }.prefix(4), ["#1a9850", "#fee08b", "#cccccc", "#d73027"])
        XCTAssertEqual(
            svg.all("text", in: "cells").map(\.text), ["100%", "50%", "n/a", "0%", "100%", "100%", "100%", "100%"])
        XCTAssertEqual(svg.all("title", in: "cells").first?.text, "0%, 1k: 100%")
        XCTAssertEqual(svg.texts(in: "x-axis"), ["1k", "2k", "1k", "2k", "length"])
        XCTAssertEqual(svg.texts(in: "y-axis"), ["0%", "100%", "depth"])
        XCTAssertEqual(svg.texts(in: "column-groups"), ["none", "self-extend"])
    }
}
