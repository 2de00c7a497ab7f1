import XCTest
import MLWire
@testable import MLServer

/// The binary connection's lifecycle without a socket: each event the loop reports, and the
/// action it gets back. The same paths from outside, over TCP, are in ConnectionTests,
/// BadInputTests, DrainTests and ControlAuthTests.
final class ConnectionLifecycleTests: XCTestCase {
    private let limits = ConnectionLifecycle.Limits(helloNanos: 100, frameNanos: 50, idleNanos: 1_000)
    private let highWater = ConnectionLifecycle.outputHighWater

    func testGreetingDecodesUntilHelloAndThenServes() {
        var lifecycle = ConnectionLifecycle(acceptedAt: 10)
        XCTAssertEqual(lifecycle.phase, .greeting)
        XCTAssertTrue(lifecycle.decodes(pendingOutput: 0))
        XCTAssertEqual(lifecycle.protocolVersion, 1, "errors before HELLO use the v1 layout")
        lifecycle.greet(role: .data, version: 2, handOff: true)
        XCTAssertEqual(lifecycle.phase, .serving, "only controllers move to the control loop")
        XCTAssertTrue(lifecycle.greeted)
        XCTAssertEqual(lifecycle.protocolVersion, 2)
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .watch(read: true, write: false))
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 10), .watch(read: true, write: true))
    }

    func testSecondGreetChangesNothing() {
        var lifecycle = ConnectionLifecycle(acceptedAt: 0)
        lifecycle.greet(role: .labeller, version: 2, handOff: false)
        lifecycle.greet(role: .controller, version: 1, handOff: false)
        XCTAssertEqual(lifecycle.role, .labeller)
        XCTAssertEqual(lifecycle.protocolVersion, 2)
    }

    func testControllerOnADataLoopMigratesThenServesOnTheControlLoop() {
        var lifecycle = ConnectionLifecycle(acceptedAt: 0)
        lifecycle.greet(role: .controller, version: 2, handOff: true)
        XCTAssertEqual(lifecycle.phase, .migrating)
        XCTAssertFalse(lifecycle.decodes(pendingOutput: 0), "frames after HELLO stay unread for the control loop")
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .handOff)
        lifecycle.handedOff()
        XCTAssertEqual(lifecycle.phase, .serving)
        XCTAssertTrue(lifecycle.decodes(pendingOutput: 0))

        var onControlLoop = ConnectionLifecycle(acceptedAt: 0)
        onControlLoop.greet(role: .controller, version: 2, handOff: false)
        XCTAssertEqual(onControlLoop.phase, .serving)
    }

    func testLoadHoldsLaterRequestsUntilItsReply() {
        var lifecycle = serving()
        lifecycle.awaitControl()
        XCTAssertEqual(lifecycle.phase, .awaitingControl)
        XCTAssertFalse(lifecycle.decodes(pendingOutput: 0))
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .watch(read: false, write: false), "no reads while a reply is awaited")
        lifecycle.controlReplied()
        XCTAssertEqual(lifecycle.phase, .serving)
        XCTAssertTrue(lifecycle.decodes(pendingOutput: 0))
    }

    func testUnreadOutputAboveHighWaterStopsDecodingAndReading() {
        let lifecycle = serving()
        XCTAssertTrue(lifecycle.decodes(pendingOutput: highWater))
        XCTAssertFalse(lifecycle.decodes(pendingOutput: highWater + 1))
        var copy = lifecycle
        XCTAssertEqual(copy.afterIO(pendingOutput: highWater + 1), .watch(read: false, write: true))
    }

    func testCloseWaitsForTheFlush() {
        var lifecycle = serving()
        lifecycle.closeAfterFlush()
        XCTAssertEqual(lifecycle.phase, .closing)
        XCTAssertFalse(lifecycle.decodes(pendingOutput: 0))
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 5), .watch(read: false, write: true))
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .close)
    }

    func testEndOfInputClosesAndReportsTheLeftover() {
        var lifecycle = serving()
        XCTAssertNil(lifecycle.endOfInput(buffered: 3), "the input has not ended")
        lifecycle.peerEnded()
        XCTAssertEqual(lifecycle.endOfInput(buffered: 3), 3, "a partial frame at end of input is reported as truncated")
        XCTAssertEqual(lifecycle.phase, .closing)
        XCTAssertNil(lifecycle.endOfInput(buffered: 3), "reported once")

        var clean = serving()
        clean.peerEnded()
        XCTAssertEqual(clean.endOfInput(buffered: 0), 0)
        XCTAssertEqual(clean.afterIO(pendingOutput: 0), .close)
    }

    func testEndOfInputWaitsWhileALoadRuns() {
        var lifecycle = serving()
        lifecycle.awaitControl()
        lifecycle.peerEnded()
        XCTAssertNil(lifecycle.endOfInput(buffered: 0), "the load's reply still has to be sent")
        lifecycle.controlReplied()
        XCTAssertEqual(lifecycle.endOfInput(buffered: 0), 0)
    }

    func testDrainAnswersWhatHadArrivedThenHalfCloses() {
        var lifecycle = serving()
        lifecycle.beginDrain(unread: 40)
        lifecycle.beginDrain(unread: 999)
        XCTAssertEqual(lifecycle.drainBudget, 40, "the first count stands")
        XCTAssertEqual(lifecycle.readLimit(room: 16_384), 40, "never reads past what had arrived")
        lifecycle.received(25)
        XCTAssertEqual(lifecycle.readLimit(room: 16_384), 15)
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .watch(read: true, write: false))
        lifecycle.received(15)
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 7), .watch(read: false, write: true), "replies first")
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .halfClose)
        XCTAssertEqual(lifecycle.phase, .halfClosed)
        XCTAssertTrue(lifecycle.wantsInput(pendingOutput: 0), "half-closed: read to discard")
        XCTAssertFalse(lifecycle.decodes(pendingOutput: 0))
        XCTAssertFalse(lifecycle.isCut(pendingOutput: 0))
        lifecycle.closeAfterFlush()
        XCTAssertEqual(lifecycle.phase, .halfClosed, "already leaving")
    }

    func testDrainWithThePeerGoneClosesInsteadOfHalfClosing() {
        var lifecycle = serving()
        lifecycle.beginDrain(unread: 10)
        lifecycle.peerEnded()
        XCTAssertEqual(lifecycle.drainBudget, 0)
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .close)
    }

    func testDrainWaitsForAPendingLoad() {
        var lifecycle = serving()
        lifecycle.awaitControl()
        lifecycle.beginDrain(unread: 0)
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .watch(read: false, write: false))
        XCTAssertTrue(lifecycle.isCut(pendingOutput: 0), "cut if the deadline came now")
        lifecycle.controlReplied()
        XCTAssertEqual(lifecycle.afterIO(pendingOutput: 0), .halfClose)
    }

    func testHelloTimer() {
        let lifecycle = ConnectionLifecycle(acceptedAt: 1_000)
        XCTAssertNil(lifecycle.expiredTimer(now: 1_100, buffered: 0, pendingOutput: 0, limits: limits))
        XCTAssertEqual(lifecycle.expiredTimer(now: 1_101, buffered: 0, pendingOutput: 0, limits: limits), .hello)
    }

    func testFrameTimerRunsOnlyWhileAPartialFrameWaitsForThePeer() {
        var lifecycle = serving()
        lifecycle.notePartialFrame(buffered: 7, pendingOutput: 0, now: 200)
        lifecycle.notePartialFrame(buffered: 9, pendingOutput: 0, now: 230)
        XCTAssertEqual(lifecycle.partialSince, 200, "the first sight of the frame starts the timer")
        XCTAssertNil(lifecycle.expiredTimer(now: 250, buffered: 9, pendingOutput: 0, limits: limits))
        XCTAssertEqual(lifecycle.expiredTimer(now: 251, buffered: 9, pendingOutput: 0, limits: limits), .frame)
        lifecycle.notePartialFrame(buffered: 9, pendingOutput: highWater + 1, now: 260)
        XCTAssertEqual(lifecycle.partialSince, 0, "our unsent output is not the peer's delay")
        lifecycle.notePartialFrame(buffered: 0, pendingOutput: 0, now: 270)
        XCTAssertNil(lifecycle.expiredTimer(now: 300, buffered: 0, pendingOutput: 0, limits: limits), "cleared once nothing is buffered")
    }

    func testIdleTimerSparesControllersBusyConnectionsAndZero() {
        var data = serving(at: 0)
        data.touched(now: 500)
        XCTAssertNil(data.expiredTimer(now: 1_500, buffered: 0, pendingOutput: 0, limits: limits))
        XCTAssertEqual(data.expiredTimer(now: 1_501, buffered: 0, pendingOutput: 0, limits: limits), .idle)
        XCTAssertNil(data.expiredTimer(now: 1_501, buffered: 0, pendingOutput: 3, limits: limits), "a reply is still going out")
        var noIdleLimit = limits
        noIdleLimit.idleNanos = 0
        XCTAssertNil(data.expiredTimer(now: 1_000_000, buffered: 0, pendingOutput: 0, limits: noIdleLimit))

        var controller = ConnectionLifecycle(acceptedAt: 0)
        controller.greet(role: .controller, version: 2, handOff: false)
        XCTAssertNil(controller.expiredTimer(now: 1_000_000, buffered: 0, pendingOutput: 0, limits: limits))
    }

    func testOnlyGreetingAndServingConnectionsHaveTimers() {
        var loading = serving(at: 0)
        loading.awaitControl()
        XCTAssertNil(loading.expiredTimer(now: 1_000_000, buffered: 0, pendingOutput: 0, limits: limits))
        var closing = ConnectionLifecycle(acceptedAt: 0)
        closing.closeAfterFlush()
        XCTAssertNil(closing.expiredTimer(now: 1_000_000, buffered: 0, pendingOutput: 0, limits: limits))
    }

    func testReserveOnlyIsKept() {
        XCTAssertTrue(ConnectionLifecycle(acceptedAt: 0, reserveOnly: true).reserveOnly)
        XCTAssertFalse(ConnectionLifecycle(acceptedAt: 0).reserveOnly)
    }

    private func serving(at time: UInt64 = 0) -> ConnectionLifecycle {
        var lifecycle = ConnectionLifecycle(acceptedAt: time)
        lifecycle.greet(role: .data, version: 2, handOff: false)
        return lifecycle
    }
}
