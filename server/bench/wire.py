"""Minimal clients on asyncio protocols: a WebSocket client (RFC 6455, no extensions) and a
keep-alive HTTP/1.1 client (one request in flight per connection).

They exist because the load generator must not be the bottleneck: aiohttp's WebSocket client
tops out at ~60-80k deliveries/s per process and its HTTP client costs several times what the
server spends on a small command. These do the minimum: parse frame headers, hand payloads on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
import time
from collections.abc import Callable
from typing import cast

_monotonic = time.monotonic
_PACK_H = struct.Struct("!H").pack
_PACK_Q = struct.Struct("!Q").pack
_UNPACK_H = struct.Struct("!H").unpack_from
_UNPACK_Q = struct.Struct("!Q").unpack_from

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

# on_message(opcode, payload, arrival_monotonic)
MessageFn = Callable[[int, bytes, float], None]


def _mask(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return payload
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def client_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """A masked (client-to-server) frame."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + _PACK_H(n)
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + _PACK_Q(n)
    key = os.urandom(4)
    return header + key + _mask(payload, key)


class WsClient(asyncio.Protocol):
    """One WebSocket connection. `opened` resolves after the 101 response; every complete
    message goes to on_message with the time its bytes were read (one clock read per read)."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        on_message: MessageFn,
        on_close: Callable[[int | None, str], None] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.host, self.port, self.path = host, port, path
        self.on_message = on_message
        self.on_close = on_close
        self.headers = headers or {}
        # set by connection_made, before anything uses it
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self._upgraded = False
        self._buf = b""
        self._frag: list[bytes] = []
        self._frag_op = 0
        self.closed = False
        self.close_code: int | None = None
        self.bytes_in = 0

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream's is a Transport
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        self.transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = _monotonic()
        self.bytes_in += len(data)
        buf = self._buf + data if self._buf else data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._buf = buf
                return
            head = buf[:end]
            if not head.startswith(b"HTTP/1.1 101"):
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
                self.transport.close()
                return
            self._upgraded = True
            if not self.opened.done():
                self.opened.set_result(True)
            buf = buf[end + 4 :]
        pos, n = 0, len(buf)
        on_message = self.on_message
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = _UNPACK_H(buf, pos + 2)[0]
                start = pos + 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = _UNPACK_Q(buf, pos + 2)[0]
                start = pos + 10
            end = start + length
            if end > n:
                break
            payload = buf[start:end]
            pos = end
            opcode = b0 & 0x0F
            if opcode >= OP_CLOSE:
                self._control(opcode, payload)
                continue
            if not b0 & 0x80:  # fragment
                if opcode:
                    self._frag_op = opcode
                self._frag.append(payload)
                continue
            if opcode == OP_CONT:
                self._frag.append(payload)
                payload, opcode = b"".join(self._frag), self._frag_op
                self._frag = []
            on_message(opcode, payload, now)
        self._buf = buf[pos:] if pos < n else b""

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self.transport.write(client_frame(payload, OP_PONG))
        elif opcode == OP_CLOSE:
            self.close_code = _UNPACK_H(payload, 0)[0] if len(payload) >= 2 else None
            if not self.closed:
                with contextlib.suppress(OSError, RuntimeError):  # it may be closing already
                    self.transport.write(client_frame(payload[:2], OP_CLOSE))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before upgrade"))
        if self.on_close is not None:
            self.on_close(self.close_code, str(exc) if exc else "")

    # -- sending ----------------------------------------------------------------------------
    def send_text(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(data))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(OSError, RuntimeError):  # it may be closing already
                self.transport.write(client_frame(_PACK_H(1000), OP_CLOSE))
            self.transport.close()


async def ws_connect(
    host: str,
    port: int,
    path: str,
    on_message: MessageFn,
    on_close=None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    on_create=None,
) -> WsClient:
    """on_create(client) runs before any byte arrives (the first message may come with the
    101 response)."""
    loop = asyncio.get_running_loop()

    def make() -> WsClient:
        client = WsClient(host, port, path, on_message, on_close, headers)
        if on_create is not None:
            on_create(client)
        return client

    _, proto = await asyncio.wait_for(loop.create_connection(make, host, port), timeout)
    await asyncio.wait_for(proto.opened, timeout)
    return proto


class HttpError(Exception):
    pass


class HttpConn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time. Responses must carry a
    Content-Length (aiohttp's web.Response does)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        # set by connection_made, before anything uses it
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self._waiter: asyncio.Future | None = None
        self._buf = b""
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream's is a Transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            self._buf = buf
            return
        head = buf[:end].lower()
        i = head.find(b"\r\ncontent-length:")
        if i < 0:
            self._fail(HttpError("response without content-length"))
            return
        j = head.find(b"\r\n", i + 2)
        length = int(head[i + 17 : j if j > 0 else len(head)])
        total = end + 4 + length
        if len(buf) < total:
            self._buf = buf
            return
        self._buf = buf[total:]
        status = int(buf[9:12])
        body = buf[end + 4 : total]
        w, self._waiter = self._waiter, None
        if w is not None and not w.done():
            w.set_result((status, body))

    def _fail(self, exc: Exception) -> None:
        w, self._waiter = self._waiter, None
        if w is not None and not w.done():
            w.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionError("connection closed"))

    def send(self, request: bytes) -> asyncio.Future:
        """Writes a complete request; the future gives (status, body)."""
        if self.closed:
            raise ConnectionError("connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def http_request(
    method: str,
    host: str,
    port: int,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    ctype = "Content-Type: application/json\r\n" if body else ""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{ctype}"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def http_connect(host: str, port: int, timeout: float = 10.0) -> HttpConn:
    loop = asyncio.get_running_loop()
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: HttpConn(host, port), host, port), timeout
    )
    return proto
