"""`run.py bench alarms` tiny: its own server (timers on, real clock) on a throwaway database,
a few hundred open cases, a short rest and a short stream. Speed is the bench's business; this
checks that every phase runs and that the stream's alarms were raised by the timers, none
early, each seen on the supervisor's feed."""

from __future__ import annotations

from server.bench.alarms import AlarmBench, AlarmOptions, table


async def test_bench_alarms_machinery_small(pg_server_dsn: str):
    result = await AlarmBench(
        AlarmOptions(
            open_cases=300,
            duration=3.0,
            rate=5.0,
            rest=1.0,
            lead=4.0,
            database_url=pg_server_dsn,
            quiet=True,
        ),
        lambda *_: None,
    ).run()
    assert result["load"]["open_cases"] >= 300
    assert result["load"]["with_next_rung"] > 0
    catch_up = result["phases"]["catch_up"]
    assert catch_up["alarms"] > 0  # some loaded cases are past a rung
    rest = result["phases"]["rest"]
    assert rest["server_cpu_pct"] is not None and rest["server_cpu_pct"] >= 0
    stream = result["phases"]["stream"]
    assert stream["stream_cases"] >= 10
    assert stream["stream_alarms_raised"] == stream["stream_cases"], result["notes"]
    assert stream["lag"]["n"] >= stream["stream_cases"]
    assert stream["early"] == 0
    assert stream["not_seen_on_feed"] == 0
    assert stream["observed"]["n"] == stream["lag"]["n"]
    assert "due -> issued_at" in table(result)
