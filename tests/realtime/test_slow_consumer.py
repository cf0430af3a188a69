"""A plain-feed client too slow for the hall's stream is closed with 4408 ("too slow", as the
README promises) and resumes from the log; one that stopped reading altogether is cut off
when the close frame cannot reach it; neither slows the others down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import asyncpg
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from db.pool import _init_connection
from db.queries.events import append_events
from realtime import protocol as p
from realtime.led_feed import FeedSubscriber
from server.keys import BUS, FANOUT, WEBSOCKETS
from tests.realtime.feed import FeedClient
from tests.realtime.test_resume import _device_token

BIG = "满" * 7_000  # ~20 kB per event: the ring's 8 MB hold ~400 of them
FLOOD = 1000  # events: more than twice what the ring holds


async def _flood(live, db_dsn: str, n: int) -> None:
    """n big events, committed and published in batches of 20 like commands would be."""
    conn = await asyncpg.connect(db_dsn)
    await _init_connection(conn)
    try:
        hall_id = await conn.fetchval("select id from hall where code = 'rizhao'")
        for _ in range(n // 20):
            async with conn.transaction():
                records = await append_events(
                    conn,
                    hall_id,
                    "system",
                    None,
                    [{"type": "test.flood", "payload": {"text": BIG}, "window_id": None}] * 20,
                )
            await live.app[BUS].publish(records)
            await asyncio.sleep(0)  # the fan-out runs between batches, as between commands
    finally:
        await conn.close()


async def _paused_feed(url: str, token: str) -> websockets.ClientConnection:
    """A plain-feed client that reads up to its live marker and then reads nothing until the
    test says so: its small receive buffer fills, then the server's socket buffer. The buffer
    is made small before connecting: shrunk afterwards, the window already offered would make
    the kernel drop segments and the server back off its retransmissions for seconds."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    ws = await websockets.connect(url + "/ws/display", sock=sock, max_size=None, max_queue=1)
    assert orjson.loads(await ws.recv()) == {"type": "auth_required"}
    await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
    while orjson.loads(await ws.recv()).get("type") != "live":
        pass
    return ws


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """A bound on waiting for the server to do something, not a pause."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)


def _feed_subscribers(live) -> int:
    return live.app[FANOUT].subscriber_count()


async def _flood_beside_a_healthy_client(live, http, db_dsn, after_drop):
    """Floods the hall while a healthy client reads everything and a paused one reads nothing;
    once the server has dropped the paused one, `after_drop(head, paused)` runs (while the
    healthy one goes on reading) and its result is returned."""
    token = await _device_token(http)
    async with FeedClient(live.ws_url, token) as healthy:
        head = (await healthy.until_live())[-1]["seq"]
        paused = await _paused_feed(live.ws_url, token)
        flood = asyncio.create_task(_flood(live, db_dsn, FLOOD))
        reading = asyncio.create_task(healthy.events(FLOOD, timeout=60))
        # it fell out of the ring and was dropped; the healthy one is still there
        await _until(lambda: _feed_subscribers(live) == 1, 30, "the paused client dropped")
        result = await after_drop(head, paused)
        got = await reading
        await flood
        assert [e["seq"] for e in got] == list(range(head + 1, head + FLOOD + 1))
    return result


async def test_a_client_that_falls_out_of_the_ring_gets_close_code_4408(live, http, db_dsn):
    async def read_to_the_end(head: int, slow: websockets.ClientConnection):
        # it reads again: first what was written to it before it was dropped, in order, then
        # the close frame, with the code the README names
        seqs = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frame = orjson.loads(await asyncio.wait_for(slow.recv(), 10))
                seqs.append(frame["seq"])
        return head, seqs, closed.value

    head, seqs, closed = await _flood_beside_a_healthy_client(live, http, db_dsn, read_to_the_end)
    assert closed.rcvd is not None, "no close frame: the connection was aborted"
    assert closed.rcvd.code == p.CLOSE_SLOW == 4408
    assert closed.rcvd.reason == "slow_consumer"
    assert seqs and seqs == list(range(head + 1, head + 1 + len(seqs)))
    assert len(seqs) < FLOOD  # it was dropped, not served to the end
    await _until(lambda: not live.app[WEBSOCKETS], 10, "the server-side socket closed")


async def test_a_client_that_never_reads_again_is_cut_off_after_the_close_grace(
    live, http, db_dsn, monkeypatch
):
    monkeypatch.setattr(FeedSubscriber, "close_grace", 0.5)

    async def never_read(head: int, stalled: websockets.ClientConnection):
        return stalled

    stalled = await _flood_beside_a_healthy_client(live, http, db_dsn, never_read)
    # The close frame sits behind what it never read: once the grace is over the server cuts
    # the connection, so it holds no memory for a client that is gone.
    await _until(lambda: not live.app[WEBSOCKETS], 10, "the stalled socket cut off")
    assert _feed_subscribers(live) == 0
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(stalled.recv(), 10)
    assert closed.value.rcvd is None  # no close frame could reach it: the TCP connection ended
