import XCTest
@testable import MLModel

final class DemoDataTests: XCTestCase {
    func testSameSeedGivesSameRowsAndDifferentSeedsDiffer() {
        let a = DemoData.samples(seed: 1, count: 100), b = DemoData.samples(seed: 1, count: 100)
        XCTAssertEqual(a.features, b.features)
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertNotEqual(DemoData.samples(seed: 2, count: 100).features, a.features)
    }

    func testAboutTenPercentAreAnomalies() {
        let labels = DemoData.samples(seed: 3, count: 20000).labels
        let rate = Double(labels.reduce(0) { $0 + Int($1) }) / Double(labels.count)
        XCTAssertEqual(rate, 0.1, accuracy: 0.01)
    }

    func testRowFillAndArraySamplesAgree() {
        var byRow = DemoData(seed: 4), byArray = DemoData(seed: 4)
        var row = [Float](repeating: 0, count: DemoData.featureCount)
        for _ in 0..<10 {
            let label = row.withUnsafeMutableBufferPointer { byRow.fill(row: $0.baseAddress!) }
            let sample = byArray.next()
            XCTAssertEqual(sample.features, row)
            XCTAssertEqual(sample.label, label)
        }
    }

    func testAnomaliesAreShiftedOnlyInSignalFeatures() {
        let data = DemoData.samples(seed: 5, count: 20000)
        var sums = [Double](repeating: 0, count: 32), n = 0
        for r in 0..<20000 where data.labels[r] == 1 {
            n += 1
            for f in 0..<32 { sums[f] += Double(data.features[r * 32 + f]) }
        }
        for f in 0..<32 {
            XCTAssertEqual(sums[f] / Double(n), Double(DemoData.anomalyShift(feature: f)), accuracy: 0.12, "feature \(f)")
        }
    }
}
