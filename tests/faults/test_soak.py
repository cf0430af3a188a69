"""A short soak (issue 12; server/faults/soak.py): 50 displays (5 on Socket.IO) connected to
one server while the day simulator plays a warm-up, then a whole day of 20 windows at x1500
(about 20 s). `run.py faults soak` is the full one: 1,000 displays, 130 windows, x120.

Asserted: after the day, with the hall quiet, the server's RSS is within +10 % of its level
after the warm-up, its open files and asyncio tasks within 5 and its database connections
within 2 of theirs; every display exact."""

from __future__ import annotations

from server.faults.soak import SoakOptions, soak

OPTIONS = SoakOptions(displays=50, speed=1500.0, windows=20, warmup=6.0, settle=2.0)


async def test_a_fast_day_leaves_the_server_flat(db_dsn):
    res = await soak(db_dsn, OPTIONS)
    assert res.ok, (res.failed(), res.notes)
    assert res.figures["day"]["served"] > 100, res.figures["day"]
