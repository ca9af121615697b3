import Foundation
import StretchServer
import XCTest

/// The server's request-body decoding without a server: nesting depth, malformed JSON, wrong field types.
final class RequestDecodingTests: XCTestCase {
    func message(_ body: String) -> String? {
        do {
            try RequestDecoding.check(Data(body.utf8))
            return nil
        } catch let e as APIError {
            XCTAssertEqual(e.status.code, 400, "\(e)")
            return e.message
        } catch {
            XCTFail("not an APIError: \(error)")
            return "\(error)"
        }
    }

    func testNestingIsLimited() {
        let limit = JSON.maxDepth
        // The body object is level 1; `limit` levels in all are accepted, one more is refused.
        func nested(_ levels: Int) -> String {
            #"{"prompt":"x","metadata":"# + String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1) + "}"
        }
        XCTAssertNil(message(nested(limit)))
        let refused = message(nested(limit + 1))
        XCTAssertEqual(refused, "the request body nests arrays and objects more than \(limit) levels deep")
        // Far deeper bodies (where an unbounded recursive decoder would exhaust a thread's stack) are refused the
        // same way, or by the JSON parser's own limit, never by a crash.
        XCTAssertNotNil(message(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)))
        XCTAssertNotNil(message(String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)))
    }

    func testMalformedBodiesAndFieldsAreRefusedWithTheirReason() {
        XCTAssertEqual(message("{"), "the request body is not valid JSON")
        XCTAssertEqual(message("[1]"), "the request body must be a JSON object")
        XCTAssertEqual(message(#"{"temperature":"hot"}"#), "'temperature' must be a number, not a string")
        XCTAssertEqual(message(#"{"stop":[1]}"#), "'stop' must be a string or an array of strings")
        XCTAssertNil(message(#"{"prompt":"hi","max_tokens":8,"stop":["\n"],"stream":true}"#))
    }
}
