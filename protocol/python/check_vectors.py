#!/usr/bin/env python3
"""Checks every vector in protocol/vectors/manifest.json with the Python codec.

Valid vectors (``"outcome": "message"``):

* the file is exactly one frame; it decodes to the manifest's type, type code, status,
  request id, payload length and ``fields`` (floats compared as binary32 bit patterns);
* encoding the manifest's fields again (and the decoded fields) gives the same bytes;
* fed one byte at a time to :class:`FrameDecoder`, the frame appears exactly at its last byte;
* a request is accepted by the simulated server (below) in the state it needs.

Invalid vectors (``"outcome": "error"``) are run through a simulated server that applies the
checks of PROTOCOL.md §9 in its order (steps 1-4 in ``FrameDecoder``, 5-8 in
``check_request_header``, 9-10 here, 11 in ``decode_payload``), with the payload limit
``max_payload``, fed whole and one byte at a time. The first answer MUST be an ERROR with the
expected status and request id; the connection MUST close after it exactly when
``closes_connection`` is true (then nothing after it is answered); otherwise a HEALTH frame
appended to the stream MUST still be answered. An oversized length MUST be refused as soon as
the 16th header byte arrives, before any payload byte.

The manifest does not say which session state an invalid vector is read in. This checker uses:
``max_payload`` 4096 = before HELLO; otherwise HELLO accepted with role controller (the only
state in which every vector reaches the check it names, e.g. SWAP payload checks need step 10
to pass). That choice is reported in README.md.

Also checked: each ``<!-- vector: NAME -->`` hex block in PROTOCOL.md equals its file.

Prints ``N passed, M failed`` (one count per vector) and exits 1 on any failure.
"""

from __future__ import annotations

import json
import pathlib
import re
import struct
import sys
from typing import Any, Dict, List, Optional, Tuple

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mlserve_client as ml  # noqa: E402

ROOT = HERE.parent
VECTORS = ROOT / "vectors"
SPEC = ROOT / "PROTOCOL.md"
NODE_TOKEN = "s3cr3t-controller-token"  # the simulated node's token (the vectors' one)


# --------------------------------------------------------------------------------------------
# A simulated server: the checks of §9, in order
# --------------------------------------------------------------------------------------------

class SimulatedServer:
    """Reads one connection's byte stream and records what it answers.

    ``answers`` is a list of ``(type_name, status_name, request_id, kind)``; ``closed`` says
    whether it closed the connection; ``closed_after`` how many bytes had been fed then.
    """

    def __init__(self, max_payload: int, hello_accepted: bool, role: str = "data", version: int = 1):
        self.decoder = ml.FrameDecoder(max_payload)
        self.version = version
        self.hello_accepted = hello_accepted
        self.role = role
        self.answers: List[Tuple[str, str, int, str]] = []
        self.closed = False
        self.closed_after: Optional[int] = None
        self.fed = 0

    def _error(self, error: ml.WireError) -> None:
        self.answers.append(("ERROR", error.status, error.request_id, error.kind))

    def _close(self, error: ml.WireError) -> None:
        self._error(error)
        self.closed = True
        self.closed_after = self.fed

    def feed(self, data: bytes) -> None:
        if self.closed:
            return
        self.fed += len(data)
        self.decoder.feed(data)
        try:
            for frame in self.decoder.frames():          # steps 1-4 (magic, version, length)
                self._handle(frame)
                if self.closed:
                    return
        except ml.WireError as error:
            self._close(error)

    def finish(self) -> None:
        if self.closed:
            return
        try:
            self.decoder.finish()                        # step 4: end of stream mid-frame
        except ml.WireError as error:
            self._close(error)

    def _handle(self, frame: ml.Frame) -> None:
        rid = frame.request_id
        try:
            name = ml.check_request_header(frame, self.version)  # steps 5-8
            if not self.hello_accepted and name not in ml.PRE_HELLO_TYPES:   # step 9
                raise ml.WireError("state", "send HELLO first", "FAILED_PRECONDITION", rid)
            if name in ml.CONTROLLER_TYPES and self.role != "controller":     # step 10
                raise ml.WireError("role", f"{name} needs the controller role", "PERMISSION_DENIED", rid)
            if name in ml.LABELLER_TYPES and self.role == "data":
                raise ml.WireError("role", f"{name} needs the labeller or controller role", "PERMISSION_DENIED", rid)
            try:
                fields = ml.decode_payload(name, frame.payload, self.version, frame.flags)  # step 11
            except ml.WireError as error:
                error.request_id = rid
                raise
            self._apply(name, fields, rid)                                    # step 12
        except ml.WireError as error:
            if error.closes:
                self._close(error)
            else:
                self._error(error)

    def _apply(self, name: str, fields: Dict[str, Any], rid: int) -> None:
        """Step 12, as far as a node without models can tell: the HELLO rules of §8."""
        if name == "HELLO":
            if self.hello_accepted:
                raise ml.WireError("state", "second HELLO", "FAILED_PRECONDITION", rid)
            if fields["max_version"] < min(ml.SUPPORTED_VERSIONS) or fields["min_version"] > ml.PROTOCOL_VERSION:
                raise ml.WireError("state", "no common protocol version", "UNIMPLEMENTED", rid)
            if fields["role"] == "controller" and fields["token"] != NODE_TOKEN:
                raise ml.WireError("state", "bad token", "UNAUTHENTICATED", rid, closes=True)
            self.hello_accepted = True
            self.role = fields["role"]
            self.decoder.max_payload = ml.DEFAULT_MAX_PAYLOAD
        self.answers.append((ml.TYPE_NAMES[ml.TYPES[name] | 0x80], "OK", rid, ""))


def run_server(stream: bytes, max_payload: int, hello_accepted: bool, role: str, bytewise: bool,
               version: int = 1) -> SimulatedServer:
    server = SimulatedServer(max_payload, hello_accepted, role, version)
    if bytewise:
        for i in range(len(stream)):
            server.feed(stream[i:i + 1])
    else:
        server.feed(stream)
    server.finish()
    return server


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------

def same(expected: Any, got: Any, path: str, problems: List[str]) -> None:
    """Compares manifest fields with decoded fields; floats as binary32 bit patterns."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            problems.append(f"{path}: expected an object, got {got!r}")
            return
        if set(expected) != set(got):
            problems.append(f"{path}: field names differ: manifest {sorted(expected)} vs decoded {sorted(got)}")
        for key in expected:
            if key in got:
                same(expected[key], got[key], f"{path}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(got, list) or len(expected) != len(got):
            problems.append(f"{path}: expected {expected!r}, got {got!r}")
            return
        for i, (e, g) in enumerate(zip(expected, got)):
            same(e, g, f"{path}[{i}]", problems)
    elif isinstance(expected, bool) or isinstance(got, bool):
        if expected is not got:
            problems.append(f"{path}: expected {expected!r}, got {got!r}")
    elif isinstance(expected, float) or isinstance(got, float):
        if struct.pack("<f", expected) != struct.pack("<f", got):
            problems.append(f"{path}: expected {expected!r}, got {got!r}")
    elif expected != got:
        problems.append(f"{path}: expected {expected!r}, got {got!r}")


def doc_blocks() -> Dict[str, bytes]:
    """Every ``<!-- vector: NAME -->`` hex block of PROTOCOL.md, as bytes."""
    text = SPEC.read_text(encoding="utf-8")
    blocks = {}
    for match in re.finditer(r"<!-- vector: (\S+) -->\s*```hex\n(.*?)```", text, re.S):
        raw = bytearray()
        for line in match.group(2).splitlines():
            _, _, hexpart = line.partition(":")
            raw += bytes.fromhex(hexpart)
        blocks[match.group(1)] = bytes(raw)
    return blocks


def state_for(vector: Dict[str, Any]) -> Tuple[bool, str]:
    """(hello_accepted, role) a request vector is read in."""
    expect = vector["expect"]
    if expect["outcome"] == "message":
        return (expect["type"] != "HELLO"), "controller"
    return (expect["max_payload"] != ml.PRE_HELLO_MAX_PAYLOAD), "controller"


HEALTH_PROBE_ID = 0xABCD


def check_message(vector: Dict[str, Any], data: bytes, problems: List[str]) -> None:
    expect = vector["expect"]
    try:
        frame = ml.decode_frame(data, version=vector["version"])
    except (ml.WireError, ValueError) as error:
        problems.append(f"does not decode: {error}")
        return
    got = {"type": frame.type, "type_code": frame.type_code, "status": frame.status,
           "request_id": frame.request_id, "payload_length": len(frame.payload)}
    for key, value in got.items():
        if expect[key] != value:
            problems.append(f"{key}: expected {expect[key]!r}, got {value!r}")
    same(expect["fields"], frame.fields, "fields", problems)
    # Re-encode: the manifest's fields, and what we decoded.
    for label, fields in (("manifest fields", expect["fields"]), ("decoded fields", frame.fields)):
        try:
            again = ml.encode_frame(expect["type"], expect["request_id"], fields, expect["status"],
                                    version=vector["version"])
        except (ValueError, KeyError, ml.WireError) as error:
            problems.append(f"re-encoding the {label} failed: {error!r}")
            continue
        if again != data:
            at = next((i for i, (a, b) in enumerate(zip(again, data)) if a != b), min(len(again), len(data)))
            problems.append(f"re-encoding the {label} gives different bytes from offset {at} "
                            f"({len(again)} vs {len(data)} bytes): {again[at:at + 8].hex()} vs {data[at:at + 8].hex()}")
    # Incremental: the frame completes exactly at its last byte.
    decoder = ml.FrameDecoder(ml.CONFIGURABLE_MAX_PAYLOAD)
    for i in range(len(data)):
        decoder.feed(data[i:i + 1])
        frames = list(decoder.frames())
        if frames and (i != len(data) - 1 or len(frames) != 1 or frames[0].payload != frame.payload):
            problems.append(f"byte-wise decoding yielded {len(frames)} frame(s) after {i + 1} bytes")
            break
    # A valid request is accepted by the simulated server.
    if vector["direction"] == "request":
        hello, role = state_for(vector)
        server = run_server(data, ml.DEFAULT_MAX_PAYLOAD if hello else ml.PRE_HELLO_MAX_PAYLOAD, hello, role, False,
                            vector["version"])
        want = [(ml.TYPE_NAMES[expect["type_code"] | 0x80], "OK", expect["request_id"], "")]
        if server.answers != want or server.closed:
            problems.append(f"simulated server answered {server.answers} (closed {server.closed}), expected {want}")


def check_error(vector: Dict[str, Any], data: bytes, problems: List[str], notes: List[str]) -> None:
    expect = vector["expect"]
    hello, role = state_for(vector)
    limit = expect["max_payload"]
    want = ("ERROR", expect["status"], expect["error_request_id"])
    if ml.STATUSES[expect["status"]] != expect["status_code"]:
        problems.append(f"status {expect['status']} is not code {expect['status_code']} in §6")
    probe = ml.encode_frame("HEALTH", HEALTH_PROBE_ID)
    truncated = expect.get("wire_error") == "truncated"
    for bytewise in (False, True):
        mode = "byte-wise" if bytewise else "whole"
        server = run_server(data, limit, hello, role, bytewise)
        if not server.answers or server.answers[0][:3] != want:
            problems.append(f"{mode}: first answer {server.answers[:1]}, expected {want}")
            continue
        if server.closed != expect["closes_connection"]:
            problems.append(f"{mode}: closed={server.closed}, expected {expect['closes_connection']}")
        if len(server.answers) != 1:
            problems.append(f"{mode}: {len(server.answers)} answers, expected 1: {server.answers}")
        kind = server.answers[0][3]
        if bytewise and kind != expect.get("wire_error"):
            notes.append(f"{vector['file']}: check named {kind!r}, MLWire names {expect.get('wire_error')!r}")
        if bytewise and expect.get("wire_error") == "frameTooLarge" and server.closed_after != ml.HEADER_SIZE:
            problems.append(f"oversized length refused after {server.closed_after} bytes, not at the 16th")
        # What follows the bad frame: answered when the connection stays, ignored when it closes.
        if truncated:
            continue  # appending bytes would turn the truncation into something else
        follow = run_server(data + probe, limit, hello, role, bytewise)
        if expect["closes_connection"]:
            if len(follow.answers) != 1 or not follow.closed:
                problems.append(f"{mode}: after a closing error the server answered {follow.answers}")
        else:
            want_probe = ("HEALTH_REPLY", "OK", HEALTH_PROBE_ID, "")
            if follow.answers[1:] != [want_probe] or follow.closed:
                problems.append(f"{mode}: the frame after the bad one was answered {follow.answers[1:]}, "
                                f"expected [{want_probe}]")


def main() -> int:
    manifest = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
    blocks = doc_blocks()
    passed = failed = 0
    notes: List[str] = []
    seen_files = set()
    for vector in manifest["vectors"]:
        problems: List[str] = []
        path = VECTORS / vector["file"]
        seen_files.add(vector["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(f"cannot read: {error}")
            data = b""
        if data and len(data) != vector["size"]:
            problems.append(f"size {len(data)}, manifest says {vector['size']}")
        if vector["file"] in blocks and blocks[vector["file"]] != data:
            problems.append("the hex block in PROTOCOL.md differs from the file")
        if data:
            outcome = vector["expect"]["outcome"]
            if outcome == "message":
                check_message(vector, data, problems)
            elif outcome == "error":
                check_error(vector, data, problems, notes)
            else:
                problems.append(f"unknown outcome {outcome!r}")
        if problems:
            failed += 1
            print(f"FAIL {vector['file']}")
            for problem in problems:
                print(f"     {problem}")
        else:
            passed += 1
            print(f"ok   {vector['file']}")
    for name in sorted(set(blocks) - seen_files):
        print(f"note: PROTOCOL.md shows {name}, which the manifest does not list")
    for name in sorted(p.name for p in VECTORS.glob("*.bin") if p.name not in seen_files):
        print(f"note: {name} is not in the manifest")
    for note in notes:
        print(f"note: {note}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
