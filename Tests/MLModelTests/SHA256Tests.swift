import MLWire
import XCTest
@testable import MLModel

final class SHA256Tests: XCTestCase {
    private func hex(_ text: String) -> String { SHA256.hash(Array(text.utf8)).hex }

    func testEmptyInputMatchesNISTVector() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABCMatchesNISTVector() {
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func test448BitMessageMatchesNISTVector() {
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func test896BitMessageMatchesNISTVector() {
        let message = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        XCTAssertEqual(hex(message), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testOneMillionAsMatchesNISTVector() {
        XCTAssertEqual(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex,
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingInAnyChunkSizesEqualsOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA256.hash(message)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 127, 128, 999] {
            var hasher = SHA256()
            var start = 0
            while start < message.count {
                let end = min(start + chunk, message.count)
                hasher.update(Array(message[start..<end]))
                start = end
            }
            XCTAssertEqual(hasher.finalize(), expected, "chunk size \(chunk)")
        }
    }

    func testPaddingBoundaryLengthsDifferFromEachOther() {
        // 55, 56 and 64 bytes straddle the one-block/two-block padding boundary.
        let digests = [55, 56, 63, 64, 119, 120].map { SHA256.hash([UInt8](repeating: 0x61, count: $0)) }
        XCTAssertEqual(Set(digests).count, digests.count)
        XCTAssertEqual(SHA256.hash([UInt8](repeating: 0x61, count: 56)).hex,
                       "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
    }
}
