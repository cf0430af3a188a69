"""A TCP proxy in the caller's event loop (a test's, or `run.py faults`'), in front of a real
PostgreSQL or Redis: it passes the bytes through, or freezes (connections stay open, new ones
are accepted, and not a byte moves: a dependency that neither answers nor refuses), or goes
down (every connection dropped, new ones refused). The machine's shared servers are never
stopped or frozen themselves."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit, urlunsplit


class FaultProxy:
    """Listens on a free port of 127.0.0.1; the upstream is a host and port, or a Unix socket's
    path (the embedded PostgreSQL of a machine without one)."""

    def __init__(self, upstream_host: str, upstream_port: int, unix_path: str | None = None):
        self.upstream = (upstream_host, upstream_port)
        self.unix_path = unix_path
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._links: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task] = set()

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.unix_path is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self.unix_path)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._links |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                await self._flowing.wait()  # frozen: held here, nothing answered or refused
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._links.discard(dst)
            with contextlib.suppress(Exception):
                dst.close()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def down(self) -> None:
        """Refuses new connections and drops every open one (a stopped server)."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        for task in list(self._pumps):
            task.cancel()
        self._flowing.set()

    async def up(self) -> None:
        """Accepts again on the same port (a restarted server)."""
        await self.start()

    async def close(self) -> None:
        if self._server is not None:
            await self.down()


def via(dsn: str, port: int) -> str:
    """The DSN with the proxy's address instead of the server's (a Unix socket's too)."""
    parts = urlsplit(dsn)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("host="))
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}", query=query))


async def proxy_for_dsn(dsn: str) -> FaultProxy:
    """A started proxy in front of the PostgreSQL a DSN names (its Unix socket when the DSN
    carries one, as the embedded server's does)."""
    parts = urlsplit(dsn)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    port = parts.port or 5432
    unix = f"{socket_dir}/.s.PGSQL.{port}" if socket_dir.startswith("/") else None
    return await FaultProxy(parts.hostname or "127.0.0.1", port, unix).start()
