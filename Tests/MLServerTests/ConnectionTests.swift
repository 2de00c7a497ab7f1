import Foundation
import Glibc
import MLClient
import MLServer
import MLWire
import XCTest

final class ConnectionTests: XCTestCase {
    override func setUp() {
        // Both ends of every connection live in this process: lift the soft fd limit.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    func testThousandConcurrentConnectionsAreAllServed() throws {
        let node = try TestNode()
        defer { node.stop() }
        let features = demoRows(1)[0].features
        var clients: [NodeClient] = []
        for _ in 0..<1000 { clients.append(try node.client(role: nil)) }
        // Every connection has a request in flight before any reply is read.
        for client in clients {
            try client.send(raw: Message.hello(Hello(role: .data)).frameBytes(requestID: 1)
                + Message.predict(Predict(features: features)).frameBytes(requestID: 2))
        }
        // Accepting is asynchronous: the count reaches 1000 once every loop has accepted its share.
        XCTAssertTrue(waitUntil { node.server.connectionCount == 1000 }, "\(node.server.connectionCount) of 1000 accepted")
        for client in clients {
            XCTAssertEqual(try client.readFrame().header.messageType, .helloReply)
            let reply = try client.readFrame()
            XCTAssertEqual(reply.header.requestID, 2)
            guard case .predictResult(let result) = try reply.message() else { return XCTFail("\(reply)") }
            XCTAssertEqual(result.version, "v2.0")
        }
        clients.forEach { $0.close() }
        XCTAssertTrue(waitUntil { node.server.connectionCount == 0 })
    }

    func testConnectionLimitRefusesTheOneOverIt() throws {
        let node = try TestNode(maxConnections: 5)
        defer { node.stop() }
        var clients = try (0..<5).map { _ in try node.client() }
        let extra = try node.client(role: nil)
        let frame = try extra.readFrame()
        XCTAssertEqual(frame.header.statusCode, .resourceExhausted)
        XCTAssertEqual(frame.header.requestID, 0)
        XCTAssertTrue(extra.isClosedByPeer())
        for client in clients { XCTAssertTrue(try client.health().serving) }
        clients.removeLast().close()
        XCTAssertTrue(waitUntil { node.server.connectionCount == 4 })
        XCTAssertTrue(try node.client().health().serving)
    }
}

final class ServerLifecycleTests: XCTestCase {
    func testStartTwiceKeepsOneSetOfLoopsAndAStoppedServerStaysStopped() throws {
        let node = try TestNode()
        XCTAssertEqual(node.server.lifecycle, .running(port: node.port))
        XCTAssertEqual(try node.server.start(), node.port, "a second start returns the running port")
        XCTAssertTrue(try node.client().health().serving)
        node.server.shutdown()
        XCTAssertEqual(node.server.lifecycle, .draining)
        node.server.waitUntilStopped()
        XCTAssertEqual(node.server.lifecycle, .stopped)
        XCTAssertThrowsError(try node.server.start(), "a stopped server does not start again")
        node.stop()
    }
}
