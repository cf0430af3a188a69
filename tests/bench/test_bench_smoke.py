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


async def test_bench_cases_machinery_small(bench_server, db_dsn):
    """`run.py bench cases` tiny: 200 open cases bulk-loaded into the test server's database,
    a few seconds of every phase (what the 100,000 run does, small)."""
    from server.bench.cases import CaseBench, CaseOptions, table

    result = await CaseBench(
        CaseOptions(
            open_cases=200,
            rate=10.0,
            read_rate=5.0,
            duration=3.0,
            max_duration=2.0,
            concurrency=4,
            warmup=1.0,
            url=bench_server.url,
            database_url=db_dsn,
            quiet=True,
        ),
        lambda *_: None,
    ).run()
    assert result["database"]["open"] >= 200
    load = result["load"]["rows"]
    assert load["service_case"] == 200 and load["case_history"] > 200
    hall = result["phases"]["hall_load"]
    assert hall["commands"]["n"] > 0 and hall["reads"]["n"] > 0
    assert hall["by_command"]["accept"]["n"] > 0
    # the machine's floor, measured beside: a bare commit and the smallest request
    assert hall["bare_commit"]["n"] > 0 and hall["bare_request"]["n"] > 0
    bad = {k: v for k, v in hall["errors"].items() if not k.startswith("generator_late")}
    assert not bad, hall["errors"]
    most = result["phases"]["max_commands"]
    assert most["commands"]["n"] > 0 and not most["errors"], most["errors"]
    assert result["phases"]["max_reads"]["reads"]["n"] > 0
    assert "timeline read p99" in table(result)
