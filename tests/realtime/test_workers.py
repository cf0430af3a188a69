"""`run.py serve --workers 2`: two worker processes on one port, sharing one PostgreSQL and one
Redis. A display connected to one worker sees a command made on the other, and each hall's
timers have exactly one owner."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import psutil
from aiohttp import ClientSession, TCPConnector

from tests.conftest import login, redis_url
from tests.realtime.cluster import ServerProcess, server_env, set_notice
from tests.realtime.feed import FeedClient

FEEDS = 8  # displays opened until both workers hold some (the kernel spreads connections)


def worker_of(workers: list[psutil.Process], port: int, client_port: int) -> int:
    """The worker holding the server side of a client's connection."""
    for w in workers:
        for c in w.net_connections(kind="tcp"):
            if c.laddr and c.laddr.port == port and c.raddr and c.raddr.port == client_port:
                return w.pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


async def test_a_display_on_one_worker_sees_a_command_on_the_other(db_dsn, tmp_path: Path):
    channel = f"hallops:test:{os.getpid()}:{secrets.token_hex(4)}"
    env = server_env(db_dsn, tmp_path, REDIS_URL=redis_url(), HALLOPS_REDIS_CHANNEL=channel)
    server = ServerProcess("W", env, tmp_path, args=("--workers", "2"))
    await server.start()
    try:
        await server.wait_ready()
        assert server.proc is not None
        workers = psutil.Process(server.proc.pid).children()
        assert len(workers) == 2, workers
        # a session that keeps one connection: its commands are made on one worker
        async with ClientSession(server.url, connector=TCPConnector(limit=1)) as pinned:
            admin = (await login(pinned, "admin"))["token"]
            commander = (await server.health(pinned))["worker"]["pid"]
            assert commander in {w.pid for w in workers}
            feeds: list[tuple[FeedClient, int, int]] = []
            try:
                while len(feeds) < FEEDS or len({w for _, w, _ in feeds}) < 2:
                    assert len(feeds) < 64, "the kernel put every display on one worker"
                    feed = await FeedClient(server.ws_url, admin).__aenter__()
                    head = (await feed.until_live())[1]["seq"]
                    client_port = feed.ws.local_address[1]
                    feeds.append((feed, worker_of(workers, server.port, client_port), head))
                await set_notice(pinned, admin, "两个进程，一个端口")
                assert (await server.health(pinned))["worker"]["pid"] == commander
                for feed, worker, head in feeds:
                    frame = await feed.next(5.0)
                    while frame["type"] != "hall.notice_set":
                        frame = await feed.next(5.0)
                    assert frame["seq"] > head and frame["data"]["text"] == "两个进程，一个端口"
                others = [f for f, w, _ in feeds if w != commander]
                assert others, "no display on the other worker"
            finally:
                await asyncio.gather(*(f.__aexit__(None, None, None) for f, _, _ in feeds))
        # each hall's timers: one owner among the two
        log = server.log()
        for hall in ("rizhao", "juxian", "wulian"):
            assert log.count(f"now runs the timers of hall {hall}") == 1, log[-3000:]
    finally:
        await server.stop()
