import Stretch
import StretchEvaluation
import XCTest

final class PositionBucketsTests: XCTestCase {
    func testBucketsByPredictedTokenPosition() {
        // nll[i] predicts token i+1: token positions 1…7, width 3 → buckets [0,3) holds tokens 1,2.
        let w: [Double?] = [1, 2, 3, 4, 5, 6, 7]
        let b = PositionBuckets(size: 3, windows: [w])
        XCTAssertEqual(b.buckets.map(\.start), [0, 3, 6])
        XCTAssertEqual(b.buckets.map(\.end), [3, 6, 9])
        XCTAssertEqual(b.buckets.map(\.count), [2, 3, 2])
        XCTAssertEqual(b.buckets.map(\.meanNLL), [1.5, 4, 6.5])
        XCTAssertEqual(b.buckets[0].perplexity, exp(1.5), accuracy: 1e-12)
    }

    func testUnscoredPositionsAreSkippedAndWindowsAveraged() {
        let a: [Double?] = [nil, nil, nil, 2, 4, 6, 8]
        let b: [Double?] = [nil, nil, nil, 4, 6, 8, 10]
        let buckets = PositionBuckets(size: 4, windows: [a, b])
        // Tokens 4…7 of both windows fall into bucket 1; bucket 0 (tokens 1…3) is unscored and absent.
        XCTAssertEqual(buckets.buckets.count, 1)
        XCTAssertEqual(buckets.buckets[0].start, 4)
        XCTAssertEqual(buckets.buckets[0].end, 8)
        XCTAssertEqual(buckets.buckets[0].count, 8)
        XCTAssertEqual(buckets.buckets[0].meanNLL, (2 + 4 + 6 + 8 + 4 + 6 + 8 + 10) / 8.0)
    }

    func testDefaultSize() {
        XCTAssertEqual(PositionBuckets.defaultSize(trainedContext: 512), 128)
        XCTAssertEqual(PositionBuckets.defaultSize(trainedContext: 4096), 512)
        XCTAssertEqual(PositionBuckets.defaultSize(trainedContext: 32768), 512)
        XCTAssertEqual(PositionBuckets.defaultSize(trainedContext: 2), 1)
    }
}
