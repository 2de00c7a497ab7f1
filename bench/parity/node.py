"""A real `mlserve` child for the parity run: started on 127.0.0.1 port 0 with a temporary
token, ready once it prints `ready port=N`, stopped by its PID; artifacts deployed with
`mlctl deploy` (the user's command), rows scored through PREDICT and PREDICT_BATCH."""

from __future__ import annotations

import os
import pathlib
import select
import signal
import subprocess
import time
from typing import Any, List, Optional, Tuple

import mlserve_client as ml

BATCH_ROWS = 1000


class Node:
    def __init__(self, bin_dir: pathlib.Path, work: pathlib.Path, active: pathlib.Path, label: str):
        self.bin_dir = bin_dir
        self.work = work
        self.token = os.urandom(16).hex()
        self.token_file = work / f"{label}.token"
        self.token_file.write_text(self.token)
        self.db = work / f"{label}.sqlite"
        env = dict(os.environ, MLSERVE_TOKEN=self.token)
        self.process = subprocess.Popen(
            [str(bin_dir / "mlserve"), "--host", "127.0.0.1", "--port", "0", "--admin-port", "off", "--no-state",
             "--token-file", str(self.token_file), "--active", str(active), "--standby", "none",
             "--name", f"parity-{label}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.port = self._wait_ready(timeout=60)

    def _wait_ready(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            for line in seen.decode(errors="replace").splitlines():
                if line.startswith("ready port="):
                    return int(line.split("=", 1)[1])
        self.stop()
        error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        raise RuntimeError(f"mlserve did not print `ready port=N` (exit {self.process.returncode}): {error.strip()}")

    def stop(self) -> Optional[int]:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def mlctl(self, command: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin_dir / "mlctl"), command, *args, "--node", f"127.0.0.1:{self.port}",
                               "--token-file", str(self.token_file), "--db", str(self.db)],
                              capture_output=True, text=True, timeout=300)

    def deploy(self, artifact: pathlib.Path, version: str) -> None:
        result = self.mlctl("deploy", str(artifact))
        if result.returncode != 0:
            raise RuntimeError(f"mlctl deploy {artifact.name} exited {result.returncode}: "
                               f"{(result.stderr or result.stdout).strip()}")
        with self.client() as client:
            active = client.info()["active"]["version"]
        if active != version:
            raise RuntimeError(f"after deploying {artifact.name} the active version is {active!r}, not {version!r}")

    def client(self) -> "ml.Client":
        client = ml.Client("127.0.0.1", self.port, timeout=30, client_name="parity/1.0")
        client.hello(max_version=2)
        return client

    def predict_each(self, rows: Any) -> Tuple[List[float], List[int], str]:
        """Every row through PREDICT (one request per row)."""
        scores, labels, versions = [], [], set()
        with self.client() as client:
            for row in rows.tolist():
                score, label, version, _ = client.predict(row)
                scores.append(score)
                labels.append(label)
                versions.add(version)
        return scores, labels, ",".join(sorted(versions))

    def predict_batches(self, rows: Any) -> Tuple[List[float], List[int], str]:
        """Every row through PREDICT_BATCH, BATCH_ROWS rows a request."""
        scores, labels, versions = [], [], set()
        with self.client() as client:
            for start in range(0, len(rows), BATCH_ROWS):
                reply = client.predict_batch(rows[start:start + BATCH_ROWS].tolist())
                scores += reply["scores"]
                labels += reply["labels"]
                versions.add(reply["version"])
        return scores, labels, ",".join(sorted(versions))
