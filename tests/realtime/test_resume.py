"""Commit, then publish, then resume: the live feeds are exact."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import ClientSession

from db.queries.events import append_events
from tests.conftest import login
from tests.realtime.feed import FeedClient


async def _device_token(http: ClientSession, code: str = "display-01") -> str:
    from server import demo_hall

    resp = await http.post(
        "/api/auth/device", json={"code": code, "secret": demo_hall.DEMO_PASSWORDS["display"]}
    )
    return (await resp.json())["token"]


async def _set_notice(http: ClientSession, token: str, text: str) -> None:
    resp = await http.put(
        "/api/halls/rizhao/notice",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200, await resp.text()


async def test_snapshot_on_connect_then_live_events(live, http):
    admin = (await login(http, "admin"))["token"]
    display = await _device_token(http)
    async with FeedClient(live.ws_url, display) as feed:
        frames = await feed.until_live()
        assert frames[0] == {"type": "auth_ok", "hall": "rizhao"}
        snap = frames[1]
        assert snap["type"] == "snapshot" and len(snap["data"]["windows"]) == 130
        await _set_notice(http, admin, "今日下午 3 点系统维护")
        (event,) = await feed.events(1, timeout=2)
        assert event["type"] == "hall.notice_set"
        assert event["seq"] == snap["seq"] + 1
        assert event["data"] == {"text": "今日下午 3 点系统维护"}


async def test_reconnect_with_last_seq_gets_exactly_the_missed_events(live, http):
    admin = (await login(http, "admin"))["token"]
    display = await _device_token(http)
    async with FeedClient(live.ws_url, display) as feed:
        last = (await feed.until_live())[-1]["seq"]
    for i in range(50):
        await _set_notice(http, admin, f"通知 {i}")
    async with FeedClient(live.ws_url, display, since=last) as feed:
        frames = await feed.until_live()
        events = frames[1:-1]
        assert [e["seq"] for e in events] == list(range(last + 1, last + 51))
        assert [e["data"]["text"] for e in events] == [f"通知 {i}" for i in range(50)]
        assert frames[-1] == {"type": "live", "seq": last + 50}
        await _set_notice(http, admin, "之后")
        (after,) = await feed.events(1)
        assert after["seq"] == last + 51


async def test_malformed_or_too_old_since_gets_a_snapshot(live, http):
    display = await _device_token(http)
    for since in ("abc", -5, 10**9, None):
        async with FeedClient(live.ws_url, display, since=since) as feed:
            frames = await feed.until_live()
            assert frames[1]["type"] == "snapshot", since


async def test_events_lost_on_the_bus_are_filled_from_the_log(live, http, db_dsn):
    """Events committed without a publish (a dropped Redis message, a crash between commit and
    publish) still reach every client, in order, from the log."""
    display = await _device_token(http)
    async with FeedClient(live.ws_url, display) as feed:
        head = (await feed.until_live())[-1]["seq"]
        conn = await asyncpg.connect(db_dsn)
        try:
            from db.pool import _init_connection

            await _init_connection(conn)
            hall_id = await conn.fetchval("select id from hall where code = 'rizhao'")
            async with conn.transaction():
                await append_events(
                    conn,
                    hall_id,
                    "system",
                    None,
                    [
                        {"type": "test.unpublished", "payload": {"n": i}, "window_id": None}
                        for i in range(3)
                    ],
                )
        finally:
            await conn.close()
        events = await feed.events(3, timeout=5)
        assert [e["seq"] for e in events] == [head + 1, head + 2, head + 3]
        assert [e["data"]["n"] for e in events] == [0, 1, 2]


async def test_concurrent_writers_never_leave_a_gap_or_duplicate(live, http, db):
    admin = (await login(http, "admin"))["token"]
    before = await db.fetchval(
        "select last_seq from hall_seq h join hall on hall.id = h.hall_id "
        "where hall.code = 'rizhao'"
    )
    await asyncio.gather(*(_set_notice(http, admin, f"并发 {i}") for i in range(60)))
    seqs = [
        r["seq"]
        for r in await db.fetch(
            "select seq from event e join hall h on h.id = e.hall_id where h.code = 'rizhao' "
            "and seq > $1 order by seq",
            before,
        )
    ]
    assert seqs == list(range(before + 1, before + 61))


async def test_many_connections_appending_directly_keep_the_sequence_gapless(db_dsn):
    pool = await asyncpg.create_pool(db_dsn, min_size=8, max_size=8)
    from db.pool import _init_connection

    async with pool.acquire() as c:
        await _init_connection(c)
        hall_id = await c.fetchval("select id from hall where code = 'juxian'")
        before = await c.fetchval("select last_seq from hall_seq where hall_id = $1", hall_id)

    async def writer(k: int) -> list[int]:
        got = []
        async with pool.acquire() as conn:
            await _init_connection(conn)
            for i in range(25):
                async with conn.transaction():
                    recs = await append_events(
                        conn,
                        hall_id,
                        "system",
                        None,
                        [{"type": "t", "payload": {"k": k, "i": i}, "window_id": None}]
                        * (1 + i % 3),
                    )
                got += [r.seq for r in recs]
        return got

    results = await asyncio.gather(*(writer(k) for k in range(8)))
    allseq = sorted(s for r in results for s in r)
    assert allseq == list(range(before + 1, before + 1 + len(allseq)))
    await pool.close()
