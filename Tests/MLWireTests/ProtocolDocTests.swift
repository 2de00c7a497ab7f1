import MLWire
import XCTest

/// PROTOCOL.md is what a stranger implements from, so its examples and tables are checked
/// against the vectors and the code (RESP3 once shipped an example whose length was off by one).
final class ProtocolDocTests: XCTestCase {
    private func specLines() throws -> [String] {
        try Repo.text(Repo.protocolSpec).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Parses "label: xx xx xx" lines into bytes.
    private func parseHex(_ lines: [String], file: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for line in lines {
            let colon = try XCTUnwrap(line.firstIndex(of: ":"), "\(file): hex line without a label: \(line)")
            for token in line[line.index(after: colon)...].split(separator: " ") {
                bytes.append(try XCTUnwrap(UInt8(token, radix: 16), "\(file): bad hex byte \(token)"))
            }
        }
        return bytes
    }

    func testEveryHexExampleInProtocolEqualsItsVectorFile() throws {
        let lines = try specLines()
        var examples = 0
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line == "```hex" {
                XCTFail("line \(i + 1): a hex block without a `<!-- vector: NAME -->` marker")
            }
            guard line.hasPrefix(VectorCatalog.markerPrefix), let end = line.range(of: " -->") else { i += 1; continue }
            let name = String(line[line.index(line.startIndex, offsetBy: VectorCatalog.markerPrefix.count)..<end.lowerBound])
            XCTAssertEqual(lines[i + 1], "```hex", "\(name): marker not followed by a hex block")
            var j = i + 2
            var block: [String] = []
            while j < lines.count, lines[j] != "```" { block.append(lines[j]); j += 1 }
            let shown = try parseHex(block, file: name)
            let file = try Repo.vector(name)
            XCTAssertEqual(shown, file, "PROTOCOL.md example for \(name) differs from the vector file")
            XCTAssertEqual(lines[j + 1], VectorCatalog.totalLine(name, file.count), "\(name): stated byte count is wrong")
            examples += 1
            i = j + 2
        }
        XCTAssertGreaterThanOrEqual(examples, 23, "PROTOCOL.md should show an example of every message")
    }

    func testEveryValidVectorIsShownInProtocol() throws {
        let text = try Repo.text(Repo.protocolSpec)
        for vector in VectorCatalog.validVectors {
            XCTAssertTrue(text.contains(VectorCatalog.markerPrefix + vector.file + " -->"), "PROTOCOL.md has no example of \(vector.file)")
        }
    }

    /// Table rows look like `| 3 | INVALID_ARGUMENT | ...` and `| 0x02 | PREDICT | ...`.
    private func tableRows() throws -> [[String]] {
        try specLines().filter { $0.hasPrefix("|") }.map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
    }

    func testStatusTableMatchesStatusEnum() throws {
        let rows = try tableRows()
        for status in Status.allCases {
            let row = rows.first { $0.count >= 5 && $0[0] == String(status.rawValue) && $0[1] == "`\(status.name)`" }
            guard let row else { XCTFail("no status table row for \(status.rawValue) \(status.name)"); continue }
            XCTAssertEqual(row[3], status.isRetryable ? "yes" : "no", "\(status.name): retryable column")
        }
    }

    func testMessageTypeTableMatchesMessageTypeEnum() throws {
        let rows = try tableRows()
        for type in MessageType.allCases {
            let code = "0x" + (type.rawValue < 16 ? "0" : "") + String(type.rawValue, radix: 16, uppercase: true)
            XCTAssertTrue(rows.contains { $0.count >= 2 && $0[0] == code && $0[1] == "`\(specName(type))`" },
                          "no message type table row `| \(code) | `\(specName(type))` |`")
        }
    }

    func testLimitsInProtocolMatchTheCode() throws {
        let text = try Repo.text(Repo.protocolSpec)
        for fact in ["\(FrameParser.defaultMaxPayload) bytes", "\(FrameParser.preHelloMaxPayload) bytes",
                     "\(FrameParser.absoluteMaxPayload) bytes", "\(LatencyBuckets.count) buckets"] {
            XCTAssertTrue(text.contains(fact), "PROTOCOL.md does not state \(fact)")
        }
    }
}
