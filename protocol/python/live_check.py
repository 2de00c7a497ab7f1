#!/usr/bin/env python3
"""A short live conversation with a node, printed as one JSON object on stdout.

Used by Tests/MLServerTests/PythonClientTests.swift against an in-process node whose active
model is v2.0 and standby v2.1, but it runs against any node:

    MLSERVE_TOKEN=... python3 live_check.py --port 7070 [--host 127.0.0.1]

Steps: HELLO as controller (token from MLSERVE_TOKEN), PREDICT one row of 32 features all 0.1,
INFO, SWAP fenced on v2.0, the same SWAP again (which must be refused with
FAILED_PRECONDITION), then a PREDICT on a fresh data connection (served by the new active
version). Each step's result goes into the JSON; a step that raised has ``"error"`` and, for
an ERROR frame, ``"status"``. Exit status 0 when every step ran as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import struct
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import mlserve_client as ml  # noqa: E402


def f32_bits(value: float) -> str:
    return f"0x{struct.unpack('<I', struct.pack('<f', value))[0]:08x}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--expect", default="v2.0", help="the version the fenced swap expects to be active")
    args = parser.parse_args()
    token = os.environ.get("MLSERVE_TOKEN", "")
    row = [0.1] * 32
    out: dict = {"ok": False}

    def failed(step: str, error: Exception) -> int:
        out[step] = {"error": str(error), "status": getattr(error, "status", None)}
        print(json.dumps(out, sort_keys=True))
        return 1

    try:
        client = ml.Client(args.host, args.port, timeout=args.timeout, client_name="py-live-check/1.0")
    except OSError as error:
        return failed("connect", error)
    with client:
        try:
            out["hello"] = client.hello("controller", token)
        except (ml.RemoteError, ml.WireError, OSError) as error:
            return failed("hello", error)
        try:
            score, label, version, generation = client.predict(row)
            out["predict"] = {"score": score, "score_bits": f32_bits(score), "label": label,
                              "version": version, "generation": generation}
        except (ml.RemoteError, ml.WireError, OSError) as error:
            return failed("predict", error)
        try:
            info = client.info()
            out["info"] = {"generation": info["generation"], "ready": info["ready"], "draining": info["draining"],
                           "active_version": info["active"]["version"],
                           "active_feature_count": info["active"]["feature_count"],
                           "standby_version": info["standby"]["version"]}
        except (ml.RemoteError, ml.WireError, OSError) as error:
            return failed("info", error)
        try:
            # v2 (§11.10): the swap names the standby it expects and its operation id, which Info
            # then reports as the node's last control change.
            out["swap"] = client.swap(args.expect, expected_standby=info["standby"]["version"],
                                      expected_standby_checksum=info["standby"]["checksum"], operation_id="py-live-check")
            out["last_operation_id"] = client.info().get("last_operation_id")
        except (ml.RemoteError, ml.WireError, OSError) as error:
            return failed("swap", error)
        try:
            again = client.swap(args.expect)
            out["refused_swap"] = {"status": "OK", "unexpected_reply": again}
        except ml.RemoteError as error:
            out["refused_swap"] = {"status": error.status, "status_code": error.status_code,
                                   "message": error.message, "request_id": error.request_id}
        except (ml.WireError, OSError) as error:
            return failed("refused_swap", error)
    try:
        with ml.Client(args.host, args.port, timeout=args.timeout) as data_client:
            data_client.hello()
            score, label, version, generation = data_client.predict(row)
            out["predict_after_swap"] = {"score": score, "score_bits": f32_bits(score), "label": label,
                                         "version": version, "generation": generation}
    except (ml.RemoteError, ml.WireError, OSError) as error:
        return failed("predict_after_swap", error)

    out["ok"] = (out["refused_swap"]["status"] == "FAILED_PRECONDITION"
                 and out["last_operation_id"] in ("py-live-check", None)
                 and out["swap"]["previous_version"] == args.expect
                 and out["predict_after_swap"]["version"] == out["swap"]["active_version"])
    print(json.dumps(out, sort_keys=True))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
