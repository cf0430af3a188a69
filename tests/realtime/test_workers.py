"""`run.py serve --workers 2`: two worker processes on one port, sharing one PostgreSQL and one
Redis. A display connected to one worker sees a command made on the other, and each hall's
timers have exactly one owner."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path

import psutil
from aiohttp import ClientSession, TCPConnector
from prometheus_client.parser import text_string_to_metric_families

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


async def scrape_on(port: int, workers: list[psutil.Process]) -> tuple[int, dict]:
    """GET /metrics on a connection of its own, and the worker that answered it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        client_port = writer.get_extra_info("sockname")[1]
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")  # kept open: whose is it
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        assert length is not None, head
        body = await asyncio.wait_for(reader.readexactly(int(length[1])), 10)
        worker = worker_of(workers, port, client_port)
    finally:
        writer.close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    return worker, samples


async def metrics_of_both(server: ServerProcess, workers: list[psutil.Process], feeds: int):
    """Whichever worker answers /metrics, it answers for both: the displays connected to each,
    the two workers, the three halls' timers (one owner each) and the command made on one."""
    live = ("hallops_live_clients", (("hall", "rizhao"), ("role", "admin"), ("transport", "feed")))
    notice = ("hallops_commands_total", (("operation", "notice.set"), ("outcome", "ok")))
    answered: dict[int, dict] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while len(answered) < 2:
        assert loop.time() < deadline, f"every scrape went to one worker: {list(answered)}"
        worker, samples = await scrape_on(server.port, workers)
        if samples.get(("hallops_timer_halls_owned", ())) != 3:
            continue  # the halls' timers not all claimed yet
        answered[worker] = samples
    for worker, samples in answered.items():
        assert samples[live] == feeds, (worker, samples[live])
        assert samples[("hallops_workers", ())] == 2, worker
        assert samples[notice] == 1, worker


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
                await metrics_of_both(server, workers, len(feeds))
            finally:
                await asyncio.gather(*(f.__aexit__(None, None, None) for f, _, _ in feeds))
        # each hall's timers: one owner among the two
        log = server.log()
        # the start-up warnings of a single server, once, by the supervisor: the QR codes' base
        # address, and every hall whose calendar /healthz says lacks the coming weeks' holidays
        assert log.count("HALLOPS_PUBLIC_URL is not set") == 1, log[-3000:]
        async with ClientSession(server.url) as http:
            lacking = [w["hall"] for w in (await server.health(http))["warnings"]]
        for hall in ("rizhao", "juxian", "wulian"):
            assert log.count(f"calendar: hall {hall} has no official") == (hall in lacking)
        for hall in ("rizhao", "juxian", "wulian"):
            assert log.count(f"now runs the timers of hall {hall}") == 1, log[-3000:]
    finally:
        await server.stop()
