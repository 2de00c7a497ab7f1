import Foundation
import MLWire
import XCTest
@testable import MLModel

/// protocol/ARTIFACT.md's worked example is a test vector: the encoder must produce exactly its
/// bytes (they were computed independently, outside Swift) and the reader must accept them.
final class ArtifactFormatDocTests: XCTestCase {
    private var exampleArtifact: Artifact {
        Artifact(name: "demo", version: "v1", featureCount: 2, threshold: 0.5,
                 parameters: .logistic(weights: [1.0, -0.5], bias: 0.25), referenceBins: Artifact.uniformBins)
    }

    private func documentedBytes() throws -> [UInt8] {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("protocol/ARTIFACT.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        let begin = try XCTUnwrap(text.range(of: "<!-- artifact-example-begin -->"))
        let end = try XCTUnwrap(text.range(of: "<!-- artifact-example-end -->"))
        var bytes: [UInt8] = []
        for line in text[begin.upperBound..<end.lowerBound].split(separator: "\n") where line.count > 6 && !line.hasPrefix("```") {
            for pair in line.dropFirst(6).split(separator: " ") { bytes.append(try XCTUnwrap(UInt8(pair, radix: 16))) }
        }
        return bytes
    }

    func testEncoderProducesTheDocumentedExampleBytes() throws {
        let documented = try documentedBytes()
        XCTAssertEqual(documented.count, 276)
        XCTAssertEqual(try ArtifactWriter.encode(exampleArtifact), documented)
    }

    func testDocumentedExampleLoadsWithItsChecksumAndScore() throws {
        let model = try Model.decode(bytes: try documentedBytes(), source: "ARTIFACT.md",
                                     expectedChecksum: try XCTUnwrap(Digest32(hex: "561027bfc8edd22cc75bbda5b920c0e58465d17de6744f6a22325b005ce196ec")))
        let row: [Float] = [2, 1]
        let score = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
        XCTAssertEqual(Double(score), 1 / (1 + exp(-1.75)), accuracy: 1e-6)
        XCTAssertEqual(model.label(for: score), 1)
    }

    func testFixedPartIs264Bytes() {
        XCTAssertEqual(ArtifactFormat.fixedSize, 264)
    }
}
