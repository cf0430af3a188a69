"""A production hall's dependencies failing (issue 12): the server's PostgreSQL and Redis are
reached through a proxy (server/faults/proxy.py) that the test stops or freezes, never the
machine's own servers.

- PostgreSQL down: commands answer 503 `database_unavailable` at once, nothing half-applied,
  and work again within 10 s of its return.
- PostgreSQL frozen (neither answering nor refusing): commands answer 503 within their bound
  (1.5 s), `/healthz` within 2 s saying so; nothing applied; recovery after the thaw.
- Redis frozen: commands answer as fast as ever (publishing never holds an answer; before, each
  waited 5 s), `/healthz` says the bus is not there within 2 s, and says so no more after the
  thaw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp import ClientSession

from tests.conftest import LiveServer, login, redis_url
from tests.conftest import test_settings as settings_for_test
from tests.faults.proxy import FaultProxy, proxy_for_dsn, via
from tests.queue_helpers import bearer, clerk_at_window

PROBE_BOUND = 2.0  # /healthz answers within this, whatever the dependencies do
RECOVERY_BOUND = 10.0


@pytest.fixture
async def pg_proxy(db_dsn: str) -> AsyncIterator[FaultProxy]:
    proxy = await proxy_for_dsn(db_dsn)
    yield proxy
    await proxy.close()


async def set_status(http: ClientSession, token: str, window_no: int, status: str):
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    resp = await http.post(
        f"/api/halls/rizhao/windows/{window_no}/status",
        json={"status": status},
        headers=bearer(token),
    )
    return resp.status, await resp.json(), loop.time() - t0


async def window_status(db: asyncpg.Connection, window_no: int) -> str:
    return await db.fetchval(
        "select w.status from service_window w join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no = $1",
        window_no,
    )


async def recovered(http: ClientSession, token: str) -> float:
    """Seconds until a command succeeds again (polled every 0.2 s, at most RECOVERY_BOUND)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    status = "paused"
    while loop.time() - t0 < RECOVERY_BOUND:
        code, _, _ = await set_status(http, token, 1, status)
        if code == 200:
            return loop.time() - t0
        await asyncio.sleep(0.2)
    raise AssertionError(f"no command succeeded within {RECOVERY_BOUND} s")


async def test_postgresql_down_answers_503_then_recovers(db_dsn, db, pg_proxy):
    server = await LiveServer(settings_for_test(), via(db_dsn, pg_proxy.port)).start()
    try:
        one, two = await clerk_at_window(db, 1), await clerk_at_window(db, 2)
        async with ClientSession(base_url=server.url) as http:
            code, body, _ = await set_status(http, two, 2, "paused")
            assert code == 200, body  # through the proxy, as a deployed server

            await pg_proxy.down()
            code, body, took = await set_status(http, two, 2, "open")
            assert code == 503 and body["error"]["code"] == "database_unavailable", body
            assert "数据库" in body["error"]["message"]
            assert took < PROBE_BOUND, took
            resp = await http.get("/healthz")
            health = await resp.json()
            assert resp.status == 503 and health["database"]["ok"] is False, health

            await pg_proxy.up()
            assert await recovered(http, one) < RECOVERY_BOUND
            # the refused command left nothing behind
            assert await window_status(db, 2) == "paused"
            resp = await http.get("/healthz")
            assert resp.status == 200 and (await resp.json())["database"]["ok"] is True
    finally:
        await server.stop()


async def test_postgresql_frozen_answers_503_within_the_bound(db_dsn, db, pg_proxy):
    settings = settings_for_test()
    server = await LiveServer(settings, via(db_dsn, pg_proxy.port)).start()
    try:
        one, two = await clerk_at_window(db, 1), await clerk_at_window(db, 2)
        async with ClientSession(base_url=server.url) as http:
            code, body, _ = await set_status(http, two, 2, "paused")
            assert code == 200, body

            pg_proxy.freeze()
            code, body, took = await set_status(http, two, 2, "open")
            assert code == 503 and body["error"]["code"] == "database_unavailable", body
            assert settings.command_timeout <= took < settings.command_timeout + 0.5, took
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            resp = await http.get("/healthz")
            health, took = await resp.json(), loop.time() - t0
            assert resp.status == 503 and health["database"]["ok"] is False, health
            assert took < PROBE_BOUND + 0.5, took

            pg_proxy.thaw()
            assert await recovered(http, one) < RECOVERY_BOUND
            # the command cut off by the bound was never committed
            assert await window_status(db, 2) == "paused"
    finally:
        await server.stop()


async def test_redis_frozen_holds_no_command_and_healthz_says_so(db_dsn, db):
    parts = urlsplit(redis_url())
    proxy = await FaultProxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
    channel = f"hallops:test-faults:{proxy.port}"
    settings = settings_for_test(
        redis_url=f"redis://127.0.0.1:{proxy.port}/0", redis_channel=channel
    )
    server = await LiveServer(settings, db_dsn).start()
    try:
        token = await clerk_at_window(db, 1)
        async with ClientSession(base_url=server.url) as http:
            health = await (await http.get("/healthz")).json()
            assert health["bus"]["ok"] is True, health

            proxy.freeze()
            for status in ("paused", "open", "paused", "open", "paused"):
                code, body, took = await set_status(http, token, 1, status)
                assert code == 200, body
                assert took < 0.5, took  # before: 5 s each, publishing awaited
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            resp = await http.get("/healthz")
            health, took = await resp.json(), loop.time() - t0
            assert resp.status == 200, health  # the worker still takes commands
            assert health["bus"]["ok"] is False and took < PROBE_BOUND, (health, took)

            proxy.thaw()
            t0 = loop.time()
            while loop.time() - t0 < RECOVERY_BOUND:
                health = await (await http.get("/healthz")).json()
                if health["bus"]["ok"] and health["bus"]["outbox"] == 0:
                    break
                await asyncio.sleep(0.2)
            assert health["bus"]["ok"] is True and health["bus"]["outbox"] == 0, health
    finally:
        await server.stop()
        await proxy.close()


async def test_a_sign_in_is_fresh_for_the_next_command_whatever_the_bus(db_dsn):
    """The process that ran a command follows its events in its own session cache before it
    answers: with the Redis bus (frozen here, so its echo never comes), a clerk who signs in and
    opens the window at once is not refused as signed in nowhere (found by the province bench:
    403 `not_signed_in` until the echo)."""
    parts = urlsplit(redis_url())
    proxy = await FaultProxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
    settings = settings_for_test(
        redis_url=f"redis://127.0.0.1:{proxy.port}/0",
        redis_channel=f"hallops:test-faults:{proxy.port}",
    )
    server = await LiveServer(settings, db_dsn).start()
    try:
        async with ClientSession(base_url=server.url) as http:
            token = (await login(http, "clerk003"))["token"]
            session = await http.get("/api/session", headers=bearer(token))  # now cached
            assert (await session.json())["actor"]["window_no"] is None
            proxy.freeze()
            resp = await http.post("/api/halls/rizhao/windows/3/sign-in", headers=bearer(token))
            assert resp.status == 200, await resp.text()
            code, body, _ = await set_status(http, token, 3, "open")
            assert code == 200, body
            proxy.thaw()
    finally:
        await server.stop()
        await proxy.close()
