import Foundation
import MLWire
import XCTest
@testable import MLModel

/// Every way a file can be wrong gets its status and a message naming the file; none crashes.
final class ArtifactRefusalTests: XCTestCase {
    private var paths: [String] = []

    override func tearDown() {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    private func file(_ bytes: [UInt8], _ label: String) -> String {
        let path = Fixtures.write(bytes, label: label)
        paths.append(path)
        return path
    }

    private var validBytes: [UInt8] { try! ArtifactWriter.encode(Fixtures.mlp()) }

    /// Rewrites `bytes` with `edit` applied to its body and a fresh, valid trailing digest.
    private func resealed(_ bytes: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var body = Array(bytes.dropLast(32))
        edit(&body)
        return ArtifactWriter.seal(body)
    }

    private func setU32(_ body: inout [UInt8], _ offset: Int, _ value: UInt32) {
        for i in 0..<4 { body[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }

    private func assertLoadRefused(_ bytes: [UInt8], _ status: Status, _ fragment: String, label: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let path = self.file(bytes, label)
        assertRefused(status, containing: [path, fragment], file: file, line: line) { _ = try Model.load(path: path) }
    }

    func testMissingFileIsNotFound() {
        let path = Fixtures.tempPath("missing")
        assertRefused(.notFound, containing: [path]) { _ = try Model.load(path: path) }
    }

    func testDirectoryIsInvalidArgument() {
        let path = FileManager.default.temporaryDirectory.path
        assertRefused(.invalidArgument, containing: [path, "regular file"]) { _ = try Model.load(path: path) }
    }

    func testCorruptTrailingDigestIsDataLoss() {
        var bytes = validBytes
        bytes[bytes.count - 1] ^= 0x01
        assertLoadRefused(bytes, .dataLoss, "checksum mismatch", label: "digest")
    }

    func testExpectedChecksumMismatchIsDataLoss() throws {
        let path = file(validBytes, "expected")
        let wrong = Digest32(bytes: (1, 2, 3, 4))
        assertRefused(.dataLoss, containing: [path, wrong.hex]) { _ = try Model.load(path: path, expectedChecksum: wrong) }
        XCTAssertNoThrow(try Model.load(path: path, expectedChecksum: Digest32(Array(validBytes.suffix(32)))))
    }

    func testBadMagicIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { $0[0] = UInt8(ascii: "X") }, .invalidArgument, "magic", label: "magic")
    }

    func testUnknownFormatVersionIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { $0[4] = 9 }, .invalidArgument, "format version", label: "format")
    }

    func testUnknownKindIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { $0[6] = 7 }, .invalidArgument, "kind 7", label: "kind")
    }

    func testZeroFeaturesIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { setU32(&$0, 8, 0) }, .invalidArgument, "feature count", label: "zero")
    }

    func testTooManyFeaturesIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { setU32(&$0, 8, 4097) }, .invalidArgument, "feature count", label: "many")
    }

    func testFeatureCountDisagreeingWithLayersIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { setU32(&$0, 8, 9) }, .invalidArgument, "layer 0", label: "shape")
    }

    func testLogisticWeightCountNotMatchingFeaturesIsInvalidArgument() throws {
        let bytes = resealed(try ArtifactWriter.encode(Fixtures.logistic(features: 8))) { setU32(&$0, 8, 7) }
        assertLoadRefused(bytes, .invalidArgument, "7 features", label: "logistic-shape")
    }

    func testDeclaredLengthLongerThanFileIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { setU32(&$0, 20, 0xFFFF_FFF0) }, .invalidArgument, "length mismatch", label: "len")
    }

    func testHugeLayerShapesAreRefusedBeforeAllocating() {
        // 16 layers of 4096×4096 would be a gigabyte: refused from the counts alone.
        let bytes = resealed(validBytes) { body in
            let base = ArtifactFormat.headerSize
            setU32(&body, base, 2)
            setU32(&body, base + 4, 4096); setU32(&body, base + 8, 4096)
        }
        assertLoadRefused(bytes, .invalidArgument, "layer shapes need", label: "huge")
    }

    func testHiddenLayerWiderThanTheLimitIsInvalidArgument() throws {
        let artifact = Fixtures.mlp(features: 4, hidden: [ArtifactFormat.maxHiddenWidth + 1])
        // Built by hand: the writer itself would refuse it.
        var body = Array(try ArtifactWriter.encode(Fixtures.mlp(features: 4, hidden: [1])).prefix(ArtifactFormat.headerSize))
        guard case .mlp(let layers) = artifact.parameters else { return XCTFail() }
        var parameters = LittleEndianBytes(capacity: 0)
        parameters.append(UInt32(layers.count))
        for layer in layers { parameters.append(UInt32(layer.inputs)); parameters.append(UInt32(layer.outputs)) }
        for layer in layers { parameters.append(layer.weights); parameters.append(layer.biases) }
        setU32(&body, 20, UInt32(parameters.bytes.count))
        body += parameters.bytes
        var bins = LittleEndianBytes(capacity: 0)
        bins.append(Artifact.uniformBins)
        body += bins.bytes
        assertLoadRefused(ArtifactWriter.seal(body), .invalidArgument, "width must be", label: "wide")
    }

    func testNaNWeightIsInvalidArgument() {
        let nan = Float.nan.bitPattern
        assertLoadRefused(resealed(validBytes) { setU32(&$0, ArtifactFormat.headerSize + 4 + 8 * 3, nan) },
                          .invalidArgument, "not finite", label: "nan")
    }

    func testInfiniteThresholdIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { setU32(&$0, 12, Float.infinity.bitPattern) }, .invalidArgument, "threshold",
                          label: "inf")
    }

    func testReferenceBinsNotSummingToOneAreInvalidArgument() {
        let bytes = resealed(validBytes) { body in setU32(&body, body.count - 4, Float(0.5).bitPattern) }
        assertLoadRefused(bytes, .invalidArgument, "sum to 1", label: "bins")
    }

    func testNameLengthBeyondItsFieldIsInvalidArgument() {
        assertLoadRefused(resealed(validBytes) { $0[16] = 65 }, .invalidArgument, "model name length", label: "name")
    }

    func testFlippedByteAnywhereIsRefused() {
        let valid = validBytes
        for position in stride(from: 0, to: valid.count, by: max(1, valid.count / 97)) + [valid.count - 1] {
            var bytes = valid
            bytes[position] ^= 0x20
            do {
                _ = try Model.decode(bytes: bytes, source: "flip@\(position)")
                XCTFail("flipped byte at \(position) was accepted")
            } catch {
                XCTAssertTrue([.dataLoss, .invalidArgument].contains(error.status), "byte \(position): \(error)")
                XCTAssertTrue(error.message.contains("flip@\(position)"))
            }
        }
    }

    func testTruncationAtEveryLengthIsRefusedWithoutCrashing() {
        let valid = validBytes
        for length in 0..<valid.count {
            do {
                _ = try Model.decode(bytes: Array(valid.prefix(length)), source: "cut@\(length)")
                XCTFail("prefix of \(length) bytes was accepted")
            } catch {
                XCTAssertEqual(error.status, .invalidArgument, "length \(length): \(error)")
            }
        }
    }

    func testTruncatedFileNamesThePathAndTheLength() {
        let bytes = Array(validBytes.prefix(100))
        assertLoadRefused(bytes, .invalidArgument, "truncated", label: "short")
    }

    func testTrailingGarbageIsRefused() {
        assertLoadRefused(validBytes + [0], .invalidArgument, "length mismatch", label: "garbage")
    }

    func testRandomGarbageNeverCrashes() {
        var rng = Xoshiro256(seed: 99)
        for round in 0..<300 {
            var bytes = (0..<rng.next(below: 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if round % 2 == 0, bytes.count >= 4 { bytes.replaceSubrange(0..<4, with: ArtifactFormat.magic) }
            XCTAssertThrowsError(try Model.decode(bytes: bytes, source: "garbage"))
        }
    }
}

extension ArtifactRefusalTests {
    func testFIFOAtThePathIsRefusedWithoutBlocking() {
        let path = Fixtures.tempPath("fifo")
        guard mkfifo(path, 0o600) == 0 else { return XCTFail("mkfifo failed") }
        defer { unlink(path) }
        assertRefused(.invalidArgument, containing: [path, "regular file"]) { _ = try Model.load(path: path) }
    }
}
