"""A client that stops reading is dropped and must resync; it never slows the others down."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import orjson
import websockets

from db.pool import _init_connection
from db.queries.events import append_events
from server.keys import BUS, FANOUT, WEBSOCKETS
from tests.realtime.feed import FeedClient
from tests.realtime.test_resume import _device_token

BIG = "满" * 7_000  # ~20 kB per event: fills socket buffers and the 4 MB cap quickly


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
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


async def _stalled_feed(url: str, token: str) -> websockets.ClientConnection:
    """A plain-feed client that authenticates and then never reads again."""
    ws = await websockets.connect(url + "/ws/display", max_size=None, max_queue=1)
    ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await ws.recv()
    await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
    return ws


async def test_a_stalled_plain_feed_client_is_dropped_and_others_get_everything(live, http, db_dsn):
    token = await _device_token(http)
    async with FeedClient(live.ws_url, token) as healthy:
        head = (await healthy.until_live())[-1]["seq"]
        stalled = await _stalled_feed(live.ws_url, token)
        n = 1000
        flood = asyncio.create_task(_flood(live, db_dsn, n))
        got = await healthy.events(n, timeout=30)
        await flood
        assert [e["seq"] for e in got] == list(range(head + 1, head + n + 1))
    # the stalled one was cut off ("too slow"), not left to grow the server's memory: no
    # subscriber and no open server-side socket remain, though that client never closed
    for _ in range(50):
        if fanout_empty(live) and not live.app[WEBSOCKETS]:
            break
        await asyncio.sleep(0.1)
    assert fanout_empty(live) and not live.app[WEBSOCKETS]
    stalled.transport.abort()


def fanout_empty(live) -> bool:
    return live.app[FANOUT].subscriber_count() == 0
