"""Two real server processes sharing one PostgreSQL and one Redis: every process fans out every
committed event to its own clients, exactly once, in order — also across a lost Redis link."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

import psutil
import redis.asyncio as redis
from aiohttp import ClientSession

from realtime.bus import RedisBus
from server.domain.events import EventRecord
from tests.conftest import login, redis_url
from tests.realtime.cluster import ServerProcess, set_notice
from tests.realtime.feed import FeedClient
from tests.realtime.sio import SioClient


async def _sio_on(server: ServerProcess, token: str) -> tuple[SioClient, int]:
    client = await SioClient().connect(server.url, auth={"token": token})
    snap, live = await client.until_live()
    assert snap["type"] == "snapshot" and live["type"] == "live"
    return client, snap["seq"]


async def _notices(
    client: FeedClient | SioClient, n: int, head: int, timeout: float = 5.0
) -> list[tuple[int, str]]:
    """The next n notices as (seq, text), checking that every event (a timer's too) arrives
    once, in order, without a gap after `head`."""
    got, seq = [], head
    while len(got) < n:
        frame = await client.next(timeout)
        if frame.get("type") in ("live", "snapshot", "auth_ok"):
            continue
        assert frame["seq"] == seq + 1, (frame, seq)
        seq = frame["seq"]
        if frame["type"] == "hall.notice_set":
            got.append((frame["seq"], frame["data"]["text"]))
    return got


def _redis_addrs(pid: int, redis_host: str, redis_port: int) -> set[str]:
    """A process's TCP connections to Redis, as Redis names them (ip:port)."""
    return {
        f"{c.laddr.ip}:{c.laddr.port}"
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == redis_port and c.raddr.ip in (redis_host, "127.0.0.1", "::1")
    }


async def _kill_pubsub_of(admin: redis.Redis, pid: int) -> list[str]:
    """Drops the pub/sub connections of one process (only its: other test runs may share this
    Redis). Whatever is published until it has resubscribed is lost to that process."""
    url = urlsplit(redis_url())
    mine = _redis_addrs(pid, url.hostname or "127.0.0.1", url.port or 6379)
    killed = []
    for client in await admin.client_list(_type="pubsub"):
        if client["addr"] in mine:
            await admin.client_kill_filter(_id=client["id"])
            killed.append(client["addr"])
    return killed


async def test_a_command_on_one_process_reaches_clients_of_the_other_exactly_once(cluster):
    a, b = cluster
    async with ClientSession(a.url) as on_a, ClientSession(b.url) as on_b:
        admin = (await login(on_a, "admin"))["token"]
        clerk = (await login(on_b, "clerk001"))["token"]
        async with FeedClient(b.ws_url, clerk) as feed:
            head = (await feed.until_live())[1]["seq"]
            sio, sio_head = await _sio_on(b, clerk)
            try:
                assert sio_head == head
                await set_notice(on_a, admin, "来自 A 的通知")
                (event,) = await _notices(feed, 1, head, timeout=2)
                assert await _notices(sio, 1, head, timeout=2) == [event]
                assert event == (head + 1, "来自 A 的通知")
                extra = await asyncio.gather(feed.quiet(1.0), sio.quiet(1.0))
                assert extra == [[], []]
            finally:
                await sio.close()


async def test_commands_alternating_between_processes_arrive_in_order_on_each(cluster):
    a, b = cluster
    n = 40
    async with ClientSession(a.url) as on_a, ClientSession(b.url) as on_b:
        admin = (await login(on_a, "admin"))["token"]
        clerk = (await login(on_b, "clerk001"))["token"]
        async with FeedClient(b.ws_url, clerk) as feed_b, FeedClient(a.ws_url, clerk) as feed_a:
            head = (await feed_b.until_live())[1]["seq"]
            assert (await feed_a.until_live())[1]["seq"] == head
            sio, _ = await _sio_on(b, clerk)
            try:
                await asyncio.gather(
                    *(set_notice(on_a if i % 2 else on_b, admin, f"交替 {i}") for i in range(n))
                )
                got_b, got_a, got_sio = await asyncio.gather(
                    _notices(feed_b, n, head), _notices(feed_a, n, head), _notices(sio, n, head)
                )
                assert sorted(text for _, text in got_b) == sorted(f"交替 {i}" for i in range(n))
                assert got_sio == got_b
                assert got_a == got_b
                extra = await asyncio.gather(feed_b.quiet(1.0), feed_a.quiet(0.1), sio.quiet(0.1))
                assert extra == [[], [], []]
            finally:
                await sio.close()


async def test_a_process_that_loses_redis_fills_the_gap_from_the_log(cluster):
    a, b = cluster
    admin_redis = redis.Redis.from_url(redis_url())
    n = 40
    killed: list[str] = []
    try:
        async with ClientSession(a.url) as on_a, ClientSession(b.url) as on_b:
            admin = (await login(on_a, "admin"))["token"]
            clerk = (await login(on_b, "clerk001"))["token"]
            before = (await b.health(on_b))["fanout"]["gaps_filled"]
            async with FeedClient(b.ws_url, clerk) as feed:
                head = (await feed.until_live())[1]["seq"]
                sio, _ = await _sio_on(b, clerk)
                try:
                    for i in range(n):
                        if i in (5, 6, 7, 20, 21, 39):  # repeatedly, also right before the end
                            killed += await _kill_pubsub_of(admin_redis, b.proc.pid)
                        await set_notice(on_a, admin, f"断线 {i}")
                    got, got_sio = await asyncio.gather(
                        _notices(feed, n, head), _notices(sio, n, head)
                    )
                    assert [text for _, text in got] == [f"断线 {i}" for i in range(n)]
                    assert got_sio == got
                    extra = await asyncio.gather(feed.quiet(1.0), sio.quiet(0.1))
                    assert extra == [[], []]
                finally:
                    await sio.close()
            assert killed, "no pub/sub connection of B found to kill"
            health = await b.health(on_b)
            bus = health["bus"]
            assert (bus["kind"], bus["ok"], bus["outbox"], bus["dropped"]) == ("redis", True, 0, 0)
            assert health["fanout"]["gaps_filled"] > before, health  # the log did fill a gap
    finally:
        await admin_redis.aclose()


async def test_the_bus_asks_for_a_resync_whenever_it_resubscribes(redis_channel):
    """redis-py reconnects a dropped pub/sub connection and resubscribes by itself; the bus must
    still tell the fanout, which reads what it missed from the log."""
    url = redis_url()
    bus = RedisBus(url, redis_channel)
    admin = redis.Redis.from_url(url)
    resyncs: list[float] = []
    got: list[list[EventRecord]] = []
    bus.subscribe(got.append, lambda: resyncs.append(asyncio.get_running_loop().time()))
    try:
        await bus.start()
        assert len(resyncs) == 1 and bus.status()["ok"] is True
        for k in range(2, 5):
            assert await _kill_pubsub_of(admin, os.getpid())
            for _ in range(100):
                if len(resyncs) == k:
                    break
                await asyncio.sleep(0.05)
            assert len(resyncs) == k, "no resync after the pub/sub connection was dropped"
        # and it is subscribed again
        rec = EventRecord(
            hall_id=1, seq=7, type="t", payload={}, window_id=None, at=datetime.now(UTC)
        )
        for _ in range(100):
            await bus.publish([rec])
            await asyncio.sleep(0.05)
            if got:
                break
        assert got and got[0][0].seq == 7
    finally:
        await bus.close()
        await admin.aclose()
