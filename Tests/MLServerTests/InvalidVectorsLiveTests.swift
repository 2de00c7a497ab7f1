import Foundation
import MLClient
import MLWire
import XCTest

/// Every invalid vector of protocol/vectors/, sent to a real node over TCP: the node must answer
/// exactly what manifest.json says (status, request id, whether it closes), and a connection it
/// keeps must still serve. The codec tests check the same files against MLWire alone; this checks
/// the server's own order of checks (PROTOCOL.md §9), not a test-side copy of it.
final class InvalidVectorsLiveTests: XCTestCase {
    private var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    private static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("protocol/vectors")

    private func invalidEntries() throws -> [[String: Any]] {
        let data = try Data(contentsOf: Self.vectors.appendingPathComponent("manifest.json"))
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try XCTUnwrap(manifest["vectors"] as? [[String: Any]])
        return entries.filter { (($0["expect"] as? [String: Any])?["outcome"] as? String) == "error" }
    }

    func testEveryInvalidVectorIsAnsweredByALiveNodeAsTheManifestSays() throws {
        let entries = try invalidEntries()
        XCTAssertGreaterThanOrEqual(entries.count, 28, "the manifest lost its invalid vectors")
        for entry in entries {
            let file = try XCTUnwrap(entry["file"] as? String)
            let expect = try XCTUnwrap(entry["expect"] as? [String: Any])
            let status = try XCTUnwrap(Status(name: try XCTUnwrap(expect["status"] as? String)), file)
            let requestID = UInt32(try XCTUnwrap(expect["error_request_id"] as? Int))
            let closes = try XCTUnwrap(expect["closes_connection"] as? Bool)
            let maxPayload = try XCTUnwrap(expect["max_payload"] as? Int)
            let endsMidFrame = (expect["wire_error"] as? String) == "truncated"
            let bytes = [UInt8](try Data(contentsOf: Self.vectors.appendingPathComponent(file)))

            // A vector read with the pre-HELLO limit is sent before HELLO; every other one after
            // a controller's HELLO, so the role check (§9 step 10) lets it reach the payload check.
            let client = try NodeClient(node.endpoint, timeout: 10)
            if maxPayload != FrameParser.preHelloMaxPayload {
                try client.hello(role: .controller, token: TestNode.token, clientName: "vectors", maxVersion: 1)
            }
            try client.send(raw: bytes)
            if endsMidFrame { client.shutdownWrite() }

            let frame = try client.readFrame()
            XCTAssertEqual(frame.header.messageType, .error, "\(file): answered with type \(frame.header.type)")
            XCTAssertEqual(frame.header.statusCode, status, file)
            XCTAssertEqual(frame.header.requestID, requestID, file)
            if closes {
                XCTAssertTrue(client.isClosedByPeer(), "\(file): the node kept a connection it must close")
            } else {
                let probe = HealthRequest().frameBytes(requestID: 777)
                try client.send(raw: probe)
                let reply = try client.readFrame()
                XCTAssertEqual(reply.header.messageType, .healthReply, "\(file): the connection did not stay usable")
                XCTAssertEqual(reply.header.requestID, 777, file)
            }
            client.close()
        }
    }
}
