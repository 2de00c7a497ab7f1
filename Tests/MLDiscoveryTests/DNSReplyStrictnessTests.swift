import Foundation
import XCTest
@testable import MLDiscovery

/// Replies no honest server sends, from a fake UDP server: each must be a clear error that
/// names the server and what is wrong, never a crash, a hang or a wrong address.
final class DNSReplyStrictnessTests: XCTestCase {
    private func resolve(_ answer: @escaping @Sendable ([UInt8]) -> [[UInt8]], attempts: Int = 2, timeout: Double = 1) throws -> (Result<[String], DNSError>, FakeDNSServer) {
        let server = try FakeDNSServer(answer: answer)
        addTeardownBlock { server.stop() }
        let resolver = DNSResolver(server: server.server, timeout: timeout, attempts: attempts)
        do { return (.success(try resolver.addresses(of: "node.fleet.test")), server) } catch { return (.failure(error), server) }
    }

    private func malformedReason(_ result: Result<[String], DNSError>, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .failure(.malformed(let server, let reason)) = result else {
            XCTFail("expected a malformed-reply error, got \(result)", file: file, line: line)
            return ""
        }
        XCTAssertTrue(server.hasPrefix("127.0.0.1:"), server, file: file, line: line)
        return reason
    }

    func testWellFormedReplyFromTheFakeServerResolves() throws {
        // The control case: the same builder with nothing broken gives the address.
        let (result, _) = try resolve { query in
            let type = UInt16(query[query.count - 4]) << 8 | UInt16(query[query.count - 3])
            return [type == 1 ? Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 1, 2, 3])) : Reply.build(to: query, answers: 0, body: [])]
        }
        XCTAssertEqual(try result.get(), ["10.1.2.3"])
    }

    func testCompressionPointerLoopIsRefused() throws {
        // The answer's owner name is a pointer to itself (offset of the record = 12 + question).
        let (result, _) = try resolve { query in
            let at = UInt16(query.count)  // the record starts right after the echoed question
            return [Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 0, 0, 1], owner: [0xC0 | UInt8(at >> 8), UInt8(at & 0xFF)]))]
        }
        XCTAssertTrue(malformedReason(result).contains("does not point backwards"))
    }

    func testTwoPointersThatPointAtEachOtherAreRefused() throws {
        // A pointer forward to a second pointer that points back at the first: a two-step loop.
        let (result, _) = try resolve { query in
            let at = UInt16(query.count)
            let loop = [0xC0 | UInt8((at + 2) >> 8), UInt8((at + 2) & 0xFF), 0xC0 | UInt8(at >> 8), UInt8(at & 0xFF)]
            return [Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 0, 0, 1], owner: loop))]
        }
        XCTAssertTrue(malformedReason(result).contains("does not point backwards"))
    }

    func testReplyCutShortInsideARecordIsRefused() throws {
        let (result, _) = try resolve { query in
            let full = Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 0, 0, 1]))
            return [Array(full.dropLast(3))]
        }
        XCTAssertFalse(malformedReason(result).isEmpty)
    }

    func testHeaderAnnouncingMoreRecordsThanTheMessageHoldsIsRefused() throws {
        let (result, _) = try resolve { query in [Reply.build(to: query, answers: 900, body: Reply.aRecord([10, 0, 0, 1]))] }
        XCTAssertTrue(malformedReason(result).contains("announces 900 records"))
    }

    func testAddressRecordWithWrongLengthIsRefused() throws {
        let (result, _) = try resolve { query in [Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 0, 0, 1, 9]))] }
        XCTAssertTrue(malformedReason(result).contains("expected 4"))
    }

    func testBytesAfterTheLastRecordAreRefused() throws {
        let (result, _) = try resolve { query in [Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 0, 0, 1]) + [0, 0])] }
        XCTAssertTrue(malformedReason(result).contains("2 bytes after the last record"))
    }

    func testReplyToAnotherQuestionIsRefused() throws {
        let (result, _) = try resolve { query in
            var other = query
            other[13] ^= 0x20  // flip the case of the first letter: still the same name (DNS is case-blind)
            other[14] = UInt8(ascii: "x")  // a different name
            return [Reply.build(to: other, answers: 0, body: [])]
        }
        XCTAssertTrue(malformedReason(result).contains("answers another question"))
    }

    func testHeaderOnlyReplyIsRefused() throws {
        let (result, _) = try resolve { query in [Array(query[0..<6])] }
        XCTAssertTrue(malformedReason(result).contains("shorter than the 12-byte header"))
    }

    func testStrayReplyWithAnotherIDIsIgnoredAndTheRealOneRead() throws {
        let (result, _) = try resolve { query in
            let id = UInt16(query[0]) << 8 | UInt16(query[1])
            let type = UInt16(query[query.count - 4]) << 8 | UInt16(query[query.count - 3])
            let real = type == 1 ? Reply.build(to: query, answers: 1, body: Reply.aRecord([10, 9, 9, 9])) : Reply.build(to: query, answers: 0, body: [])
            return [Reply.build(to: query, id: id &+ 1, answers: 1, body: Reply.aRecord([6, 6, 6, 6])), real]
        }
        XCTAssertEqual(try result.get(), ["10.9.9.9"])
    }

    func testSilentServerTimesOutAfterExactlyTheConfiguredAttempts() throws {
        let (result, server) = try resolve({ _ in [] }, attempts: 3, timeout: 0.2)
        guard case .failure(.timeout(_, let attempts, _)) = result else { return XCTFail("expected a timeout, got \(result)") }
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(server.queriesReceived, 3)
        XCTAssertTrue("\(DNSError.timeout(server: server.server.description, attempts: 3, seconds: 0.2))".contains("did not answer"))
    }

    func testServerFailureIsReportedWithItsCode() throws {
        let (result, _) = try resolve { query in [Reply.build(to: query, flags: 0x8182, answers: 0, body: [])] }
        guard case .failure(.serverError(let name, let rcode, _)) = result else { return XCTFail("expected SERVFAIL, got \(result)") }
        XCTAssertEqual(name, "node.fleet.test")
        XCTAssertEqual(rcode, 2)
    }

    func testTruncatedReplyWithNoTCPServerIsATransportError() throws {
        // TC set: the resolver must ask again over TCP, where nothing listens on this port.
        let (result, _) = try resolve { query in [Reply.build(to: query, flags: Reply.noError | 0x0200, answers: 0, body: [])] }
        guard case .failure(.transport(_, let reason)) = result else { return XCTFail("expected the TCP retry to fail, got \(result)") }
        XCTAssertTrue(reason.contains("refused"), reason)
    }

    func testZeroRecordsIsAnErrorNotAnEmptyFleet() throws {
        let (result, _) = try resolve { query in [Reply.build(to: query, answers: 0, body: [])] }
        guard case .failure(.noRecords(let name, _, _)) = result else { return XCTFail("expected noRecords, got \(result)") }
        XCTAssertEqual(name, "node.fleet.test")
    }
}
