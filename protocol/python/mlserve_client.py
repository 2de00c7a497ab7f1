#!/usr/bin/env python3
"""An independent Python client for the MLServe wire protocol, versions 1 and 2.

Written from ``protocol/PROTOCOL.md`` alone (standard library only). It has three layers:

* **Payload codec** -- :func:`encode_payload` / :func:`decode_payload` turn the ``fields`` dict
  of one message into its payload bytes and back, for every v1 message in both directions
  (§11). Field names are the ones PROTOCOL.md uses (and ``vectors/manifest.json``):
  roles are ``"data"`` / ``"controller"``, booleans are ``bool``, digests are 64 lowercase hex
  characters in wire order, latency buckets are ``[index, count]`` pairs, floats are Python
  floats holding the exact binary32 value.
* **Framing** -- :func:`encode_frame` builds a whole frame (16-byte header + payload),
  :class:`FrameDecoder` is an incremental decoder that finds frame boundaries in a byte stream
  and checks the declared payload length against its limit as soon as the 16 header bytes
  have arrived, before it waits for (or buffers) any of the payload (§4.2, §9 steps 1-4).
  :func:`check_request_header` / :func:`check_response_header` apply the per-frame header
  rules (§9 steps 5-8 for requests; §4.1/§6 for responses), :func:`decode_frame` decodes one
  complete frame.
* **Client** -- :class:`Client`, a small blocking client with one request in flight:
  ``hello``, ``predict``, ``predict_batch``, ``feedback``, ``health``, ``ready``, ``info``,
  ``metrics``, ``load_standby``, ``swap``, ``rollback``, ``set_shadow`` (v2). An ERROR frame raises
  :class:`RemoteError`, whose ``status`` is the status name (e.g. ``"FAILED_PRECONDITION"``).

Wire errors (bytes that break a rule of the spec) raise :class:`WireError`, which carries the
status a server answers with (``status``), the request id of its ERROR frame
(``request_id``), whether the connection must close (``closes``) and a short ``kind``.

Run ``python3 mlserve_client.py --node 127.0.0.1:7070`` for a demo (hello, info, 5 predictions).
"""

from __future__ import annotations

import math
import random
import socket
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    "MAGIC", "FRAME_VERSION", "HEADER_SIZE", "TYPES", "TYPE_NAMES", "STATUSES", "STATUS_NAMES",
    "PRE_HELLO_MAX_PAYLOAD", "DEFAULT_MAX_PAYLOAD", "CONFIGURABLE_MAX_PAYLOAD",
    "WireError", "RemoteError", "Frame", "FrameDecoder",
    "encode_payload", "decode_payload", "encode_frame", "decode_frame",
    "check_request_header", "check_response_header", "Client",
]

# --------------------------------------------------------------------------------------------
# Constants (§3, §4, §5, §6)
# --------------------------------------------------------------------------------------------

MAGIC = b"ML"
FRAME_VERSION = 1
LIMIT_OPERATION_ID = 64     # operation ids (v2: LOAD_STANDBY, SWAP, ROLLBACK, INFO_REPLY)
PROTOCOL_VERSION = 2          # the highest version this client speaks (§1)
SUPPORTED_VERSIONS = (1, 2)

# §6.1 reasons (v2 ERROR frames): number -> name. Unknown numbers read as UNSPECIFIED.
REASON_NAMES = {
    0: "UNSPECIFIED", 1: "BAD_MAGIC", 2: "BAD_FRAME_VERSION", 3: "FRAME_TOO_LARGE", 4: "TRUNCATED_FRAME",
    5: "RESERVED_BITS_SET", 6: "UNKNOWN_TYPE", 7: "NOT_A_REQUEST", 8: "MALFORMED_PAYLOAD", 9: "BAD_STRING",
    10: "IDLE_TIMEOUT",
    100: "HELLO_REQUIRED", 101: "SECOND_HELLO", 102: "VERSION_UNSUPPORTED", 103: "TOKEN_REJECTED",
    104: "ROLE_NOT_ALLOWED", 105: "CONNECTION_LIMIT",
    200: "BAD_SHAPE", 201: "FEATURE_COUNT_MISMATCH", 202: "NON_FINITE_FEATURE", 203: "NO_ACTIVE_MODEL",
    204: "DRAINING", 205: "MODEL_FAILED", 206: "UNKNOWN_VERSION",
    300: "FENCE_ACTIVE_MISMATCH", 301: "STANDBY_EMPTY", 302: "FENCE_STANDBY_MISMATCH", 303: "STANDBY_NOT_WARM",
    304: "SAME_VERSION", 305: "ALREADY_ACTIVE", 306: "VERSION_CHECKSUM_CONFLICT", 307: "DEADLINE_PASSED",
    308: "STATE_WRITE_FAILED", 309: "SHADOW_RATE_OUT_OF_RANGE",
    400: "ARTIFACT_NOT_FOUND", 401: "ARTIFACT_INVALID", 402: "CHECKSUM_MISMATCH", 403: "SHAPE_MISMATCH",
    404: "GOLDEN_ROW_MISMATCH", 405: "PATH_REFUSED", 406: "PATH_OUTSIDE_MODEL_DIR", 407: "ARTIFACT_UNREADABLE",
    500: "INTERNAL_BUG",
}
REASONS = {name: code for code, name in REASON_NAMES.items()}
HEADER = struct.Struct("<2sBBBBHII")
HEADER_SIZE = HEADER.size  # 16

PRE_HELLO_MAX_PAYLOAD = 4096
DEFAULT_MAX_PAYLOAD = 1 << 20
CONFIGURABLE_MAX_PAYLOAD = 1 << 24

MAX_FEATURES = 4096
MAX_ROWS = 4096
LATENCY_BUCKETS = 592
MAX_BINS = 1024

# String limits in bytes (§3).
LIMIT_VERSION = 64
LIMIT_NAME = 64
LIMIT_TOKEN = 256
LIMIT_ARTIFACT = 4096
LIMIT_MESSAGE = 1024
LIMIT_REASON = 256

TYPES: Dict[str, int] = {
    "HELLO": 0x01, "PREDICT": 0x02, "PREDICT_BATCH": 0x03, "FEEDBACK": 0x04,
    "HEALTH": 0x05, "READY": 0x06, "INFO": 0x07, "METRICS": 0x08, "LABEL": 0x09,
    "LOAD_STANDBY": 0x10, "SWAP": 0x11, "ROLLBACK": 0x12, "SET_SHADOW": 0x13,
    "HELLO_REPLY": 0x81, "PREDICT_RESULT": 0x82, "PREDICT_BATCH_RESULT": 0x83,
    "FEEDBACK_ACK": 0x84, "HEALTH_REPLY": 0x85, "READY_REPLY": 0x86, "INFO_REPLY": 0x87,
    "METRICS_REPLY": 0x88, "LABEL_REPLY": 0x89, "LOAD_STANDBY_REPLY": 0x90, "SWAP_REPLY": 0x91,
    "ROLLBACK_REPLY": 0x92, "SET_SHADOW_REPLY": 0x93, "ERROR": 0xFF,
}
TYPE_NAMES: Dict[int, str] = {code: name for name, code in TYPES.items()}

#: Requests allowed before HELLO is accepted (§8).
PRE_HELLO_TYPES = frozenset({"HELLO", "HEALTH", "READY"})
#: Requests that need the controller role (§5).
CONTROLLER_TYPES = frozenset({"LOAD_STANDBY", "SWAP", "ROLLBACK", "SET_SHADOW", "FEEDBACK"})
#: Requests that need the labeller or controller role (§11.13, v2).
LABELLER_TYPES = frozenset({"LABEL"})
#: Types that exist from protocol version 2 on (§5): unknown on a v1 connection.
V2_TYPES = frozenset({"LABEL", "LABEL_REPLY", "SET_SHADOW", "SET_SHADOW_REPLY"})
#: Header flag bit 0 of a v2 PREDICT / PREDICT_BATCH: a u64 prediction id per row follows the values (§11.2).
FLAG_WITH_IDS = 0x01

STATUSES: Dict[str, int] = {
    "OK": 0, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
    "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9,
    "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
STATUS_NAMES: Dict[int, str] = {code: name for name, code in STATUSES.items()}
#: Statuses after which the same request may succeed later (§6).
RETRYABLE = frozenset({"DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "UNAVAILABLE"})

ROLES = {"data": 0, "controller": 1, "labeller": 2}
ROLE_NAMES = {code: name for name, code in ROLES.items()}
MODEL_KINDS = {0: "empty", 1: "logistic", 2: "mlp", 3: "tree-ensemble"}  # 3: ARTIFACT.md format 2


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

class WireError(Exception):
    """Bytes that break a rule of PROTOCOL.md.

    ``status`` is the status name a server answers with, ``request_id`` the id its ERROR frame
    carries (0 when the stream could not be framed), ``closes`` whether the connection must be
    closed afterwards, ``kind`` a short name of the failed check (``badMagic``,
    ``unsupportedFrameVersion``, ``frameTooLarge``, ``truncated``, ``reservedBitsSet``,
    ``unknownType``, ``unexpectedType``, ``badShape``, ``nonFiniteFeature``, ``badString``,
    ``malformed``).
    """

    def __init__(self, kind: str, reason: str, status: str = "INVALID_ARGUMENT",
                 request_id: int = 0, closes: bool = False):
        super().__init__(f"{status}: {reason}")
        self.kind = kind
        self.reason = reason
        self.status = status
        self.status_code = STATUSES[status]
        self.request_id = request_id
        self.closes = closes


class RemoteError(Exception):
    """The node answered with an ERROR frame (§11.12).

    ``status`` is the status name (e.g. ``"FAILED_PRECONDITION"``), ``status_code`` its number,
    ``message`` the human-readable text (never parse it), ``request_id`` the frame's id,
    ``retryable`` whether §6 says the same request may succeed later, and ``closes`` whether
    the server closed the connection after it (§10).
    """

    def __init__(self, status_code: int, message: str, request_id: int, closes: bool = False,
                 reason_code: int = 0):
        self.status_code = status_code
        self.status = STATUS_NAMES.get(status_code, f"STATUS_{status_code}")
        # §6.1: decide on (status, reason); a v1 node sends no reason (UNSPECIFIED).
        self.reason_code = reason_code
        self.reason = REASON_NAMES.get(reason_code, "UNSPECIFIED")
        self.message = message
        self.request_id = request_id
        self.closes = closes
        self.retryable = self.status in RETRYABLE
        super().__init__(f"{self.status}: {message}")


def _malformed(message_name: str, reason: str) -> WireError:
    return WireError("malformed", f"malformed {message_name} payload: {reason}")


# --------------------------------------------------------------------------------------------
# Payload reader / writer (§3)
# --------------------------------------------------------------------------------------------

class _Reader:
    """Reads little-endian fields from one payload; every failure is INVALID_ARGUMENT."""

    def __init__(self, data: bytes, message_name: str, version: int = 1):
        self.data = memoryview(data)
        self.pos = 0
        self.name = message_name
        self.version = version  # the agreed protocol version: v2 fields are read only from 2
        self.flags = 0  # the frame header's flags (PREDICT's WITH_IDS)

    def _take(self, n: int) -> memoryview:
        if n > len(self.data) - self.pos:
            raise _malformed(self.name, f"payload ends early ({len(self.data) - self.pos} bytes left, {n} needed)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return struct.unpack_from("<H", self._take(2))[0]

    def u32(self) -> int:
        return struct.unpack_from("<I", self._take(4))[0]

    def u64(self) -> int:
        return struct.unpack_from("<Q", self._take(8))[0]

    def i64(self) -> int:
        return struct.unpack_from("<q", self._take(8))[0]

    def f32(self) -> float:
        return struct.unpack_from("<f", self._take(4))[0]

    def f32s(self, n: int) -> List[float]:
        return list(struct.unpack_from(f"<{n}f", self._take(4 * n)))

    def u64s(self, n: int) -> List[int]:
        return list(struct.unpack_from(f"<{n}Q", self._take(8 * n)))

    def boolean(self) -> bool:
        return self.u8() != 0  # §3: any non-zero value is true

    def reserved(self, n: int) -> None:
        offset = self.pos
        for i, byte in enumerate(self._take(n)):
            if byte != 0:
                raise _malformed(self.name, f"reserved byte at payload offset {offset + i} is not zero")

    def digest(self) -> str:
        return bytes(self._take(32)).hex()

    def string(self, field_name: str, limit: int) -> str:
        n = self.u16()
        left = len(self.data) - self.pos
        if n > left:
            raise _malformed(self.name, f"payload ends before string bytes ({left} bytes left, {n} needed)")
        raw = bytes(self._take(n))
        if n > limit:
            raise WireError("badString", f"string field {field_name} of {n} bytes is over its limit of {limit}")
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise WireError("badString", f"string field {field_name} of {n} bytes is not UTF-8") from None

    def end(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise _malformed(self.name, f"{extra} unexpected trailing bytes")


class _Writer:
    """Builds one payload; refuses values the receiver would refuse (ValueError)."""

    def __init__(self, version: int = 1) -> None:
        self.parts: List[bytes] = []
        self.version = version

    def bytes(self) -> bytes:
        return b"".join(self.parts)

    def u8(self, v: int) -> None:
        self.parts.append(struct.pack("<B", v))

    def u16(self, v: int) -> None:
        self.parts.append(struct.pack("<H", v))

    def u32(self, v: int) -> None:
        self.parts.append(struct.pack("<I", v))

    def u64(self, v: int) -> None:
        self.parts.append(struct.pack("<Q", v))

    def i64(self, v: int) -> None:
        self.parts.append(struct.pack("<q", v))

    def f32s(self, values: Sequence[float]) -> None:
        self.parts.append(struct.pack(f"<{len(values)}f", *values))

    def u64s(self, values: Sequence[int]) -> None:
        self.parts.append(struct.pack(f"<{len(values)}Q", *values))

    def boolean(self, v: Any) -> None:
        self.u8(1 if v else 0)

    def reserved(self, n: int) -> None:
        self.parts.append(bytes(n))

    def digest(self, hex_or_bytes: Any) -> None:
        if hex_or_bytes is None:
            raw = bytes(32)
        elif isinstance(hex_or_bytes, (bytes, bytearray)):
            raw = bytes(hex_or_bytes)
        else:
            raw = bytes.fromhex(hex_or_bytes)
        if len(raw) != 32:
            raise ValueError(f"a digest is 32 bytes, got {len(raw)}")
        self.parts.append(raw)

    def string(self, field_name: str, value: str, limit: int) -> None:
        raw = value.encode("utf-8")
        if len(raw) > limit:
            raise ValueError(f"string field {field_name} of {len(raw)} bytes is over its limit of {limit}")
        self.u16(len(raw))
        self.parts.append(raw)


def _check_shape(rows: int, features: int) -> None:
    if not (1 <= rows <= MAX_ROWS and 1 <= features <= MAX_FEATURES):
        raise WireError("badShape", f"bad shape: {rows} rows x {features} features")


def _check_finite(values: Sequence[float], version: int = 1) -> None:
    """§11.2: infinities never; NaN only on v2, where it may mean "missing" (the node decides,
    by whether the active model accepts missing values)."""
    for index, value in enumerate(values):
        if math.isinf(value) or (math.isnan(value) and version < 2):
            raise WireError("nonFiniteFeature", f"feature {index} is NaN or infinite")


def _check_label(message_name: str, *labels: int) -> None:
    if any(label not in (0, 1) for label in labels):
        raise _malformed(message_name, f"labels must be 0 or 1 (got {', '.join(map(str, labels))})")


# --------------------------------------------------------------------------------------------
# Per-message payload layouts (§11)
# --------------------------------------------------------------------------------------------

def _enc_empty(w: _Writer, f: Dict[str, Any]) -> None:
    pass


def _dec_empty(r: _Reader) -> Dict[str, Any]:
    return {}


# 11.1 HELLO / HELLO_REPLY
def _role_code(role: Any) -> int:
    code = ROLES[role] if isinstance(role, str) else int(role)
    if code not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}")
    return code


def _enc_hello(w: _Writer, f: Dict[str, Any]) -> None:
    lo, hi = f.get("min_version", 1), f.get("max_version", 1)
    if lo > hi:
        raise ValueError("min_version must be <= max_version")
    w.u8(lo)
    w.u8(hi)
    w.u8(_role_code(f.get("role", "data")))
    w.reserved(1)
    w.string("token", f.get("token", ""), LIMIT_TOKEN)
    w.string("client_name", f.get("client_name", ""), LIMIT_NAME)


def _dec_hello(r: _Reader) -> Dict[str, Any]:
    lo, hi, role = r.u8(), r.u8(), r.u8()
    r.reserved(1)
    if role not in ROLE_NAMES or (role == ROLES["labeller"] and hi < 2):  # role 2 exists from v2 on
        raise _malformed(r.name, f"unknown role {role}")
    if lo > hi:
        raise _malformed(r.name, f"min_version {lo} > max_version {hi}")
    token = r.string("token", LIMIT_TOKEN)
    name = r.string("client_name", LIMIT_NAME)
    return {"min_version": lo, "max_version": hi, "role": ROLE_NAMES[role], "token": token, "client_name": name}


def _enc_hello_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.u8(f["version"])
    w.u8(_role_code(f["role"]))
    w.reserved(2)
    w.u32(f["max_payload"])
    w.string("server_name", f.get("server_name", ""), LIMIT_NAME)


def _dec_hello_reply(r: _Reader) -> Dict[str, Any]:
    version, role = r.u8(), r.u8()
    if role not in ROLE_NAMES:
        raise _malformed(r.name, f"unknown role {role}")
    r.reserved(2)
    max_payload = r.u32()
    return {"version": version, "role": ROLE_NAMES[role], "max_payload": max_payload,
            "server_name": r.string("server_name", LIMIT_NAME)}


# 11.2 PREDICT / PREDICT_RESULT
def _enc_predict(w: _Writer, f: Dict[str, Any]) -> None:
    features = list(f["features"])
    _check_shape(1, len(features))
    _check_finite(features, w.version)
    w.u32(len(features))
    w.f32s(features)
    if f.get("prediction_id") is not None:  # v2 WITH_IDS: the frame's flags say so
        w.u64(f["prediction_id"])


def _dec_predict(r: _Reader) -> Dict[str, Any]:
    n = r.u32()
    _check_shape(1, n)  # shape before size: a hostile count never drives the size arithmetic
    ids = 8 if r.flags & FLAG_WITH_IDS else 0
    have = len(r.data) - r.pos
    if have != 4 * n + ids:
        raise _malformed(r.name, f"{n} features need {4 + 4 * n + ids} payload bytes, got {4 + have}")
    features = r.f32s(n)
    _check_finite(features, r.version)
    out: Dict[str, Any] = {"feature_count": n, "features": features}
    if ids:
        out["prediction_id"] = r.u64()
    return out


def _enc_predict_result(w: _Writer, f: Dict[str, Any]) -> None:
    _check_label("predictResult", f["label"])
    w.u64(f["generation"])
    w.f32s([f["score"]])
    w.u8(f["label"])
    w.reserved(3)
    w.string("version", f["version"], LIMIT_VERSION)


def _dec_predict_result(r: _Reader) -> Dict[str, Any]:
    generation, score, label = r.u64(), r.f32(), r.u8()
    r.reserved(3)
    _check_label(r.name, label)
    return {"generation": generation, "score": score, "label": label,
            "version": r.string("version", LIMIT_VERSION)}


# 11.3 PREDICT_BATCH / PREDICT_BATCH_RESULT
def _enc_predict_batch(w: _Writer, f: Dict[str, Any]) -> None:
    values = list(f["values"])
    n = f["feature_count"]
    rows = f.get("rows", len(values) // n if n else 0)
    _check_shape(rows, n)
    if len(values) != rows * n:
        raise ValueError(f"{rows}x{n} needs {rows * n} values, got {len(values)}")
    _check_finite(values, w.version)
    w.u32(rows)
    w.u32(n)
    w.f32s(values)
    ids = f.get("prediction_ids")
    if ids is not None:  # v2 WITH_IDS
        if len(ids) != rows:
            raise ValueError(f"{rows} rows need {rows} prediction ids, got {len(ids)}")
        w.u64s(ids)


def _dec_predict_batch(r: _Reader) -> Dict[str, Any]:
    rows, n = r.u32(), r.u32()
    _check_shape(rows, n)
    ids = 8 * rows if r.flags & FLAG_WITH_IDS else 0
    have = len(r.data) - r.pos
    if have != 4 * rows * n + ids:
        raise _malformed(r.name, f"{rows}x{n} features need {8 + 4 * rows * n + ids} payload bytes, got {8 + have}")
    values = r.f32s(rows * n)
    _check_finite(values, r.version)
    out: Dict[str, Any] = {"rows": rows, "feature_count": n, "values": values}
    if ids:
        out["prediction_ids"] = r.u64s(rows)
    return out


# 11.13 LABEL / LABEL_REPLY (v2)
def _enc_label(w: _Writer, f: Dict[str, Any]) -> None:
    items = list(f["items"])
    if not 1 <= len(items) <= MAX_ROWS:
        raise ValueError(f"LABEL takes 1..{MAX_ROWS} items, got {len(items)}")
    w.u32(len(items))
    for item in items:
        _check_label("label", item["actual_label"])
        w.u64(item["prediction_id"])
        w.u8(item["actual_label"])


def _dec_label(r: _Reader) -> Dict[str, Any]:
    count = r.u32()
    if not 1 <= count <= MAX_ROWS:
        raise _malformed(r.name, f"count {count} outside 1...{MAX_ROWS}")
    have = len(r.data) - r.pos
    if have != 9 * count:
        raise _malformed(r.name, f"{count} labels need {4 + 9 * count} payload bytes, got {4 + have}")
    items = []
    for i in range(count):
        pid, actual = r.u64(), r.u8()
        if actual > 1:
            raise _malformed(r.name, f"item {i}: actual label must be 0 or 1 (got {actual})")
        items.append({"prediction_id": pid, "actual_label": actual})
    return {"count": count, "items": items}


_LABEL_COUNTS = ("matched", "unmatched", "expired", "duplicate")


def _enc_label_reply(w: _Writer, f: Dict[str, Any]) -> None:
    for name in _LABEL_COUNTS:
        w.u32(f.get(name, 0))


def _dec_label_reply(r: _Reader) -> Dict[str, Any]:
    return {name: r.u32() for name in _LABEL_COUNTS}


def _enc_predict_batch_result(w: _Writer, f: Dict[str, Any]) -> None:
    scores, labels = list(f["scores"]), list(f["labels"])
    rows = f.get("rows", len(scores))
    if not (len(scores) == len(labels) == rows) or rows > MAX_ROWS:
        raise ValueError("rows, scores and labels disagree")
    _check_label("predictBatchResult", *labels)
    w.u64(f["generation"])
    w.string("version", f["version"], LIMIT_VERSION)
    w.u32(rows)
    w.f32s(scores)
    w.parts.append(bytes(labels))


def _dec_predict_batch_result(r: _Reader) -> Dict[str, Any]:
    generation = r.u64()
    version = r.string("version", LIMIT_VERSION)
    rows = r.u32()
    if rows > MAX_ROWS:
        raise WireError("badShape", f"bad shape: {rows} rows in a batch result")
    scores = r.f32s(rows)
    labels = list(r._take(rows))
    _check_label(r.name, *labels)
    return {"generation": generation, "version": version, "rows": rows, "scores": scores, "labels": labels}


# 11.4 FEEDBACK
def _enc_feedback(w: _Writer, f: Dict[str, Any]) -> None:
    _check_label("feedback", f["predicted_label"], f["actual_label"])
    w.u8(f["predicted_label"])
    w.u8(f["actual_label"])
    w.reserved(2)
    w.string("version", f["version"], LIMIT_VERSION)


def _dec_feedback(r: _Reader) -> Dict[str, Any]:
    predicted, actual = r.u8(), r.u8()
    _check_label(r.name, predicted, actual)
    r.reserved(2)
    return {"predicted_label": predicted, "actual_label": actual, "version": r.string("version", LIMIT_VERSION)}


# 11.5 HEALTH_REPLY, 11.6 READY_REPLY
def _enc_health_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.boolean(f["serving"])
    w.reserved(3)
    w.u64(f["uptime_ms"])


def _dec_health_reply(r: _Reader) -> Dict[str, Any]:
    serving = r.boolean()
    r.reserved(3)
    return {"serving": serving, "uptime_ms": r.u64()}


def _enc_ready_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.boolean(f["ready"])
    w.reserved(3)
    w.string("reason", f.get("reason", ""), LIMIT_REASON)


def _dec_ready_reply(r: _Reader) -> Dict[str, Any]:
    ready = r.boolean()
    r.reserved(3)
    return {"ready": ready, "reason": r.string("reason", LIMIT_REASON)}


# 11.7 INFO_REPLY and SlotInfo
def _enc_slot(w: _Writer, s: Dict[str, Any]) -> None:
    w.boolean(s["present"])
    w.u8(s.get("kind", 0))
    w.reserved(2)
    w.string("model_name", s.get("model_name", ""), LIMIT_NAME)
    w.string("version", s.get("version", ""), LIMIT_VERSION)
    w.u32(s.get("feature_count", 0))
    w.digest(s.get("checksum"))
    w.i64(s.get("loaded_at_us", 0))
    w.string("artifact", s.get("artifact", ""), LIMIT_ARTIFACT)


def _dec_slot(r: _Reader) -> Dict[str, Any]:
    present, kind = r.boolean(), r.u8()
    if kind not in MODEL_KINDS:
        raise _malformed(r.name, f"unknown model kind {kind}")
    r.reserved(2)
    return {
        "present": present, "kind": kind,
        "model_name": r.string("model_name", LIMIT_NAME),
        "version": r.string("version", LIMIT_VERSION),
        "feature_count": r.u32(),
        "checksum": r.digest(),
        "loaded_at_us": r.i64(),
        "artifact": r.string("artifact", LIMIT_ARTIFACT),
    }


def _enc_info_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.u64(f["generation"])
    w.boolean(f["ready"])
    w.boolean(f["draining"])
    w.reserved(2)
    _enc_slot(w, f["active"])
    _enc_slot(w, f["standby"])
    if w.version >= 2:
        for which in ("active", "standby"):
            w.u8(f.get(which + "_warm_state", 0))
            w.boolean(f.get(which + "_accepts_missing", False))
            w.reserved(2)
        w.string("last_operation_id", f.get("last_operation_id", ""), LIMIT_OPERATION_ID)
        w.f32s([f.get("shadow_rate", 0.0)])
        w.u16(f.get("standby_golden_rows_checked", 0))


def _dec_info_reply(r: _Reader) -> Dict[str, Any]:
    generation, ready, draining = r.u64(), r.boolean(), r.boolean()
    r.reserved(2)
    out = {"generation": generation, "ready": ready, "draining": draining,
           "active": _dec_slot(r), "standby": _dec_slot(r)}
    if r.version >= 2:  # §11.7 INFO_REPLY (v2)
        for which in ("active", "standby"):
            out[which + "_warm_state"] = r.u8()
            out[which + "_accepts_missing"] = r.boolean()
            r.reserved(2)
        out["last_operation_id"] = r.string("last_operation_id", LIMIT_OPERATION_ID)
        out["shadow_rate"] = r.f32()
        out["standby_golden_rows_checked"] = r.u16()
    return out


# 11.8 METRICS_REPLY and VersionMetrics
_COUNTERS = ("requests", "errors", "positives", "true_positives", "false_positives",
             "true_negatives", "false_negatives", "latency_sum_ns", "latency_count")
#: Appended per version in v2 (§11.8), before label_delay_buckets.
_COUNTERS_V2 = ("model_errors", "client_errors", "labels", "labels_unmatched", "labels_expired", "labels_duplicate")


def _enc_version_metrics(w: _Writer, v: Dict[str, Any]) -> None:
    w.string("version", v["version"], LIMIT_VERSION)
    for name in _COUNTERS:
        w.u64(v.get(name, 0))
    buckets = v.get("latency_buckets", [])
    if len(buckets) > LATENCY_BUCKETS:
        raise ValueError("too many latency buckets")
    w.u16(len(buckets))
    for index, count in buckets:
        if not 0 <= index < LATENCY_BUCKETS:
            raise ValueError(f"latency bucket index {index} out of range")
        w.u16(index)
        w.u64(count)
    bins = v.get("score_bins", [])
    refs = v.get("reference_bins", [])
    if len(bins) > MAX_BINS or len(refs) > MAX_BINS:
        raise ValueError("too many score or reference bins")
    w.u16(len(bins))
    w.u64s(bins)
    w.u16(len(refs))
    w.f32s(refs)
    if w.version >= 2:
        for name in _COUNTERS_V2:
            w.u64(v.get(name, 0))
        delays = v.get("label_delay_buckets", [])
        w.u16(len(delays))
        for index, count in delays:
            w.u16(index)
            w.u64(count)


def _dec_version_metrics(r: _Reader) -> Dict[str, Any]:
    out: Dict[str, Any] = {"version": r.string("version", LIMIT_VERSION)}
    for name in _COUNTERS:
        out[name] = r.u64()
    count = r.u16()
    if count > LATENCY_BUCKETS:
        raise _malformed(r.name, f"{count} latency buckets (at most {LATENCY_BUCKETS})")
    buckets = []
    for _ in range(count):
        index, n = r.u16(), r.u64()
        if index >= LATENCY_BUCKETS:
            raise _malformed(r.name, f"latency bucket index {index} (must be < {LATENCY_BUCKETS})")
        buckets.append([index, n])
    out["latency_buckets"] = buckets
    bins = r.u16()
    if bins > MAX_BINS:
        raise _malformed(r.name, f"{bins} score bins (at most {MAX_BINS})")
    out["score_bins"] = r.u64s(bins)
    refs = r.u16()
    if refs > MAX_BINS:
        raise _malformed(r.name, f"{refs} reference bins (at most {MAX_BINS})")
    out["reference_bins"] = r.f32s(refs)
    if r.version >= 2:
        for name in _COUNTERS_V2:
            out[name] = r.u64()
        count = r.u16()
        if count > LATENCY_BUCKETS:
            raise _malformed(r.name, f"{count} label delay buckets (at most {LATENCY_BUCKETS})")
        delays = []
        last = -1
        for _ in range(count):
            index, n = r.u16(), r.u64()
            if index >= LATENCY_BUCKETS or index <= last:
                raise _malformed(r.name, f"label delay bucket index {index} out of range or not ascending")
            last = index
            delays.append([index, n])
        out["label_delay_buckets"] = delays
    return out


def _enc_metrics_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.u64(f["generation"])
    w.u64(f["uptime_ms"])
    w.i64(f["timestamp_us"])
    w.string("active_version", f.get("active_version", ""), LIMIT_VERSION)
    versions = f.get("versions", [])
    w.u16(len(versions))
    for v in versions:
        _enc_version_metrics(w, v)
    if w.version >= 2:
        _enc_shadow_block(w, f.get("shadow", {}))


def _dec_metrics_reply(r: _Reader) -> Dict[str, Any]:
    out = {"generation": r.u64(), "uptime_ms": r.u64(), "timestamp_us": r.i64(),
           "active_version": r.string("active_version", LIMIT_VERSION)}
    count = r.u16()
    out["versions"] = [_dec_version_metrics(r) for _ in range(count)]
    if r.version >= 2:
        out["shadow"] = _dec_shadow_block(r)  # §12.6
    return out


# 11.9 LOAD_STANDBY / LOAD_STANDBY_REPLY
def _enc_load_standby(w: _Writer, f: Dict[str, Any]) -> None:
    if not f["artifact"]:
        raise ValueError("empty artifact reference")
    w.digest(f.get("expected_checksum"))
    w.string("artifact", f["artifact"], LIMIT_ARTIFACT)
    if w.version >= 2:  # §11.9 LOAD_STANDBY (v2)
        w.string("operation_id", f.get("operation_id", ""), LIMIT_OPERATION_ID)
        w.i64(f.get("deadline_unix_us", 0))
        _enc_flags(w, f)


def _dec_load_standby(r: _Reader) -> Dict[str, Any]:
    checksum = r.digest()
    artifact = r.string("artifact", LIMIT_ARTIFACT)
    if not artifact:
        raise _malformed(r.name, "empty artifact reference")
    out = {"expected_checksum": checksum, "artifact": artifact}
    if r.version >= 2:
        out["operation_id"] = r.string("operation_id", LIMIT_OPERATION_ID)
        out["deadline_unix_us"] = r.i64()
        out["flags"] = _dec_flags(r)
    return out


def _enc_load_standby_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.u64(f["generation"])
    _enc_slot(w, f["standby"])


def _dec_load_standby_reply(r: _Reader) -> Dict[str, Any]:
    return {"generation": r.u64(), "standby": _dec_slot(r)}


# 11.10 / 11.11 SWAP, ROLLBACK and their SwapOutcome replies
FLAG_FORCE = 0x01  # LOAD: reload the active artifact; SWAP/ROLLBACK: standby not warm yet


def _enc_flags(w: _Writer, f: Dict[str, Any]) -> None:
    flags = f.get("flags", 0)
    if flags & ~FLAG_FORCE:
        raise ValueError(f"unknown flag bits 0x{flags:02x}")
    w.u8(flags)
    w.reserved(3)


def _dec_flags(r: _Reader) -> int:
    flags = r.u8()
    if flags & ~FLAG_FORCE:
        raise _malformed(r.name, f"unknown flag bits 0x{flags:x} set")
    r.reserved(3)
    return flags


def _enc_fenced(w: _Writer, f: Dict[str, Any]) -> None:
    w.string("expected_active", f.get("expected_active", ""), LIMIT_VERSION)
    if w.version >= 2:  # §11.10 SWAP (v2): standby fence, deadline, operation id, flags
        w.string("expected_standby", f.get("expected_standby", ""), LIMIT_VERSION)
        w.digest(f.get("expected_standby_checksum"))
        w.i64(f.get("deadline_unix_us", 0))
        w.string("operation_id", f.get("operation_id", ""), LIMIT_OPERATION_ID)
        _enc_flags(w, f)


def _dec_fenced(r: _Reader) -> Dict[str, Any]:
    out = {"expected_active": r.string("expected_active", LIMIT_VERSION)}
    if r.version >= 2:
        out["expected_standby"] = r.string("expected_standby", LIMIT_VERSION)
        out["expected_standby_checksum"] = r.digest()
        out["deadline_unix_us"] = r.i64()
        out["operation_id"] = r.string("operation_id", LIMIT_OPERATION_ID)
        out["flags"] = _dec_flags(r)
    return out


def _enc_swap_outcome(w: _Writer, f: Dict[str, Any]) -> None:
    w.string("previous_version", f["previous_version"], LIMIT_VERSION)
    w.string("active_version", f["active_version"], LIMIT_VERSION)
    w.u64(f["generation"])
    w.i64(f["timestamp_us"])
    w.u64(f["swap_ns"])


def _dec_swap_outcome(r: _Reader) -> Dict[str, Any]:
    return {"previous_version": r.string("previous_version", LIMIT_VERSION),
            "active_version": r.string("active_version", LIMIT_VERSION),
            "generation": r.u64(), "timestamp_us": r.i64(), "swap_ns": r.u64()}


# 11.14 SET_SHADOW / SET_SHADOW_REPLY (v2) and the §12.6 shadow block
def _enc_set_shadow(w: _Writer, f: Dict[str, Any]) -> None:
    rate = float(f["rate"])
    if not (0.0 <= rate <= 1.0):  # NaN fails too
        raise ValueError(f"shadow rate must be between 0 and 1, got {rate}")
    w.f32s([rate])
    w.reserved(4)
    w.string("expected_standby", f.get("expected_standby", ""), LIMIT_VERSION)


def _dec_set_shadow(r: _Reader) -> Dict[str, Any]:
    rate = r.f32()
    r.reserved(4)
    return {"rate": rate, "expected_standby": r.string("expected_standby", LIMIT_VERSION)}


def _enc_set_shadow_reply(w: _Writer, f: Dict[str, Any]) -> None:
    w.f32s([f["rate"]])
    w.reserved(4)
    w.u64(f["session"])
    w.u64(f["generation"])
    w.string("active_version", f.get("active_version", ""), LIMIT_VERSION)
    w.string("standby_version", f.get("standby_version", ""), LIMIT_VERSION)


def _dec_set_shadow_reply(r: _Reader) -> Dict[str, Any]:
    rate = r.f32()
    r.reserved(4)
    return {"rate": rate, "session": r.u64(), "generation": r.u64(),
            "active_version": r.string("active_version", LIMIT_VERSION),
            "standby_version": r.string("standby_version", LIMIT_VERSION)}


SHADOW_DIFFERENCE_BINS = 11
_CONFUSION = ("tp", "fp", "tn", "fn")


def _dec_bins(r: _Reader) -> List[int]:
    n = r.u16()
    if n > MAX_BINS:
        raise _malformed(r.name, f"{n} shadow bins (at most {MAX_BINS})")
    return r.u64s(n)


def _dec_shadow_pair(r: _Reader) -> Dict[str, Any]:
    out: Dict[str, Any] = {"active_version": r.string("active_version", LIMIT_VERSION),
                           "standby_version": r.string("standby_version", LIMIT_VERSION),
                           "rows": r.u64(), "agreements": r.u64(), "standby_errors": r.u64()}
    out["active_confusion"] = dict(zip(_CONFUSION, r.u64s(4)))
    out["standby_confusion"] = dict(zip(_CONFUSION, r.u64s(4)))
    out["standby_latency_sum_ns"] = r.u64()
    count = r.u16()
    if count > LATENCY_BUCKETS:
        raise _malformed(r.name, f"{count} shadow latency buckets (at most {LATENCY_BUCKETS})")
    buckets = []
    for _ in range(count):
        index, n = r.u16(), r.u64()
        if index >= LATENCY_BUCKETS:
            raise _malformed(r.name, f"shadow latency bucket index {index} (must be < {LATENCY_BUCKETS})")
        buckets.append([index, n])
    out["standby_buckets"] = buckets
    out["difference_bins"] = _dec_bins(r)
    out["standby_score_bins"] = _dec_bins(r)
    out["active_score_bins"] = _dec_bins(r)
    return out


def _enc_shadow_pair(w: _Writer, p: Dict[str, Any]) -> None:
    w.string("active_version", p["active_version"], LIMIT_VERSION)
    w.string("standby_version", p["standby_version"], LIMIT_VERSION)
    for key in ("rows", "agreements", "standby_errors"):
        w.u64(p[key])
    for key in ("active_confusion", "standby_confusion"):
        w.u64s([p[key][c] for c in _CONFUSION])
    w.u64(p["standby_latency_sum_ns"])
    w.u16(len(p["standby_buckets"]))
    for index, n in p["standby_buckets"]:
        w.u16(index)
        w.u64(n)
    for key in ("difference_bins", "standby_score_bins", "active_score_bins"):
        w.u16(len(p[key]))
        w.u64s(p[key])


def _dec_shadow_block(r: _Reader) -> Dict[str, Any]:
    rate = r.f32()
    r.reserved(4)
    out = {"rate": rate, "session": r.u64(), "active_version": r.string("shadow_active", LIMIT_VERSION),
           "standby_version": r.string("shadow_standby", LIMIT_VERSION)}
    out["pairs"] = [_dec_shadow_pair(r) for _ in range(r.u16())]
    return out


def _enc_shadow_block(w: _Writer, f: Dict[str, Any]) -> None:
    w.f32s([f.get("rate", 0.0)])
    w.reserved(4)
    w.u64(f.get("session", 0))
    w.string("shadow_active", f.get("active_version", ""), LIMIT_VERSION)
    w.string("shadow_standby", f.get("standby_version", ""), LIMIT_VERSION)
    pairs = f.get("pairs", [])
    w.u16(len(pairs))
    for p in pairs:
        _enc_shadow_pair(w, p)


def shadow_sampled(prediction_id: int, rate: float) -> bool:
    """Whether a node shadowing at ``rate`` scores the row with ``prediction_id`` on the standby
    too (§11.14.1): SplitMix64's finaliser of the id below rate × 2^64. ``rate`` is the f32 the
    node holds (pass it through struct to round like the wire)."""
    rate = struct.unpack("<f", struct.pack("<f", rate))[0]
    if rate >= 1.0:
        return True
    if not rate > 0.0:
        return False
    mask = (1 << 64) - 1
    z = (prediction_id + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return z < int(rate * 2.0 ** 64)


# 11.12 ERROR
def _enc_error(w: _Writer, f: Dict[str, Any]) -> None:
    if w.version >= 2:
        w.u16(f["reason_code"] if "reason_code" in f else REASONS[f.get("reason", "UNSPECIFIED")])
        w.reserved(2)
    w.string("message", f.get("message", ""), LIMIT_MESSAGE)


def _dec_error(r: _Reader) -> Dict[str, Any]:
    if r.version < 2:
        return {"message": r.string("message", LIMIT_MESSAGE)}
    code = r.u16()
    r.reserved(2)
    if code not in REASON_NAMES:
        code = 0  # §6.1: unknown reasons read as UNSPECIFIED
    return {"reason": REASON_NAMES[code], "reason_code": code, "message": r.string("message", LIMIT_MESSAGE)}


_CODECS = {
    "HELLO": (_enc_hello, _dec_hello),
    "PREDICT": (_enc_predict, _dec_predict),
    "PREDICT_BATCH": (_enc_predict_batch, _dec_predict_batch),
    "FEEDBACK": (_enc_feedback, _dec_feedback),
    "HEALTH": (_enc_empty, _dec_empty),
    "READY": (_enc_empty, _dec_empty),
    "INFO": (_enc_empty, _dec_empty),
    "METRICS": (_enc_empty, _dec_empty),
    "LABEL": (_enc_label, _dec_label),
    "LOAD_STANDBY": (_enc_load_standby, _dec_load_standby),
    "SWAP": (_enc_fenced, _dec_fenced),
    "ROLLBACK": (_enc_fenced, _dec_fenced),
    "SET_SHADOW": (_enc_set_shadow, _dec_set_shadow),
    "HELLO_REPLY": (_enc_hello_reply, _dec_hello_reply),
    "PREDICT_RESULT": (_enc_predict_result, _dec_predict_result),
    "PREDICT_BATCH_RESULT": (_enc_predict_batch_result, _dec_predict_batch_result),
    "FEEDBACK_ACK": (_enc_empty, _dec_empty),
    "HEALTH_REPLY": (_enc_health_reply, _dec_health_reply),
    "READY_REPLY": (_enc_ready_reply, _dec_ready_reply),
    "INFO_REPLY": (_enc_info_reply, _dec_info_reply),
    "METRICS_REPLY": (_enc_metrics_reply, _dec_metrics_reply),
    "LABEL_REPLY": (_enc_label_reply, _dec_label_reply),
    "LOAD_STANDBY_REPLY": (_enc_load_standby_reply, _dec_load_standby_reply),
    "SWAP_REPLY": (_enc_swap_outcome, _dec_swap_outcome),
    "ROLLBACK_REPLY": (_enc_swap_outcome, _dec_swap_outcome),
    "SET_SHADOW_REPLY": (_enc_set_shadow_reply, _dec_set_shadow_reply),
    "ERROR": (_enc_error, _dec_error),
}
assert set(_CODECS) == set(TYPES)

# Names used in "malformed <name> payload" reasons (camelCase, as the manifest's reasons do).
_REASON_NAMES = {name: "".join(p.capitalize() if i else p.lower() for i, p in enumerate(name.split("_")))
                 for name in TYPES}


def encode_payload(type_name: str, fields: Optional[Dict[str, Any]] = None, version: int = 1) -> bytes:
    """The payload bytes of message ``type_name`` (e.g. ``"PREDICT"``) holding ``fields``.

    Raises ``ValueError`` (or :class:`WireError` for shape/finiteness) for values a receiver
    would refuse, so this client never sends a frame the spec calls invalid.
    """
    w = _Writer(version)
    _CODECS[type_name][0](w, fields or {})
    return w.bytes()


def decode_payload(type_name: str, payload: bytes, version: int = 1, flags: int = 0) -> Dict[str, Any]:
    """The ``fields`` of message ``type_name`` from its payload (exact length: no trailing bytes).
    ``flags``: the header's (``FLAG_WITH_IDS`` on a v2 PREDICT / PREDICT_BATCH).

    Raises :class:`WireError` (INVALID_ARGUMENT) on any layout or rule violation of §3/§11.
    """
    r = _Reader(payload, _REASON_NAMES[type_name], version)
    r.flags = flags
    fields = _CODECS[type_name][1](r)
    r.end()
    return fields


# --------------------------------------------------------------------------------------------
# Frames (§4)
# --------------------------------------------------------------------------------------------

@dataclass
class Frame:
    """One frame: the header fields and the raw payload (``fields`` once decoded)."""

    type_code: int
    request_id: int
    payload: bytes = b""
    status_code: int = 0
    flags: int = 0
    reserved: int = 0
    version: int = FRAME_VERSION
    fields: Optional[Dict[str, Any]] = field(default=None)

    @property
    def type(self) -> str:
        return TYPE_NAMES.get(self.type_code, f"0x{self.type_code:02x}")

    @property
    def status(self) -> str:
        return STATUS_NAMES.get(self.status_code, f"STATUS_{self.status_code}")

    def to_bytes(self) -> bytes:
        return HEADER.pack(MAGIC, self.version, self.type_code, self.status_code, self.flags,
                           self.reserved, self.request_id, len(self.payload)) + self.payload


def encode_frame(type_name: str, request_id: int, fields: Optional[Dict[str, Any]] = None,
                 status: str = "OK", version: int = 1) -> bytes:
    """A whole frame: 16-byte header (§4.1) plus the payload of ``fields``.

    ``status`` must be OK except for ERROR, which must carry a non-OK status from §6.
    """
    if (type_name == "ERROR") == (status == "OK"):
        raise ValueError("only ERROR frames carry a non-OK status, and they must")
    payload = encode_payload(type_name, fields, version)
    flags = 0
    if type_name in ("PREDICT", "PREDICT_BATCH") and fields and (
            fields.get("prediction_id") is not None or fields.get("prediction_ids") is not None):
        if version < 2:
            raise ValueError("prediction ids need protocol version 2")
        flags = FLAG_WITH_IDS
    return HEADER.pack(MAGIC, FRAME_VERSION, TYPES[type_name], STATUSES[status], flags, 0,
                       request_id & 0xFFFFFFFF, len(payload)) + payload


class FrameDecoder:
    """Incremental frame decoder (§4, §9 steps 1-4).

    Feed bytes as they arrive with :meth:`feed`, then take complete frames with
    :meth:`next_frame` (``None`` when more bytes are needed). Checks, in the spec's order:
    magic (as soon as 2 bytes are buffered), frame version (3 bytes), payload length against
    ``max_payload`` (as soon as the 16 header bytes are buffered -- before any payload byte is
    waited for), and, at :meth:`finish` (end of stream), that the stream did not end inside a
    frame. Each failure raises :class:`WireError` with ``closes=True``; after one, the stream
    cannot be framed any more and the connection must be closed.

    :meth:`wanted` tells a reader how many more bytes the current frame needs, so a careful
    reader never asks the socket for payload it has not yet accepted.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD):
        self.max_payload = max_payload
        self._buf = bytearray()
        self._failed: Optional[WireError] = None

    def feed(self, data: bytes) -> None:
        if self._failed:
            raise self._failed
        self._buf += data

    def _fail(self, error: WireError) -> WireError:
        self._failed = error
        return error

    def _check_prefix(self) -> Optional[Tuple[int, ...]]:
        """Checks what the buffered prefix allows; returns the header once 16 bytes are in."""
        buf = self._buf
        if len(buf) >= 2 and bytes(buf[0:2]) != MAGIC:
            magic = buf[0] | buf[1] << 8
            raise self._fail(WireError("badMagic", f'bad magic 0x{magic:04x} (expected 0x4c4d, bytes "ML")',
                                       "INVALID_ARGUMENT", 0, True))
        if len(buf) >= 3 and buf[2] != FRAME_VERSION:
            raise self._fail(WireError("unsupportedFrameVersion",
                                       f"frame version {buf[2]} not supported (this node speaks {FRAME_VERSION})",
                                       "UNIMPLEMENTED", 0, True))
        if len(buf) < HEADER_SIZE:
            return None
        header = HEADER.unpack_from(buf)
        length, request_id = header[7], header[6]
        if length > self.max_payload:
            raise self._fail(WireError("frameTooLarge",
                                       f"frame payload of {length} bytes exceeds the limit of {self.max_payload} bytes",
                                       "RESOURCE_EXHAUSTED", request_id, True))
        return header

    def wanted(self) -> int:
        """Bytes still needed to complete the next frame (at least 1)."""
        if self._failed:
            raise self._failed
        if len(self._buf) < HEADER_SIZE:
            return HEADER_SIZE - len(self._buf)
        header = self._check_prefix()
        return max(1, HEADER_SIZE + header[7] - len(self._buf))

    def next_frame(self) -> Optional[Frame]:
        """The next complete frame, or ``None`` if more bytes are needed."""
        if self._failed:
            raise self._failed
        header = self._check_prefix()
        if header is None:
            return None
        _, version, typ, status, flags, reserved, request_id, length = header
        if len(self._buf) < HEADER_SIZE + length:
            return None
        payload = bytes(self._buf[HEADER_SIZE:HEADER_SIZE + length])
        del self._buf[:HEADER_SIZE + length]
        return Frame(typ, request_id, payload, status, flags, reserved, version)

    def frames(self) -> Iterable[Frame]:
        """Every complete frame buffered so far, in order."""
        while True:
            frame = self.next_frame()
            if frame is None:
                return
            yield frame

    def finish(self) -> None:
        """End of stream: raises a closing INVALID_ARGUMENT if it ended inside a frame."""
        if self._failed:
            raise self._failed
        if self._buf:
            header = self._check_prefix()  # a bad magic/version/length is reported first (§9)
            total = HEADER_SIZE if header is None else HEADER_SIZE + header[7]
            raise self._fail(WireError("truncated",
                                       f"stream ended inside a frame ({len(self._buf)} of {total} bytes)",
                                       "INVALID_ARGUMENT", 0, True))

    @property
    def buffered(self) -> int:
        return len(self._buf)


def check_request_header(frame: Frame, version: int = 1) -> str:
    """§9 steps 5-8 for a frame a server received on a ``version`` connection; returns the
    request's type name.

    Raises :class:`WireError` (connection stays) naming the frame's request id.
    """
    rid = frame.request_id
    allowed = FLAG_WITH_IDS if version >= 2 and TYPE_NAMES.get(frame.type_code) in ("PREDICT", "PREDICT_BATCH") else 0
    if frame.flags & ~allowed or frame.reserved:
        raise WireError("reservedBitsSet",
                        f"reserved header bits set (flags 0x{frame.flags:x}, reserved 0x{frame.reserved:x})",
                        "INVALID_ARGUMENT", rid)
    if frame.type_code not in TYPE_NAMES or (version < 2 and TYPE_NAMES[frame.type_code] in V2_TYPES):
        raise WireError("unknownType", f"unknown message type 0x{frame.type_code:02x}", "UNIMPLEMENTED", rid)
    if frame.type_code >= 0x80 or frame.status_code != 0:
        raise WireError("unexpectedType",
                        f"message type 0x{frame.type_code:x} is not a request, or a request carried a status",
                        "INVALID_ARGUMENT", rid)
    return TYPE_NAMES[frame.type_code]


def check_response_header(frame: Frame) -> str:
    """The header rules for a frame a client received (§4.1, §5, §6); returns its type name.

    A violation means the client cannot trust the stream: it raises :class:`WireError` with
    ``closes=True`` (the client MUST close, §10).
    """
    def bad(kind: str, reason: str) -> WireError:
        return WireError(kind, reason, "INVALID_ARGUMENT", frame.request_id, True)

    if frame.flags or frame.reserved:
        raise bad("reservedBitsSet", f"reserved header bits set (flags 0x{frame.flags:x}, reserved 0x{frame.reserved:x})")
    name = TYPE_NAMES.get(frame.type_code)
    if name is None or frame.type_code < 0x80:
        raise bad("unexpectedType", f"message type 0x{frame.type_code:02x} is not a response")
    if name == "ERROR":
        if frame.status_code == 0 or frame.status_code not in STATUS_NAMES:
            raise bad("unexpectedType", f"ERROR frame with status {frame.status_code}")
    elif frame.status_code != 0:
        raise bad("unexpectedType", f"{name} with non-OK status {frame.status_code}")
    return name


def decode_frame(data: bytes, max_payload: int = CONFIGURABLE_MAX_PAYLOAD, version: int = 1) -> Frame:
    """Decodes ``data``, which must be exactly one frame, with its fields.

    Requests are checked with :func:`check_request_header`, responses with
    :func:`check_response_header`; then the payload is decoded (§11).
    """
    decoder = FrameDecoder(max_payload)
    decoder.feed(data)
    frame = decoder.next_frame()
    if frame is None:
        decoder.finish()
    if decoder.buffered:
        raise ValueError(f"{decoder.buffered} bytes after the frame")
    assert frame is not None
    if frame.type_code in TYPE_NAMES and frame.type_code >= 0x80:
        name = check_response_header(frame)
    else:
        name = check_request_header(frame, version)
    try:
        frame.fields = decode_payload(name, frame.payload, version, frame.flags)
    except WireError as error:
        error.request_id = frame.request_id
        raise
    return frame


# --------------------------------------------------------------------------------------------
# Blocking client
# --------------------------------------------------------------------------------------------

class Client:
    """A blocking client with one request in flight.

    >>> with Client("127.0.0.1", 7070, timeout=5) as c:          # doctest: +SKIP
    ...     c.hello()                                              # role "data"
    ...     score, label, version, generation = c.predict([0.1] * 32)

    Every call sends one request and waits (at most ``timeout`` seconds per socket operation)
    for the response with the same request id. An ERROR answer raises :class:`RemoteError`;
    bytes that break the protocol raise :class:`WireError` and close the connection.
    """

    def __init__(self, host: str, port: int, timeout: float = 5.0, client_name: str = "py-client/1.0"):
        self.client_name = client_name
        self.sock: Optional[socket.socket] = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Responses are checked against the server's advertised limit once known (§4.2 SHOULD).
        self.decoder = FrameDecoder(DEFAULT_MAX_PAYLOAD)
        self._next_id = 1
        self.greeting: Optional[Dict[str, Any]] = None
        self.version = 1  # until HELLO agrees on one (§8)

    # -- plumbing -----------------------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _allocate_id(self) -> int:
        rid = self._next_id
        self._next_id = self._next_id % 0xFFFFFFFF + 1  # never 0 (§7)
        return rid

    def _read_frame(self) -> Frame:
        while True:
            frame = self.decoder.next_frame()
            if frame is not None:
                return frame
            if self.sock is None:
                raise ConnectionError("connection closed")
            # Until the header is complete, read only header bytes: the declared length is
            # checked (in wanted()/next_frame()) before any payload byte is asked for.
            chunk = self.sock.recv(min(self.decoder.wanted(), 65536))
            if not chunk:
                self.close()
                self.decoder.finish()
                raise ConnectionError("the node closed the connection")
            self.decoder.feed(chunk)

    def call(self, type_name: str, fields: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Sends request ``type_name`` with ``fields``; returns the reply's fields."""
        if self.sock is None:
            raise ConnectionError("connection closed")
        rid = self._allocate_id()
        self.sock.sendall(encode_frame(type_name, rid, fields, version=self.version))
        try:
            frame = self._read_frame()
            name = check_response_header(frame)
            frame.fields = decode_payload(name, frame.payload, self.version)
        except WireError:
            self.close()  # a client that cannot frame the server's bytes MUST close (§10)
            raise
        if name == "ERROR":
            closes = frame.status in ("UNAUTHENTICATED", "RESOURCE_EXHAUSTED") or frame.request_id == 0
            if closes:
                self.close()
            if frame.request_id not in (rid, 0):
                raise WireError("unexpectedType", f"ERROR for request {frame.request_id}, expected {rid}",
                                closes=True)
            raise RemoteError(frame.status_code, frame.fields["message"], frame.request_id, closes,
                              frame.fields.get("reason_code", 0))
        if frame.request_id != rid or frame.type_code != TYPES[type_name] | 0x80:
            self.close()
            raise WireError("unexpectedType", f"{name} for request {frame.request_id} answered {type_name} {rid}",
                            closes=True)
        return frame.fields

    # -- typed calls ----------------------------------------------------------------------------

    def hello(self, role: str = "data", token: str = "", min_version: int = 1,
              max_version: int = PROTOCOL_VERSION) -> Dict[str, Any]:
        """HELLO (§8): returns the HELLO_REPLY fields (``version``, ``role``, ``max_payload``,
        ``server_name``) and applies ``max_payload`` to responses from now on."""
        reply = self.call("HELLO", {"min_version": min_version, "max_version": max_version, "role": role,
                                    "token": token, "client_name": self.client_name})
        self.greeting = reply
        self.version = reply["version"]
        self.decoder.max_payload = max(reply["max_payload"], DEFAULT_MAX_PAYLOAD)
        return reply

    def predict(self, features: Sequence[float], prediction_id: Optional[int] = None) -> Tuple[float, int, str, int]:
        """PREDICT one row: returns ``(score, label, version, generation)``. ``prediction_id``
        (v2): the node remembers the prediction under it for :meth:`label`."""
        fields: Dict[str, Any] = {"features": list(features)}
        if prediction_id is not None:
            fields["prediction_id"] = prediction_id
        r = self.call("PREDICT", fields)
        return r["score"], r["label"], r["version"], r["generation"]

    def predict_batch(self, rows: Sequence[Sequence[float]], prediction_ids: Optional[Sequence[int]] = None) -> Dict[str, Any]:
        """PREDICT_BATCH of equally wide ``rows``: returns ``generation``, ``version``, ``rows``,
        ``scores`` and ``labels``. ``prediction_ids`` (v2): one per row."""
        width = len(rows[0]) if rows else 0
        if any(len(row) != width for row in rows):
            raise ValueError("every row must have the same number of features")
        values = [v for row in rows for v in row]
        fields: Dict[str, Any] = {"rows": len(rows), "feature_count": width, "values": values}
        if prediction_ids is not None:
            fields["prediction_ids"] = list(prediction_ids)
        return self.call("PREDICT_BATCH", fields)

    def label(self, items: Sequence[Tuple[int, int]]) -> Dict[str, int]:
        """LABEL (v2, labeller or controller): ``(prediction_id, actual_label)`` pairs; returns
        this message's ``matched``, ``unmatched``, ``expired`` and ``duplicate`` counts."""
        return self.call("LABEL", {"items": [{"prediction_id": pid, "actual_label": actual} for pid, actual in items]})

    def feedback(self, predicted: int, actual: int, version: str) -> None:
        """FEEDBACK (controller only): the true label of an earlier prediction by ``version``."""
        self.call("FEEDBACK", {"predicted_label": predicted, "actual_label": actual, "version": version})

    def health(self) -> Dict[str, Any]:
        """HEALTH: ``serving`` and ``uptime_ms`` (allowed before HELLO)."""
        return self.call("HEALTH")

    def ready(self) -> Dict[str, Any]:
        """READY: ``ready`` and ``reason`` (allowed before HELLO)."""
        return self.call("READY")

    def info(self) -> Dict[str, Any]:
        """INFO: ``generation``, ``ready``, ``draining`` and the ``active``/``standby`` SlotInfo."""
        return self.call("INFO")

    def metrics(self) -> Dict[str, Any]:
        """METRICS: cumulative per-version counters (§11.8, §12)."""
        return self.call("METRICS")

    def load_standby(self, path: str, checksum: Any = None, **v2: Any) -> Dict[str, Any]:
        """LOAD_STANDBY (controller): ``checksum`` is hex/bytes or None (= verify only the
        artifact's own checksum). Returns ``generation`` and the new ``standby`` SlotInfo.
        On v2: ``operation_id``, ``deadline_unix_us``, ``flags`` (``FLAG_FORCE``)."""
        return self.call("LOAD_STANDBY", {"expected_checksum": checksum, "artifact": path, **v2})

    def swap(self, expected: str, **v2: Any) -> Dict[str, Any]:
        """SWAP fenced on ``expected`` being the active version (controller). Returns the
        SwapOutcome: ``previous_version``, ``active_version``, ``generation``,
        ``timestamp_us``, ``swap_ns``. On v2: ``expected_standby``,
        ``expected_standby_checksum``, ``deadline_unix_us``, ``operation_id``, ``flags``."""
        return self.call("SWAP", {"expected_active": expected, **v2})

    def rollback(self, expected: str, **v2: Any) -> Dict[str, Any]:
        """ROLLBACK fenced on ``expected`` (controller); same fields and outcome as :meth:`swap`."""
        return self.call("ROLLBACK", {"expected_active": expected, **v2})

    def set_shadow(self, rate: float, expected_standby: str = "") -> Dict[str, Any]:
        """SET_SHADOW (v2, controller, §11.14): the standby also scores ``rate`` of the rows
        until a swap, a load or a restart; 0 stops it. Returns ``rate``, ``session``,
        ``generation``, ``active_version``, ``standby_version``."""
        return self.call("SET_SHADOW", {"rate": rate, "expected_standby": expected_standby})


# --------------------------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------------------------

def _parse_node(text: str) -> Tuple[str, int]:
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1").strip("[]"), int(port)


def main(argv: Optional[List[str]] = None) -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="MLServe Python client demo: hello, info, 5 predictions.")
    parser.add_argument("--node", default="127.0.0.1:7070", help="host:port of the node's binary port")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--controller", action="store_true",
                        help="say HELLO as controller (token from MLSERVE_TOKEN)")
    args = parser.parse_args(argv)
    host, port = _parse_node(args.node)
    try:
        with Client(host, port, timeout=args.timeout) as client:
            role = "controller" if args.controller else "data"
            reply = client.hello(role, os.environ.get("MLSERVE_TOKEN", "") if args.controller else "")
            print(f"hello: protocol v{reply['version']}, role {reply['role']}, "
                  f"max_payload {reply['max_payload']}, server {reply['server_name']!r}")
            info = client.info()
            for slot_name in ("active", "standby"):
                slot = info[slot_name]
                desc = (f"{slot['model_name']} {slot['version']} ({MODEL_KINDS.get(slot['kind'])}, "
                        f"{slot['feature_count']} features, sha256 {slot['checksum'][:12]}…)"
                        if slot["present"] else "empty")
                print(f"info: {slot_name:7} {desc}")
            print(f"info: generation {info['generation']}, ready {info['ready']}, draining {info['draining']}")
            width = info["active"]["feature_count"] or 32
            rng = random.Random(1)
            for i in range(5):
                row = [rng.uniform(-1, 1) for _ in range(width)]
                score, label, version, generation = client.predict(row)
                print(f"predict {i + 1}: score {score:.6f} label {label} by {version} (generation {generation})")
    except RemoteError as error:
        print(f"error from node: {error.status}: {error.message}", file=sys.stderr)
        return 1
    except (OSError, WireError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
