"""A lean HTTP/1.1 keep-alive load client for the benchmarks that drive a real server.

httpx costs about 3 ms of client CPU per request here: on a 2-core machine that shares its cores
with the server, such a client measures itself, not the server (the hello-world baseline of
``bench_orders_http`` topped out at ~250 requests/s, the static file of ``bench_pages`` at ~300).
This client writes each request as bytes on a kept-alive ``asyncio`` stream and reads the answer
by its ``Content-Length`` (or chunked encoding), checking the status: some tens of microseconds a
request, so the server's own cost is what the figures show. It is the same for the baseline and
the measured endpoint in every run, so the ratios compare like with like.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

_HEADERS_MAX: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def request_bytes(
    method: str, host: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """One HTTP/1.1 request, keep-alive, as bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One kept-alive connection; requests on it are sent one after the other."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80,
                                                       limit=_HEADERS_MAX)  # fmt: skip
        return cls(reader, writer)

    async def send(self, raw: bytes) -> Answer:
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = b""
        return Answer(status, headers, body)

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self._reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


def host_of(base_url: str) -> str:
    return urlsplit(base_url).netloc
