"""Live sockets do not outlive their session: when a session ends (logout, forced sign-out,
revocation) a session.ended event is committed, every process sees it on the bus and closes
its live connections of that session, on both transports, within 2 s. The event itself never
reaches a screen: a client's stream gets a position-only "skip" frame in its place."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import ClientSession
from websockets.exceptions import ConnectionClosed

from db.pool import _init_connection
from realtime import protocol as p
from realtime.bus import RedisBus
from server.domain.actor import system_actor
from server.domain.store import Store
from server.keys import BUS
from tests.conftest import login, redis_url
from tests.realtime.cluster import ServerProcess, set_notice
from tests.realtime.feed import FeedClient
from tests.realtime.sio import SioClient

CLOSE_WITHIN = 2.0  # seconds, from the end of the request that ended the session


async def _feed_closed(feed: FeedClient, timeout: float) -> int | None:
    """Reads what is left until the server closes the feed; its close code."""
    try:
        while True:
            await feed.next(timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _live_pair(server: ServerProcess, token: str) -> tuple[FeedClient, SioClient]:
    feed = await FeedClient(server.ws_url, token).__aenter__()
    await feed.until_live()
    sio = await SioClient().connect(server.url, auth={"token": token})
    await sio.until_live()
    return feed, sio


async def _closed_within(feed: FeedClient, sio: SioClient, seconds: float) -> int | None:
    """Both connections closed by the server within `seconds`; the feed's close code."""
    code, _ = await asyncio.wait_for(
        asyncio.gather(_feed_closed(feed, seconds), sio.disconnected.wait()), seconds
    )
    return code


async def test_a_logout_on_one_process_closes_that_sessions_sockets_on_both(cluster):
    a, b = cluster
    async with ClientSession(a.url) as on_a, ClientSession(b.url) as on_b:
        ending = (await login(on_a, "clerk001"))["token"]
        other_session = (await login(on_b, "clerk001"))["token"]  # same clerk, another login
        admin = (await login(on_a, "admin"))["token"]
        on_b_feed, on_b_sio = await _live_pair(b, ending)
        on_a_feed, on_a_sio = await _live_pair(a, ending)
        async with FeedClient(b.ws_url, other_session) as survivor:
            head = (await survivor.until_live())[-1]["seq"]
            loop = asyncio.get_running_loop()
            async with on_a.post(
                "/api/auth/logout", headers={"Authorization": f"Bearer {ending}"}
            ) as resp:
                assert resp.status == 200, await resp.text()
            t0 = loop.time()
            codes = await asyncio.gather(
                _closed_within(on_b_feed, on_b_sio, CLOSE_WITHIN),
                _closed_within(on_a_feed, on_a_sio, CLOSE_WITHIN),
            )
            assert loop.time() - t0 < CLOSE_WITHIN
            assert codes == [p.CLOSE_UNAUTHENTICATED] * 2
            # the other session of the same clerk is still live, and the event itself reached
            # no screen: the survivor got a skip frame at its sequence number
            await set_notice(on_a, admin, "仍在线")
            frames = [await survivor.next(2), await survivor.next(2)]
            assert frames[0] == {"seq": head + 1, "type": p.SKIP_FRAME}
            assert frames[1]["seq"] == head + 2 and frames[1]["type"] == "hall.notice_set"
        for sio in (on_a_sio, on_b_sio):
            await sio.close()


async def test_a_session_ended_for_a_whole_staff_member_closes_all_their_sockets(
    cluster, db_dsn, redis_channel
):
    """session null (a forced sign-out, or every session revoked): every live connection of
    that staff member closes, another clerk's stays. The event is committed and published here
    the way a command does it (Store.command + tx.emit), so this tests the fan-out's part
    whatever command ends sessions."""
    a, b = cluster
    async with ClientSession(a.url) as on_a, ClientSession(b.url) as on_b:
        first = (await login(on_a, "clerk001"))["token"]
        second = (await login(on_b, "clerk001"))["token"]
        bystander = (await login(on_b, "clerk002"))["token"]
        staff_id = (await login(on_b, "clerk001"))["actor"]["id"]
        pairs = [await _live_pair(b, first), await _live_pair(a, second)]
        async with FeedClient(b.ws_url, bystander) as other:
            head = (await other.until_live())[-1]["seq"]
            pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1, init=_init_connection)
            bus = RedisBus(redis_url(), redis_channel)
            try:
                hall_id = await pool.fetchval("select id from hall where code = 'rizhao'")
                store = Store(pool, bus.publish)
                async with store.command(system_actor(hall_id), "test.revoke") as tx:
                    tx.emit(
                        p.SESSION_ENDED,
                        {
                            "session": None,
                            "staff_id": staff_id,
                            "device_id": None,
                            "reason": "revoked",
                        },
                    )
                codes = await asyncio.gather(
                    *(_closed_within(feed, sio, CLOSE_WITHIN) for feed, sio in pairs)
                )
            finally:
                await bus.close()
                await pool.close()
            assert codes == [p.CLOSE_UNAUTHENTICATED] * 2
            assert await other.next(2) == {"seq": head + 1, "type": p.SKIP_FRAME}
        for _, sio in pairs:
            await sio.close()


async def test_a_room_filtered_terminal_gets_nothing_for_an_internal_event(live, http, db_dsn):
    """Room subscribers see gaps by design: they get no skip frame, and never the event."""
    admin = (await login(http, "admin"))["token"]
    clerk = (await login(http, "clerk002"))["token"]
    sio = await SioClient().connect(live.url, auth={"token": clerk, "rooms": ["window:15"]})
    try:
        await sio.until_live()
        pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1, init=_init_connection)
        try:
            hall_id = await pool.fetchval("select id from hall where code = 'rizhao'")
            store = Store(pool, live.app[BUS].publish)
            async with store.command(system_actor(hall_id), "test.revoke") as tx:
                tx.emit(
                    p.SESSION_ENDED,
                    {"session": "0" * 16, "staff_id": 1, "device_id": None, "reason": "logout"},
                )
        finally:
            await pool.close()
        await set_notice(http, admin, "给所有房间")
        (frame,) = await sio.events(1, timeout=2)
        assert frame["type"] == "hall.notice_set"
        assert [f for f in sio.frames if f.get("type") in (p.SESSION_ENDED, p.SKIP_FRAME)] == []
    finally:
        await sio.close()
