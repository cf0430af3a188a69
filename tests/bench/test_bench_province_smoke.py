"""Smoke test of `run.py bench --halls N --workers 2` (a province on one machine), tiny: two
halls, a dozen displays, a few seconds on one worker and then on two. Speed is the bench's
business: this checks that the machinery runs end to end (halls copied, clerks signed in,
displays connected to both workers, every hall at its rate, latencies timed) and that no
display lost an event or got one twice."""

from __future__ import annotations

from server.bench.province import Province, ProvinceOptions
from tests.conftest import redis_url


async def test_a_small_province_on_one_then_two_workers(pg_server_dsn):
    opts = ProvinceOptions(
        halls=2,
        windows=6,
        displays=12,
        hall_rate=5.0,
        duration=3.0,
        workers=2,
        database_url=pg_server_dsn,
        redis_url=redis_url(),
        sio_share=0.25,
        display_procs=2,
        command_procs=1,
        ramp=(2.0,),
        quiet=True,
    )
    result = await Province(opts, lambda *_: None).run()
    runs = result["runs"]
    assert set(runs) == {"1", "2"}
    for key, run in runs.items():
        assert run["commands"] > 0 and not run["errors"], (key, run["errors"])
        assert (run["feed"], run["sio"]) == (9, 3)
        assert run["metrics"] == {"live_clients": 12, "halls": 2}, (key, run["metrics"])
        assert run["lost"] == 0 and run["duplicated"] == 0, (key, run)
        assert run["protocol_mismatch"] == 0 and run["closed"] == 0, (key, run)
        assert run["deliveries_timed"] > 0 and run["events_complete"] > 0, (key, run)
        assert run["every_display_p99_ms"] is not None
        # the ramp's step: twice the rate, on the same displays, nothing lost either
        (step,) = run["ramp"].values()
        assert step["offered_per_s"] == 2 * run["offered_per_s"] and step["lost"] == 0, step
    assert len(runs["1"]["displays_per_worker"]) == 1
    assert len(runs["2"]["displays_per_worker"]) == 2, runs["2"]["displays_per_worker"]
    assert result["summary"]["pass"]["lost_2"] is True
