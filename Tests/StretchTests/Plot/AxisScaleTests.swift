import Stretch
import StretchEvaluation
import XCTest

final class AxisScaleTests: XCTestCase {
    func testLinearTicksCoverTheDataWithNiceSteps() {
        let a = AxisScale(minimum: 0.37, maximum: 7.2, tickCount: 6, pixels: 0...100)
        XCTAssertEqual(a.ticks, [0, 2, 4, 6, 8])
        XCTAssertEqual(a.lower, 0)
        XCTAssertEqual(a.upper, 8)
        XCTAssertEqual(a.pixel(0), 0)
        XCTAssertEqual(a.pixel(8), 100)
        XCTAssertEqual(a.pixel(4), 50)
        XCTAssertEqual(a.label(4), "4")
    }

    func testDecimalStepsGetDecimalLabelsWithoutFloatingPointDust() {
        let a = AxisScale(minimum: 0.1, maximum: 0.5, tickCount: 5, pixels: 0...1)
        XCTAssertEqual(a.ticks.map(a.label), ["0.1", "0.2", "0.3", "0.4", "0.5"])
    }

    func testFlippedAxisPutsLargeValuesAtTheTop() {
        let a = AxisScale(minimum: 0, maximum: 10, tickCount: 3, pixels: 40...240, flipped: true)
        XCTAssertEqual(a.pixel(a.lower), 240)
        XCTAssertEqual(a.pixel(a.upper), 40)
    }

    func testDegenerateRangeIsWidened() {
        let a = AxisScale(minimum: 5, maximum: 5, pixels: 0...1)
        XCTAssertLessThan(a.lower, 5)
        XCTAssertGreaterThan(a.upper, 5)
    }

    func testLogTicksAreDecadesOr125() {
        let wide = AxisScale(kind: .log, minimum: 3, maximum: 1900, pixels: 0...300)
        XCTAssertEqual(wide.ticks, [1, 10, 100, 1000, 10000])
        XCTAssertEqual(wide.pixel(100), 150, accuracy: 1e-9)
        let narrow = AxisScale(kind: .log, minimum: 3, maximum: 40, pixels: 0...1)
        XCTAssertEqual(narrow.ticks, [1, 2, 5, 10, 20, 50, 100])
        XCTAssertEqual(narrow.ticks.map(narrow.label), ["1", "2", "5", "10", "20", "50", "100"])
    }

    func testPowerOfTwoStepsForTokenPositions() {
        let a = AxisScale(minimum: 64, maximum: 4032, tickCount: 9, pixels: 0...1, stepBase: 512)
        XCTAssertEqual(a.ticks, [0, 512, 1024, 1536, 2048, 2560, 3072, 3584, 4096])
        let small = AxisScale(minimum: 0, maximum: 1000, tickCount: 9, pixels: 0...1, stepBase: 32768)
        XCTAssertEqual(small.ticks.first, 0)
        XCTAssertEqual(small.ticks[1], 128)
        XCTAssertEqual(small.upper, 1024)
    }
}
