"""/metrics (issue 12): Prometheus' text format, from a real server. Commands made through the
API are counted per operation and outcome and timed; a live display is counted in its hall
while connected and no more after it left; the bus's outbox fills while Redis is frozen and
empties after the thaw, the dependency's state and its errors said meanwhile. Whoever may read
it (open, or the HALLOPS_METRICS_TOKEN bearer) is in tests/api/test_permissions.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from server import demo_hall
from tests.conftest import LiveServer, redis_url
from tests.conftest import test_settings as settings_for_test
from tests.faults.proxy import FaultProxy
from tests.queue_helpers import bearer, clerk_at_window, command
from tests.realtime.feed import FeedClient

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
WAIT = 10.0  # seconds a change the server makes on its own (a disconnect noticed) may take


async def scrape(http: ClientSession, headers: dict | None = None) -> Samples:
    resp = await http.get("/metrics", headers=headers or {})
    text = await resp.text()
    assert resp.status == 200, text
    assert resp.content_type == "text/plain", resp.headers
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def until(
    http: ClientSession, ok: Callable[[Samples], bool], what: str, seconds: float = WAIT
) -> Samples:
    """Scrapes until `ok` holds (the server notices a disconnect or a thaw on its own)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        samples = await scrape(http)
        if ok(samples):
            return samples
        assert loop.time() < end, f"{what}: not within {seconds} s"
        await asyncio.sleep(0.05)


async def test_commands_are_counted_per_operation_and_outcome_and_timed(live, db, http):
    token = await clerk_at_window(db, 1)
    before = await scrape(http)
    op = "window.set_status"
    for status in ("paused", "open", "paused"):
        await command(http, token, 1, "status", {"status": status})
    # refused: window 2 is not this clerk's (403), and an invalid status (400)
    await command(http, token, 2, "status", {"status": "paused"}, expect=403)
    await command(http, token, 1, "status", {"status": "sleeping"}, expect=400)
    await http.get("/api/halls/rizhao/windows/1/board", headers=bearer(token))
    after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("hallops_commands_total", operation=op, outcome="ok") == 3
    assert grew("hallops_commands_total", operation=op, outcome="refused") == 2
    assert grew("hallops_commands_total", operation=op, outcome="error") == 0
    assert grew("hallops_command_duration_seconds_count", operation=op) == 5
    assert grew("hallops_command_duration_seconds_sum", operation=op) > 0
    # every answer falls in the histogram's last bucket; the quick ones in the first ones too
    assert grew("hallops_command_duration_seconds_bucket", operation=op, le="+Inf") == 5
    assert grew("hallops_queries_total", operation="window.board", outcome="ok") == 1
    assert value(after, "hallops_dependency_up", dependency="database") == 1
    assert value(after, "hallops_dependency_up", dependency="bus") == 1
    assert value(after, "hallops_bus_outbox_batches") == 0  # the in-process bus has none
    assert value(after, "hallops_workers") == 1


async def test_a_live_display_is_counted_in_its_hall_while_connected(live, db, http):
    resp = await http.post(
        "/api/auth/device",
        json={"code": "display-01", "secret": demo_hall.password_for("display-01")},
    )
    body = await resp.json()
    assert resp.status == 200, body
    labels = {"hall": "rizhao", "transport": "feed", "role": "display"}
    before = value(await scrape(http), "hallops_live_clients", **labels)
    delivered = value(await scrape(http), "hallops_live_deliveries_total")
    async with FeedClient(live.ws_url, body["token"]) as feed:
        await feed.until_live()
        during = await scrape(http)
        assert value(during, "hallops_live_clients", **labels) == before + 1
        token = await clerk_at_window(db, 1)
        await command(http, token, 1, "status", {"status": "paused"})
        await feed.events(1)
        during = await scrape(http)
        assert value(during, "hallops_live_deliveries_total") >= delivered + 1
    await until(
        http,
        lambda s: value(s, "hallops_live_clients", **labels) == before,
        "the display's disconnect counted",
    )


async def test_the_outbox_backlog_and_the_bus_state_while_redis_is_frozen(db_dsn, db):
    parts = urlsplit(redis_url())
    proxy = await FaultProxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
    settings = settings_for_test(
        redis_url=f"redis://127.0.0.1:{proxy.port}/0", redis_channel=f"hallops:metrics:{proxy.port}"
    )
    server = await LiveServer(settings, db_dsn).start()
    try:
        token = await clerk_at_window(db, 1)
        async with ClientSession(base_url=server.url) as http:
            await until(
                http,
                lambda s: value(s, "hallops_dependency_up", dependency="bus") == 1,
                "the bus answering",
            )
            before = await scrape(http)
            assert value(before, "hallops_bus_outbox_batches") == 0
            errors = value(before, "hallops_dependency_errors_total", dependency="bus")

            proxy.freeze()
            # the sender holds the first batch in flight; the other four wait behind it
            for status in ("paused", "open", "paused", "open", "paused"):
                await command(http, token, 1, "status", {"status": status})
            frozen = await scrape(http)  # its ping to Redis finds it gone
            assert value(frozen, "hallops_bus_outbox_batches") >= 4, frozen
            assert value(frozen, "hallops_dependency_up", dependency="bus") == 0
            assert value(frozen, "hallops_dependency_errors_total", dependency="bus") > errors
            assert value(frozen, "hallops_dependency_up", dependency="database") == 1

            proxy.thaw()
            await until(
                http,
                lambda s: (
                    value(s, "hallops_bus_outbox_batches") == 0
                    and value(s, "hallops_dependency_up", dependency="bus") == 1
                ),
                "the outbox sent after the thaw",
            )
    finally:
        await server.stop()
        await proxy.close()
