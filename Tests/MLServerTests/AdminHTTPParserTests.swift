import MLServer
import XCTest

/// The parser alone, fed by hand: each test is named after the boundary it defends.
final class AdminHTTPParserTests: XCTestCase {
    private func parse(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws(HTTPParseError) -> [HTTPRequest] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var out: [HTTPRequest] = []
        while let request = try parser.next() { out.append(request) }
        return out
    }

    private func status(of text: String, limits: HTTPRequestParser.Limits = .init()) -> Int? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch {
            return error.statusCode
        }
    }

    func testParsesRequestLineHeadersAndBody() throws {
        let requests = try parse("POST /model/rollback?x=1 HTTP/1.1\r\nHost: a\r\nCONTENT-length: 4\r\nX-Pad:  v  \r\n\r\nabcd")
        XCTAssertEqual(requests.count, 1)
        let r = requests[0]
        XCTAssertEqual(r.method, "POST")
        XCTAssertEqual(r.target, "/model/rollback?x=1")
        XCTAssertEqual(r.path, "/model/rollback")
        XCTAssertEqual(r.header("content-length"), "4")
        XCTAssertEqual(r.header("x-pad"), "v")
        XCTAssertEqual(r.body, Array("abcd".utf8))
        XCTAssertTrue(r.keepAlive)
    }

    func testByteAtATimeGivesTheSameRequests() throws {
        let text = "GET /health HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.0\r\nContent-Length: 2\r\n\r\nhiGET /ready HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
        var parser = HTTPRequestParser()
        var out: [HTTPRequest] = []
        for byte in text.utf8 {
            parser.append([byte])
            while let request = try parser.next() { out.append(request) }
        }
        XCTAssertEqual(out, try parse(text))
        XCTAssertEqual(out.map(\.keepAlive), [true, false, false])
        XCTAssertEqual(out[1].body, Array("hi".utf8))
        XCTAssertFalse(parser.hasPartialRequest)
    }

    func testKeepAliveSemantics() throws {
        XCTAssertTrue(try parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n")[0].keepAlive)
        XCTAssertFalse(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n")[0].keepAlive)
        XCTAssertFalse(try parse("GET / HTTP/1.0\r\n\r\n")[0].keepAlive)
        XCTAssertTrue(try parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[0].keepAlive)
    }

    func testIncompleteInputAsksForMore() throws {
        XCTAssertEqual(try parse("GET /health HTTP/1.1\r\nHost: a\r\n"), [])
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"), [])
        XCTAssertEqual(try parse("GET / HTTP/1.1\r"), [])
    }

    func testLeadingEmptyLinesAreSkipped() throws {
        XCTAssertEqual(try parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").count, 1)
    }

    func testMalformedRequestLinesAre400() {
        for bad in ["GET\r\n\r\n", "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n",
                    "GET http://host/ HTTP/1.1\r\nHost: a\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET /a\u{7F} HTTP/1.1\r\n\r\n",
                    "GET / HTTP/1.x\r\n\r\n", "GET / http/1.1\r\n\r\n", "\u{0}\u{1}\u{2}\r\n\r\n"] {
            XCTAssertEqual(status(of: bad), 400, bad.debugDescription)
        }
        XCTAssertEqual(status(of: "GET / HTTP/2.0\r\n\r\n"), 505)
    }

    func testBareLFAndBareCRAreRefused() {
        XCTAssertEqual(status(of: "GET / HTTP/1.1\nHost: a\n\n"), 400)
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"), 400)
    }

    func testMalformedHeadersAre400() {
        for bad in ["X : y", ": y", "X", "X\u{1}: y", "X: a\u{0}b", " folded: y", "Bad Name: y"] {
            XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\r\n\(bad)\r\n\r\n"), 400, bad.debugDescription)
        }
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 needs Host")
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400)
    }

    func testContentLengthRules() {
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400)
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n"), 400)
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400)
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413)
        XCTAssertNil(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"))
    }

    func testChunkedIs411AndSmugglingShapeIs400() {
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 411)
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400)
    }

    func testRequestLineOverLimitIs414() {
        let limits = HTTPRequestParser.Limits(requestLine: 64)
        XCTAssertEqual(status(of: "GET /" + String(repeating: "a", count: 100), limits: limits), 414, "detected before the line ends")
        XCTAssertNil(status(of: "GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits))
        XCTAssertEqual(status(of: "GET /" + String(repeating: "a", count: 8 * 1024) + " HTTP/1.1\r\n\r\n"), 414)
    }

    func testHeaderBlockOverLimitIs431() {
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 17 * 1024)), 431)
        let many = (0..<65).map { "X-\($0): y\r\n" }.joined()
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\r\n" + many + "\r\n"), 431)
        let sixtyFour = (0..<63).map { "X-\($0): y\r\n" }.joined()
        XCTAssertNil(status(of: "GET / HTTP/1.1\r\nHost: a\r\n" + sixtyFour + "\r\n"))
    }

    func testBodyOverLimitIs413BeforeTheBodyArrives() {
        XCTAssertEqual(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n"), 413)
        XCTAssertNil(status(of: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n"))
    }

    func testExpectContinueIsSignalledOnce() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        XCTAssertNil(try parser.next())
        XCTAssertTrue(parser.expectsContinue)
        parser.continueSent()
        parser.append(Array("ok".utf8))
        XCTAssertEqual(try parser.next()?.body, Array("ok".utf8))
        XCTAssertFalse(parser.expectsContinue)
        XCTAssertEqual(status(of: "GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n"), 417)
    }

    func testAnErrorIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\n".utf8))
        XCTAssertThrowsError(try parser.next())
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        XCTAssertThrowsError(try parser.next())
        XCTAssertEqual(parser.bufferedCount, 0)
    }

    /// Random and mutated bytes, split at random points: the parser must return or throw, never
    /// trap, and never buffer more than one request's worth beyond what it was given.
    func testArbitraryBytesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let seeds = ["GET /health HTTP/1.1\r\nHost: a\r\n\r\n", "POST /model/reload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n{\"a\"}"]
        let limits = HTTPRequestParser.Limits(requestLine: 256, headerCount: 8, headerBlock: 512, body: 512)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = Array(seeds[round % seeds.count].utf8)
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = [0, 10, 13, 32, 58, 255, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
                }
            }
            var parser = HTTPRequestParser(limits: limits)
            var offset = 0
            loop: while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...64, using: &rng))
                parser.append(bytes[offset..<end])
                offset = end
                do {
                    while try parser.next() != nil {}
                } catch {
                    XCTAssertTrue([400, 411, 413, 414, 417, 431, 505].contains(error.statusCode), "\(error)")
                    break loop
                }
                XCTAssertLessThanOrEqual(parser.bufferedCount, limits.maxRequestBytes + 64)
            }
        }
    }
}
