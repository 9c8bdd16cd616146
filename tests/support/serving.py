"""A real ``reclaim serve`` in its own process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import httpx

#: How long a server may take to answer ``/healthz`` after it starts.
START_SECONDS: Final = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    data_dir: Path, log_path: Path, env: Mapping[str, str] | None = None,
    start_seconds: float = START_SECONDS,
) -> Iterator[str]:  # fmt: skip
    """``reclaim serve`` over ``data_dir`` until the block ends (SIGTERM, then kill); its URL
    once ``/healthz`` answers. Output goes to ``log_path``."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "reclaim", "serve", "--port", str(port), "--data-dir",
               str(data_dir)]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                assert process.poll() is None, "reclaim serve exited while starting"
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "reclaim serve did not start in time"
                time.sleep(0.1)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
