import Stretch
import StretchEvaluation
import XCTest

final class LinePlotTests: XCTestCase {
    private func plot() -> LinePlot {
        var p = LinePlot(
            title: "NLL & position", xLabel: "position", yLabel: "NLL",
            series: [
                .init(name: "none", points: [(64, 1.2), (192, 1.5), (320, 4.8)]),
                .init(name: "self-extend:G=16:W=256", points: [(64, 1.2), (192, nil), (320, 1.3)]),
            ])
        p.markers = [.init(x: 256, label: "trained L=256")]
        p.yFloor = 0
        p.xTickBase = 256
        p.xFloor = 0
        return p
    }

    func testAxisRangesCoverDataMarkersAndFloor() {
        let (x, y) = plot().axes()
        XCTAssertEqual(x.lower, 0)
        XCTAssertEqual(x.upper, 320)
        XCTAssertEqual(x.ticks, [0, 64, 128, 192, 256, 320])
        XCTAssertEqual(y.lower, 0)
        XCTAssertEqual(y.upper, 5)
        XCTAssertEqual(y.ticks, [0, 1, 2, 3, 4, 5])
    }

    func testSVGIsWellFormedWithTicksLegendMarkerAndGaps() throws {
        let p = plot()
        let svg = try ParsedSVG(p.svg())
        XCTAssertEqual(svg.root["width"], "760")
        XCTAssertEqual(svg.texts(in: "x-axis"), ["0", "64", "128", "192", "256", "320", "position"])
        XCTAssertEqual(svg.texts(in: "y-axis"), ["0", "1", "2", "3", "4", "5", "NLL"])
        XCTAssertEqual(svg.texts(in: "legend"), ["none", "self-extend:G=16:W=256"])
        XCTAssertEqual(svg.texts(in: "markers"), ["trained L=256"])
        XCTAssertEqual(svg.all("text").first?.text, "NLL & position")
        // The first series is one polyline of 3 points; the second is split by its gap into two dots.
        let lines = svg.all("polyline", in: "series")
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines[0].attributes["points"]?.split(separator: " ").count, 3)
        XCTAssertEqual(svg.all("circle", in: "series").count, 2)
        // Every drawn point lies inside the plotting area.
        let a = p.plotArea
        for pt in lines[0].attributes["points"]!.split(separator: " ") {
            let xy = pt.split(separator: ",").map { Double($0)! }
            XCTAssertTrue((a.left...a.right).contains(xy[0]) && (a.top...a.bottom).contains(xy[1]), "\(xy)")
        }
        // The marker sits at x = 256 on the axis.
        let marker = svg.all("line", in: "markers")[0]
        XCTAssertEqual(marker.number("x1")!, p.axes().x.pixel(256), accuracy: 0.01)
    }

    func testLogScaleSkipsNonPositiveValues() throws {
        var p = LinePlot(
            title: "t", xLabel: "x", yLabel: "ppl", series: [.init(name: "a", points: [(0, 0), (1, 30), (2, 900)])])
        p.yScale = .log
        let (_, y) = p.axes()
        XCTAssertEqual(y.ticks, [10, 20, 50, 100, 200, 500, 1000])
        let svg = try ParsedSVG(p.svg())
        XCTAssertEqual(svg.all("polyline", in: "series").first?.attributes["points"]?.split(separator: " ").count, 2)
    }
}
