"""Smoke tests of the load tools: the bench machinery (small, against the live test server) and
the day simulator (a few simulated minutes at high speed). Speed is the bench's business, not
these tests': they check that the machinery runs and that no display lost or got an event
twice."""

from __future__ import annotations

import pytest

from server.bench.runner import Bench, Options
from server.bench.stage import PREFILL_KIOSK_PER_MINUTE
from server.simulate import Options as SimOptions
from server.simulate import simulate
from tests.conftest import LiveServer
from tests.conftest import test_settings as settings_for_test


@pytest.fixture
async def bench_server(db_dsn: str):
    """The test server with the kiosk rate limit the bench starts its own server with: the
    queues are filled by registering at the kiosk, through the API."""
    limit = PREFILL_KIOSK_PER_MINUTE
    server = await LiveServer(
        settings_for_test(kiosk_per_minute=float(limit), kiosk_burst=limit), db_dsn
    ).start()
    yield server
    await server.stop()


async def test_bench_machinery_small(bench_server, db_dsn):
    live = bench_server
    opts = Options(
        url=live.url,
        database_url=db_dsn,
        windows=10,
        displays=20,
        duration=2.0,
        sio_share=0.25,
        display_procs=2,
        command_procs=1,
        ceiling=False,
        raw=False,
        warmup=1.0,
        quiet=True,
    )
    result = await Bench(opts, lambda *_: None).run()
    phases = result["phases"]
    for name in ("commands_no_displays", "latency", "fanout", "commands_with_displays"):
        assert phases[name]["commands"] > 0, (name, phases[name])
        assert not phases[name]["errors"], (name, phases[name]["errors"])
    for name in ("check", "overload_check"):
        check = phases[name]
        assert check["subscribers"] == 20
        assert check["lost"] == 0 and check["duplicated"] == 0, check
        assert check["protocol_mismatch"] == 0, check
    assert phases["latency"]["latency_samples"] > 0
    # the disk's share: bare commits ran beside the latency phase, and the table says so
    assert phases["latency"]["bare_commit_max_ms"] >= phases["latency"]["bare_commit_p50_ms"] > 0
    assert phases["commands_with_displays"]["deliveries"] > 0
    assert result["summary"]["pass"]["lost_duplicated"] is True
    assert not [n for n in result["notes"] if n.startswith("pre-fill")], result["notes"]


async def test_simulator_plays_a_few_minutes(live):
    stats = await simulate(
        SimOptions(
            url=live.url,
            hall="rizhao",
            speed=600,
            duration=4.0,
            start="09:00",
            windows=8,
            seed=7,
            quiet=True,
        )
    )
    assert stats.registered > 0
    assert stats.called > 0
    assert stats.feed_events > 0 and stats.feed_gaps == 0
    assert stats.errors == 0, stats.error_codes
