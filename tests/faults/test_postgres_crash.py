"""PostgreSQL crashing, stopped and frozen under a burst of commands (issue 12;
server/faults/postgres.py). Each burst sends one command per window a millisecond apart (call
next, start, finish: single SQL functions; a status change: a Python transaction) and the fault
strikes when 30 % of the answers are in.

- The crash through the proxy in front of the test's PostgreSQL: every connection dropped
  mid-flight, new ones refused for 1 s.
- On a private PostgreSQL the test starts itself: `pg_ctl -m immediate restart`, a fast stop
  for 3 s, SIGSTOP of all its processes for 3 s (`run.py faults postgres`: 30 s).

Asserted for every command: answered within 2 s with a 2xx or a 503 database_unavailable;
its state change, event and audit line all in the database or none; a 2xx's all there. Then:
commands succeed within 10 s of PostgreSQL's return, and the log is gapless."""

from __future__ import annotations

from server.faults.common import Result
from server.faults.pgprivate import PrivatePostgres, Unavailable
from server.faults.postgres import PostgresOptions, crash_through_proxy, private_faults
from tests.conftest import missing


def _struck_mid_flight(res: Result, kind: str) -> None:
    figures = res.figures[kind]
    assert figures["ok"] > 0, figures  # some were answered before the fault
    assert figures["unavailable"] + figures["in_doubt"] > 0, figures  # and some after
    assert figures["in_flight_at_fault"] > 0, figures


def _quiet_log(res: Result, server: str) -> None:
    """The outage is told in the server's log as changes of state, WARNING lines, once each:
    no ERROR, no traceback (the SMS sender and asyncpg's pool wrote them every second)."""
    noise = res.figures[f"{server}_server_log"]
    assert noise["errors"] == 0 and noise["tracebacks"] == 0, noise


async def test_a_crash_through_the_proxy_applies_nothing_by_half(db_dsn):
    res = Result("postgres")
    await crash_through_proxy(db_dsn, PostgresOptions(crash_bursts=4), res)
    assert res.ok, (res.failed(), res.notes)
    _struck_mid_flight(res, "crash")
    _quiet_log(res, "proxy")


async def test_a_private_postgresql_restarted_stopped_and_frozen():
    try:
        pg = PrivatePostgres()
    except Unavailable as exc:
        missing(f"no private PostgreSQL for the crash test: {exc}")
        return
    res = Result("postgres")
    await private_faults(PostgresOptions(outage=3.0, crash_bursts=2), res, pg=pg)
    assert res.ok, (res.failed(), res.notes)
    for kind in ("restart", "stop", "freeze"):
        _struck_mid_flight(res, kind)
    # frozen: the commands cut off answered at their bound (1.5 s), not at once, not later
    assert 1400 <= res.figures["freeze"]["answer_max_ms"] <= 2000, res.figures["freeze"]
    _quiet_log(res, "private")
