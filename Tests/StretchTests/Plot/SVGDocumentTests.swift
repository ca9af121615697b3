import Foundation
import Stretch
import StretchEvaluation
import XCTest

final class SVGDocumentTests: XCTestCase {
    func testNumbersAreShortAndStable() {
        XCTAssertEqual(SVGDocument.number(3), "3")
        XCTAssertEqual(SVGDocument.number(3.14159), "3.14")
        XCTAssertEqual(SVGDocument.number(2.5), "2.5")
        XCTAssertEqual(SVGDocument.number(-0.004), "0")
        XCTAssertEqual(SVGDocument.number(.nan), "0")
    }

    func testEscapesTextAndAttributes() {
        XCTAssertEqual(SVGDocument.escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
    }

    func testWholeDocumentOutput() {
        var doc = SVGDocument(width: 100, height: 50)
        doc.beginGroup(id: "g1")
        doc.rect(x: 1, y: 2, width: 3, height: 4, fill: "red")
        doc.text("x < y", x: 10, y: 20, anchor: .middle)
        // Left open on purpose: render() closes it.
        XCTAssertEqual(
            doc.render(),
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="100" height="50" viewBox="0 0 100 50" \
            font-family="Helvetica, Arial, sans-serif">
              <rect x="0" y="0" width="100" height="50" fill="white"/>
              <g id="g1">
                <rect x="1" y="2" width="3" height="4" fill="red"/>
                <text x="10" y="20" font-size="12" text-anchor="middle" fill="#222">x &lt; y</text>
              </g>
            </svg>

            """)
    }

    func testHostileLabelsStayWellFormed() throws {
        var doc = SVGDocument(width: 10, height: 10)
        doc.text("</svg><script>&amp;\"'", x: 0, y: 0)
        doc.rect(x: 0, y: 0, width: 1, height: 1, fill: "\"><x", title: "a & b")
        let parsed = try ParsedSVG(doc.render())
        XCTAssertEqual(parsed.all("text").first?.text, "</svg><script>&amp;\"'")
        XCTAssertEqual(parsed.all("title").first?.text, "a & b")
    }
}
