import Foundation
import Stretch
import StretchEvaluation
import XCTest

final class JSONValueTests: XCTestCase {
    func testRenderingIsOrderedAndParsesBack() throws {
        let v = JSONValue.object([
            ("b", .int(1)), ("a", .array([.double(0.5), .null, .double(.infinity)])), ("s", .string("q\"\n")),
            ("o", .array([.object([("x", .bool(true))])])), ("e", .object([])),
        ])
        XCTAssertEqual(
            v.rendered(),
            """
            {
              "b": 1,
              "a": [0.5, null, null],
              "s": "q\\"\\n",
              "o": [
                {
                  "x": true
                }
              ],
              "e": {}
            }
            """)
        let back = try JSONSerialization.jsonObject(with: Data(v.rendered().utf8)) as? [String: Any]
        XCTAssertEqual(back?["s"] as? String, "q\"\n")
    }
}
