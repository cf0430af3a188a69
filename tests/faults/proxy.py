"""A TCP proxy in the test's event loop, in front of a real PostgreSQL or Redis: it passes the
bytes through, or freezes (connections stay open, new ones are accepted, and not a byte moves:
a dependency that neither answers nor refuses), or goes down (every connection dropped, new
ones refused). The machine's shared servers are never stopped or frozen themselves."""

from __future__ import annotations

import asyncio
import contextlib


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
