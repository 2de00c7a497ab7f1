import Dispatch
import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import Synchronization
import XCTest

/// Invariant 8: bad bytes get a clear error, never a crash, and other connections never notice.
final class BadInputTests: XCTestCase {
    var node: TestNode!

    override func setUpWithError() throws { node = try TestNode(maxPayload: 64 * 1024) }
    override func tearDown() { node.stop() }

    private func header(type: UInt8, id: UInt32, length: UInt32, magic: UInt16 = FrameHeader.magic, version: UInt8 = 1) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes[0] = UInt8(magic & 0xFF); bytes[1] = UInt8(magic >> 8)
        bytes[2] = version
        bytes[3] = type
        withUnsafeBytes(of: id.littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(12..<16, with: $0) }
        return bytes
    }

    private func expectError(_ client: NodeClient, status: Status, id: UInt32, closes: Bool,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let frame = try client.readFrame()
        XCTAssertEqual(frame.header.messageType, .error, file: file, line: line)
        XCTAssertEqual(frame.header.statusCode, status, file: file, line: line)
        XCTAssertEqual(frame.header.requestID, id, file: file, line: line)
        if closes { XCTAssertTrue(client.isClosedByPeer(), "connection should close", file: file, line: line) }
    }

    /// Keeps a second connection predicting while `body` misbehaves on others.
    private func whileServing(_ body: () throws -> Void) throws {
        let stop = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let served = Atomic<Int>(0)
        let bystander = try node.client()
        let features = demoRows(1)[0].features
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let deadline = Date().addingTimeInterval(30)
            while !stop.load(ordering: .acquiring) && Date() < deadline {
                do { _ = try bystander.predict(features); served.wrappingAdd(1, ordering: .relaxed) } catch { failures.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        // The bystander is served before the misbehaviour starts and again after it ends.
        XCTAssertTrue(waitUntil { served.load(ordering: .relaxed) > 0 }, "the bystander was never served")
        try body()
        let mark = served.load(ordering: .relaxed)
        XCTAssertTrue(waitUntil { served.load(ordering: .relaxed) > mark }, "the bystander was not served after the bad input")
        stop.store(true, ordering: .releasing)
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(served.load(ordering: .relaxed), 0)
    }

    func testReadMessageWithMaliciousLengthIsRefusedBeforeAllocation() throws {
        try whileServing {
            let client = try node.client()
            // Declares 4 GiB - 1 but sends only the header: the node must answer without waiting.
            try client.send(raw: header(type: MessageType.predict.rawValue, id: 7, length: .max))
            try expectError(client, status: .resourceExhausted, id: 7, closes: true)
            // Before HELLO the limit is 4 KiB.
            let fresh = try node.client(role: nil)
            try fresh.send(raw: header(type: MessageType.hello.rawValue, id: 8, length: 5000))
            try expectError(fresh, status: .resourceExhausted, id: 8, closes: true)
        }
    }

    func testBadMagicAndBadFrameVersionCloseWithRequestIDZero() throws {
        try whileServing {
            let a = try node.client()
            try a.send(raw: header(type: 2, id: 9, length: 0, magic: 0x5454))
            try expectError(a, status: .invalidArgument, id: 0, closes: true)
            let b = try node.client()
            try b.send(raw: header(type: 2, id: 9, length: 0, version: 7))
            try expectError(b, status: .unimplemented, id: 0, closes: true)
            let garbage = try node.client()
            try garbage.send(raw: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            try expectError(garbage, status: .invalidArgument, id: 0, closes: true)
        }
    }

    func testUnknownTypeAndMalformedPayloadKeepTheConnection() throws {
        try whileServing {
            let client = try node.client()
            try client.send(raw: header(type: 0x42, id: 1, length: 0))
            try expectError(client, status: .unimplemented, id: 1, closes: false)
            try client.send(raw: header(type: MessageType.predictResult.rawValue, id: 2, length: 0))
            try expectError(client, status: .invalidArgument, id: 2, closes: false)
            // Declares 32 features, carries 3.
            try client.send(raw: header(type: MessageType.predict.rawValue, id: 3, length: 16) + [32, 0, 0, 0] + [UInt8](repeating: 0, count: 12))
            try expectError(client, status: .invalidArgument, id: 3, closes: false)
            var reserved = header(type: MessageType.health.rawValue, id: 4, length: 0)
            reserved[5] = 1
            try client.send(raw: reserved)
            try expectError(client, status: .invalidArgument, id: 4, closes: false)
            XCTAssertTrue(try client.health().serving)
            XCTAssertEqual(try client.predict(demoRows(1)[0].features).version, "v2.0")
        }
    }

    func testStreamEndingMidFrameGetsAnErrorAndLeavesNoTrace() throws {
        let baseline = node.server.connectionCount
        try whileServing {
            for cut in [3, 15, 17, 40] {
                let client = try node.client()
                let frame = Predict(features: demoRows(1)[0].features).frameBytes(requestID: 5)
                try client.send(raw: Array(frame.prefix(cut)))
                client.shutdownWrite()
                try expectError(client, status: .invalidArgument, id: 0, closes: true)
            }
            for _ in 0..<20 {
                let client = try node.client()
                try client.send(raw: Array(Predict(features: demoRows(1)[0].features).frameBytes(requestID: 6).prefix(30)))
                client.close()
            }
        }
        XCTAssertTrue(waitUntil { self.node.server.connectionCount == baseline }, "connections leaked: \(node.server.connectionCount)")
    }

    func testRandomGarbageNeverCrashesTheNode() throws {
        var generator = SplitMix64(seed: 42)
        try whileServing {
            for _ in 0..<200 {
                let client = try node.client()
                let length = Int(generator.next() % 300)
                var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                if generator.next() % 2 == 0 && bytes.count >= 2 { bytes[0] = 0x4D; bytes[1] = 0x4C }
                try client.send(raw: bytes)
                client.shutdownWrite()
                _ = client.isClosedByPeer()
            }
        }
        XCTAssertTrue(try node.client().health().serving)
    }
}

/// Polls `condition` for up to `seconds`. The 10 ms pause is the polling interval of a bounded
/// wait on a real condition, not synchronisation: it returns as soon as `condition` holds.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
