import Foundation
import MLWire
import XCTest

/// protocol/vectors/ is the contract every implementation checks itself against. These tests read
/// the files from disk and hold them to manifest.json.
final class VectorTests: XCTestCase {
    private func manifestEntries() throws -> [JSON] {
        let manifest = try JSON.parse(Repo.text(Repo.vectors.appendingPathComponent("manifest.json")))
        XCTAssertEqual(manifest["protocol_versions"], .array([.int(1), .int(2)]))
        return try XCTUnwrap(manifest["vectors"]?.arrayValue)
    }

    func testManifestListsEveryVectorFileExactlyOnce() throws {
        let listed = try manifestEntries().compactMap { $0["file"]?.stringValue }
        XCTAssertEqual(listed.count, Set(listed).count, "duplicate manifest entries")
        XCTAssertEqual(Set(listed), Set(try Repo.vectorFileNames()))
        for entry in try manifestEntries() {
            let file = try XCTUnwrap(entry["file"]?.stringValue)
            XCTAssertEqual(entry["size"], .int(try Repo.vector(file).count), file)
            XCTAssertNotNil(entry["description"]?.stringValue, file)
            XCTAssertTrue(["request", "response"].contains(entry["direction"]?.stringValue ?? ""), file)
        }
    }

    func testEveryMessageTypeHasAValidVector() throws {
        let types = try manifestEntries().compactMap { $0["expect"]?["type"]?.stringValue }
        for type in MessageType.allCases {
            XCTAssertTrue(types.contains(specName(type)), "no vector for \(specName(type))")
        }
    }

    func testEveryValidVectorDecodesToItsManifestFieldsAndReencodesIdentically() throws {
        var checked = 0
        for entry in try manifestEntries() where entry["expect"]?["outcome"] == .string("message") {
            let file = try XCTUnwrap(entry["file"]?.stringValue)
            let expect = try XCTUnwrap(entry["expect"])
            let bytes = try Repo.vector(file)

            let version = UInt8(try XCTUnwrap(entry["version"]?.numberValue, "\(file): no protocol version"))
            var decoder = FrameDecoder()
            if version >= 2 { decoder.allowedFlags = PredictFlags.withIDs }
            decoder.feed(bytes)
            let frame = try XCTUnwrap(try decoder.next(), file)
            XCTAssertNil(try decoder.next(), "\(file): one frame per file")
            XCTAssertNil(decoder.finish(), file)

            let message = try frame.message(version: version)
            XCTAssertEqual(.string(specName(message.type)), expect["type"], file)
            XCTAssertEqual(.int(frame.header.type), expect["type_code"], file)
            XCTAssertEqual(.string(message.status.name), expect["status"], file)
            XCTAssertEqual(.int(frame.header.requestID), expect["request_id"], file)
            XCTAssertEqual(.int(frame.payload.count), expect["payload_length"], file)
            XCTAssertEqual(fields(of: message), expect["fields"], "\(file): decoded fields differ from the manifest")
            XCTAssertEqual(message.frameBytes(requestID: frame.header.requestID), bytes, "\(file): re-encoding differs")
            XCTAssertEqual(frame.bytes, bytes, file)

            // Direction: requests go to the server, everything else comes back from it.
            XCTAssertEqual(entry["direction"], .string(message.type.isRequest ? "request" : "response"), file)
            if message.type.isRequest {
                XCTAssertEqual(serverRead(bytes, version: version), [.request(requestID: frame.header.requestID, message)], file)
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 23)
    }

    func testEveryInvalidVectorGetsItsStatusAndClosingBehaviour() throws {
        let health = HealthRequest().frameBytes(requestID: 99)
        var checked = 0
        for entry in try manifestEntries() where entry["expect"]?["outcome"] == .string("error") {
            let file = try XCTUnwrap(entry["file"]?.stringValue)
            let expect = try XCTUnwrap(entry["expect"])
            let maxPayload = Int(try XCTUnwrap(expect["max_payload"]?.numberValue))
            let closes = try XCTUnwrap(expect["closes_connection"]?.boolValue)
            let bytes = try Repo.vector(file)

            let outcomes = serverRead(bytes, maxPayload: maxPayload)
            guard outcomes.count == 1, case .error(let error, let requestID) = outcomes[0] else {
                XCTFail("\(file): expected one error, got \(outcomes)")
                continue
            }
            XCTAssertEqual(.string(error.status.name), expect["status"], "\(file): \(error)")
            XCTAssertEqual(.int(error.status.rawValue), expect["status_code"], file)
            XCTAssertEqual(error.closesConnection, closes, file)
            XCTAssertEqual(.int(requestID), expect["error_request_id"], file)
            XCTAssertEqual(.string(caseName(error)), expect["wire_error"], file)
            XCTAssertEqual(.string(error.description), expect["reason"], file)

            // A connection that stays open goes on to the next frame; one that closes reads no more.
            let followed = serverRead(bytes + health, maxPayload: maxPayload)
            if closes {
                // A truncated stream is no longer truncated once more bytes follow; everything
                // else must stop right there.
                if error.closesConnection, caseName(error) != "truncated" {
                    XCTAssertEqual(followed, outcomes, "\(file): nothing may be read after a closing error")
                }
            } else {
                XCTAssertEqual(followed, outcomes + [.request(requestID: 99, .health)], "\(file): the connection should stay usable")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 20)
    }

    /// The same invalid streams through the incremental decoder, one byte at a time: the same
    /// status and the same closing behaviour as the one-buffer server path.
    func testInvalidVectorsFedOneByteAtATimeFailTheSameWay() throws {
        for entry in try manifestEntries() where entry["expect"]?["outcome"] == .string("error") {
            let file = try XCTUnwrap(entry["file"]?.stringValue)
            let expect = try XCTUnwrap(entry["expect"])
            let bytes = try Repo.vector(file)
            var decoder = FrameDecoder(maxPayload: Int(try XCTUnwrap(expect["max_payload"]?.numberValue)))
            var found: WireError?
            feeding: for byte in bytes {
                decoder.feed([byte])
                do {
                    while let frame = try decoder.next() {
                        _ = try frame.payload.withUnsafeBytes { raw throws(WireError) in try decodeRequest(header: frame.header, payload: raw) }
                    }
                } catch {
                    found = error as? WireError
                    break feeding
                }
            }
            if found == nil { found = decoder.finish() }
            let error = try XCTUnwrap(found, file)
            XCTAssertEqual(.string(error.status.name), expect["status"], file)
            XCTAssertEqual(.bool(error.closesConnection), expect["closes_connection"], file)
            XCTAssertEqual(.string(caseName(error)), expect["wire_error"], file)
        }
    }

    /// The generator and the committed files agree, byte for byte (regenerate with
    /// `MLWIRE_WRITE_VECTORS=1`, see VectorCatalog).
    func testVectorFilesMatchGenerator() throws {
        for vector in VectorCatalog.all {
            XCTAssertEqual(try Repo.vector(vector.file), vector.bytes, "\(vector.file) differs from VectorCatalog")
        }
        let onDisk = try JSON.parse(Repo.text(Repo.vectors.appendingPathComponent("manifest.json")))
        XCTAssertEqual(onDisk, VectorCatalog.manifest(), "manifest.json differs from VectorCatalog")
    }
}

/// Writes protocol/vectors/ and refreshes PROTOCOL.md's hex examples. Skipped unless asked for.
final class VectorGeneratorTests: XCTestCase {
    func testWriteVectorsWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["MLWIRE_WRITE_VECTORS"] == "1" else {
            throw XCTSkip("set MLWIRE_WRITE_VECTORS=1 to regenerate protocol/vectors and PROTOCOL.md examples")
        }
        for name in try Repo.vectorFileNames() {
            try FileManager.default.removeItem(at: Repo.vectors.appendingPathComponent(name))
        }
        for vector in VectorCatalog.all {
            try Repo.write(vector.bytes, to: Repo.vectors.appendingPathComponent(vector.file))
        }
        try Repo.write(Array((VectorCatalog.manifest().serialized() + "\n").utf8), to: Repo.vectors.appendingPathComponent("manifest.json"))
        if FileManager.default.fileExists(atPath: Repo.protocolSpec.path) {
            let spec = try Repo.text(Repo.protocolSpec)
            let filled = try VectorCatalog.fillExamples(spec) { try Repo.vector($0) }
            try Repo.write(Array(filled.utf8), to: Repo.protocolSpec)
        }
    }
}
