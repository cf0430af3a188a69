"""Displays reconnecting at once (issue 12; server/faults/storm.py): 200 plain-feed displays of
one server are cut at the same instant while clerks command at 10/s; each comes back with its
last seq (`run.py faults storm --displays 1000` is the full one, recorded in the README).

Asserted: every display live again and exact (every seq once, up to the head) within 60 s; no
command failed; the clerks' p99 over the storm under 2 s (the target, 1 s, is judged by the full
run; this bound leaves room for a busy CI machine)."""

from __future__ import annotations

from server.faults.storm import StormOptions, storm

OPTIONS = StormOptions(
    displays=200, rate=10.0, windows=10, baseline=3.0, after=2.0, p99_bound_ms=2000.0
)


async def test_two_hundred_displays_reconnecting_at_once(db_dsn):
    res = await storm(db_dsn, OPTIONS)
    assert res.ok, (res.failed(), res.notes)
    assert res.figures["cut"] == 200 and res.figures["reconnects"] >= 200, res.figures
