import CEpoll
import Foundation
import Glibc
import MLClient
import MLTooling
import MLWire
import XCTest

/// Issue 10 point 4: SIGTERM answers and flushes every request the node had received, even for a
/// client that reads slowly, and ends each stream on a frame boundary with a clean end of file
/// (FIN, not a reset that would destroy replies still queued).
final class DrainTests: XCTestCase {
    /// A raw socket with a small receive buffer, so the node's replies back up into its own
    /// buffers (the slow-reader case), and a blocking send.
    private func slowReader(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        return fd
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    func testSigtermAnswersEveryRequestReceivedForSlowReadersAndEndsOnAFrameBoundary() throws {
        let files = try NodeProcess()
        defer { files.remove() }
        let node = try files.start(["--drain-timeout", "30"])
        let streams = 4
        let perStream = 7_000
        let row = demoRows(1)[0].features
        var sockets: [Int32] = []
        for _ in 0..<streams {
            let fd = try slowReader(port: node.endpoint.port)
            var bytes = Message.hello(Hello(role: .data)).frameBytes(requestID: 1)
            for id in 0..<perStream { bytes += Message.predict(Predict(features: row)).frameBytes(requestID: UInt32(2 + id)) }
            XCTAssertTrue(sendAll(fd, bytes), "send: \(String(cString: strerror(errno)))")
            sockets.append(fd)
        }
        // Every request has reached the node (the client's kernel holds nothing unacknowledged)
        // while its replies back up, since nobody reads yet. Then stop it.
        for fd in sockets {
            var polls = 0
            while cepoll_unacknowledged_bytes(fd) > 0 && polls < 1000 { usleep(10_000); polls += 1 }
            XCTAssertEqual(cepoll_unacknowledged_bytes(fd), 0, "test setup: the node did not receive every request")
        }
        node.signal(SIGTERM)
        for fd in sockets {
            var decoder = FrameDecoder(maxPayload: FrameParser.absoluteMaxPayload)
            var buffer = [UInt8](repeating: 0, count: 4096)
            var answered = 0
            var ended = false
            while !ended {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n == 0 { ended = true; break }
                XCTAssertGreaterThan(n, 0, "stream failed: \(String(cString: strerror(errno))) after \(answered) replies")
                if n < 0 { break }
                buffer.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                while let frame = try decoder.next() {
                    if frame.header.messageType == .predictResult { answered += 1 }
                    XCTAssertNotEqual(frame.header.messageType, .error)
                }
                usleep(200)  // a slow reader
            }
            XCTAssertTrue(ended, "no clean end of file")
            XCTAssertEqual(answered, perStream, "every request sent before SIGTERM is answered")
            XCTAssertNil(decoder.finish(), "the stream ended mid-frame")
            close(fd)
        }
        XCTAssertEqual(node.waitForExit(timeout: 30), 0)
        XCTAssertTrue(node.logged.contains("event=drain_finished"), node.logged)
        XCTAssertTrue(node.logged.contains("connections_cut=0"), node.logged)
    }

    func testNewConnectionsAreRefusedOnceTheDrainBegins() throws {
        let files = try NodeProcess()
        defer { files.remove() }
        let node = try files.start()
        let held = try NodeClient(node.endpoint, timeout: 10)
        try held.hello()
        let port = node.endpoint
        node.signal(SIGTERM)
        XCTAssertTrue(node.waitForLog("event=drain_started"))
        var refused = false
        for _ in 0..<200 where !refused {
            do { _ = try NodeClient(port, timeout: 2) ; usleep(10_000) } catch { refused = true }
        }
        XCTAssertTrue(refused, "the listener kept accepting while draining")
        XCTAssertTrue(held.isClosedByPeer())
        XCTAssertEqual(node.waitForExit(), 0)
    }
}
