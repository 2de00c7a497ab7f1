import Foundation
import XCTest

/// Comments in Sources cite PROTOCOL.md and ARTIFACT.md by section ("PROTOCOL.md §11.10"). A
/// citation of a section that does not exist is a comment that lies: renumbering the spec must
/// fail here until every citation is fixed.
final class DocReferenceTests: XCTestCase {
    private func headings(_ document: URL) throws -> Set<String> {
        var numbers: Set<String> = []
        for line in try Repo.text(document).split(separator: "\n") where line.hasPrefix("#") {
            // "### 11.10 SWAP (0x11) ..." or "## 4. Framing" → "11.10" / "4"
            let words = line.drop(while: { $0 == "#" }).split(separator: " ")
            guard let first = words.first else { continue }
            let number = first.hasSuffix(".") ? first.dropLast() : first
            if number.first?.isNumber == true { numbers.insert(String(number)) }
        }
        return numbers
    }

    func testEverySectionCitedInSourcesExists() throws {
        let documents = ["PROTOCOL.md": Repo.protocolSpec,
                         "ARTIFACT.md": Repo.root.appendingPathComponent("protocol/ARTIFACT.md")]
        let sections = try documents.mapValues(headings)
        let pattern = try NSRegularExpression(pattern: #"(PROTOCOL|ARTIFACT)\.md §([0-9]+(?:\.[0-9]+)*)"#)
        var cited = 0
        let enumerator = FileManager.default.enumerator(at: Repo.root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try Repo.text(url)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let document = (text as NSString).substring(with: match.range(at: 1)) + ".md"
                let section = (text as NSString).substring(with: match.range(at: 2))
                cited += 1
                XCTAssertTrue(sections[document]?.contains(section) == true,
                              "\(url.lastPathComponent) cites \(document) §\(section), which has no such heading")
            }
        }
        XCTAssertGreaterThan(cited, 10, "the citations were not found at all")
    }
}
