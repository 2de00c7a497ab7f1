import Glibc
import Synchronization
import XCTest
import MLEventCore

/// The event-loop core on real descriptors (a socket pair, a loopback listener), no node.
final class PollerTests: XCTestCase {
    func testWakeFromAnotherThreadIsReportedOnceWithTheWakeToken() throws {
        let poller = try Poller()
        let thread = try LoopThread.start(name: "test-waker") { poller.wake(); poller.wake() }
        thread.join()
        XCTAssertEqual(poller.wait(timeoutMillis: 1_000), 1)
        XCTAssertEqual(poller.ready(0).token, Poller.wakeToken)
        XCTAssertEqual(poller.wait(timeoutMillis: 0), 0, "the two wake-ups merged and were consumed")
    }

    func testReadinessFollowsTheRegisteredInterest() throws {
        let poller = try Poller()
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends), 0)
        defer { ends.forEach { _ = close($0) } }
        XCTAssertTrue(poller.add(ends[0], interest: .read, token: 7))
        XCTAssertEqual(poller.wait(timeoutMillis: 0), 0, "nothing to read yet")

        var byte: UInt8 = 42
        XCTAssertEqual(write(ends[1], &byte, 1), 1)
        XCTAssertEqual(poller.wait(timeoutMillis: 1_000), 1)
        XCTAssertEqual(poller.ready(0).token, 7)
        XCTAssertTrue(poller.ready(0).readable)
        XCTAssertFalse(poller.ready(0).writable, "writability was not asked for")

        XCTAssertTrue(poller.modify(ends[0], interest: .write, token: 8))
        XCTAssertEqual(poller.wait(timeoutMillis: 1_000), 1)
        XCTAssertEqual(poller.ready(0).token, 8)
        XCTAssertTrue(poller.ready(0).writable)
        XCTAssertFalse(poller.ready(0).readable, "readability is no longer asked for")

        poller.remove(ends[0])
        XCTAssertEqual(poller.wait(timeoutMillis: 0), 0)
    }

    func testPeerEndOfInputReadsAsReadable() throws {
        let poller = try Poller()
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends), 0)
        defer { _ = close(ends[0]) }
        XCTAssertTrue(poller.add(ends[0], interest: .read, token: 1))
        _ = close(ends[1])
        XCTAssertEqual(poller.wait(timeoutMillis: 1_000), 1)
        XCTAssertTrue(poller.ready(0).readable)
    }

    /// EPOLLEXCLUSIVE refuses EPOLLRDHUP: a listener registered with `.acceptOne` must be accepted
    /// by epoll and report a pending connection.
    func testSharedListenerRegistrationIsAcceptedAndReportsAConnection() throws {
        let poller = try Poller()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(listener, raw, length) == 0, listen(listener, 4) == 0, getsockname(listener, raw, &length) == 0 else {
                    throw XCTSkip("cannot listen on 127.0.0.1")
                }
            }
        }
        XCTAssertTrue(poller.add(listener, interest: .acceptOne, token: 3))
        XCTAssertFalse(poller.add(listener, interest: .acceptOne, token: 3), "a second add of one descriptor is refused")

        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = close(client) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        XCTAssertEqual(connected, 0)
        XCTAssertEqual(poller.wait(timeoutMillis: 1_000), 1)
        XCTAssertEqual(poller.ready(0).token, 3)
        XCTAssertTrue(poller.ready(0).readable)
    }

    func testBrokenPollerFailsItsWait() throws {
        let poller = try Poller()
        poller.breakForFaultInjection()
        XCTAssertNil(poller.wait(timeoutMillis: 0))
    }

    func testLoopThreadRunsItsBodyBeforeJoinReturns() throws {
        let ran = Atomic<Int>(0)
        let threads = try (0..<3).map { i in try LoopThread.start(name: "test-\(i)") { ran.add(1, ordering: .relaxed) } }
        threads.forEach { $0.join() }
        XCTAssertEqual(ran.load(ordering: .relaxed), 3)
    }
}
