"""Minimal HTTP/1.1 clients for the benchmark's own requests.

The blocking helpers log in and read every ``Set-Cookie`` header, which wrk
cannot do: its Lua ``response`` hook gets the headers as a table keyed by
name, so of several ``Set-Cookie`` headers only the last one survives.
``AsyncConnection`` is a keep-alive client for the load drivers that must
carry cookies from one response to the next request.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from dataclasses import dataclass, field

REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        target = name.lower()
        return [value for key, value in self.headers if key.lower() == target]

    def set_cookies(self) -> dict[str, str]:
        """Map each cookie name in the ``Set-Cookie`` headers to its whole header value."""
        cookies = {}
        for header in self.header_values("set-cookie"):
            name = header.split("=", 1)[0].strip()
            cookies[name] = header
        return cookies

    def cookie_values(self) -> dict[str, str]:
        """Map each cookie name in the ``Set-Cookie`` headers to the cookie's value alone."""
        return {name: cookie_value(header) for name, header in self.set_cookies().items()}


def cookie_value(set_cookie_header: str) -> str:
    """Return the value of one ``Set-Cookie`` header, without its name and attributes."""
    pair = set_cookie_header.split(";", 1)[0]
    return pair.split("=", 1)[1] if "=" in pair else ""


def request(host: str, port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            json_body: object = None) -> Response:
    """Send one request on a new connection and return the whole response."""
    body = json.dumps(json_body).encode("utf-8") if json_body is not None else None
    all_headers = dict(headers or {})
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Response(status=response.status, headers=response.getheaders(), body=response.read())
    finally:
        connection.close()


class HttpError(RuntimeError):
    """Error for a response whose status the benchmark cannot go on with."""


def expect_status(response: Response, expected: int, description: str) -> Response:
    if response.status != expected:
        raise HttpError(f"{description} returned HTTP {response.status}, expected {expected}: {_snippet(response)}")
    return response


def expect_success(response: Response, description: str) -> Response:
    if not 200 <= response.status <= 299:
        raise HttpError(f"{description} returned HTTP {response.status}, expected 2xx: {_snippet(response)}")
    return response


def _snippet(response: Response) -> str:
    return response.body[:300].decode("utf-8", "replace")


@dataclass
class AsyncConnection:
    """One keep-alive HTTP/1.1 connection that reconnects after the server closes it."""

    host: str
    port: int
    _reader: asyncio.StreamReader | None = field(default=None, init=False, repr=False)
    _writer: asyncio.StreamWriter | None = field(default=None, init=False, repr=False)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        response = await asyncio.wait_for(_read_response(self._reader), REQUEST_TIMEOUT_S)
        if any(value.lower() == "close" for value in response.header_values("connection")):
            await self.close()
        return response

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


async def _read_response(reader: asyncio.StreamReader) -> Response:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = []
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    response = Response(status=status, headers=headers, body=b"")
    if any(value.lower() == "chunked" for value in response.header_values("transfer-encoding")):
        body = await _read_chunked(reader)
    else:
        length = int((response.header_values("content-length") or ["0"])[0])
        body = await reader.readexactly(length)
    return Response(status=status, headers=headers, body=body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            # Skip trailer fields up to the blank line that ends the message.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
