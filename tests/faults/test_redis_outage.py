"""Two workers through a Redis outage (issue 12; server/faults/redis_outage.py): two `run.py
serve` processes reach Redis through the harness's proxy; clerks command at 10/s on worker A;
four plain feeds and two Socket.IO displays are on worker B. Redis is down for 5 s, then frozen
for 5 s (`run.py faults redis` does 30 s each and records the figures in the README).

Asserted: no command failed; the commands' p99 with Redis down and frozen within 500 ms of the
baseline's (a generous bound: a command that waited for a publish would take the 1 s publish
bound or more); every display got every seq once, in order, equal to the log; within 15 s of
each return every display had everything and both workers' bus was back, outbox empty."""

from __future__ import annotations

from server.faults.redis_outage import RedisOptions, redis_outage
from tests.conftest import redis_url

OPTIONS = RedisOptions(
    outage=5.0, recover=5.0, rate=10.0, windows=10, feeds=4, sios=2, margin_ms=500.0
)


async def test_two_workers_through_redis_down_and_frozen(db_dsn):
    res = await redis_outage(db_dsn, redis_url(), OPTIONS)
    assert res.ok, (res.failed(), res.notes)
    phases = res.figures["phases"]
    for name in ("baseline", "down", "frozen"):
        assert phases[name]["commands"] >= 0.8 * OPTIONS.rate * OPTIONS.outage, phases[name]
    # worker B's displays were fed while Redis was away: from the log, not the bus
    assert phases["down"]["display_lag"]["n"] > 0 and phases["frozen"]["display_lag"]["n"] > 0
