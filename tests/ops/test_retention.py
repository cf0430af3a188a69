"""Retention of the event log and the audit trail (issue 12): the days older than the retention
move into their archive tables, row for row; what stays is a gapless run of each hall's
sequence; a client resuming from an archived seq is told (HTTP 410 events_archived) or given a
fresh snapshot (live feeds), never a silent gap; the hall goes on numbering; the reports do not
move by a digit.

The log's `at` is PostgreSQL's clock, so a test cannot write last year's events: it ages rows
written now, as the owner with the append-only triggers off for the moment, which is what a
hall that ran then would hold."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from server import demo_hall
from server.catalogue import CATALOGUE
from server.catalogue.retention import archive_job
from server.catalogue.spine import TimerContext
from server.domain import retention
from server.domain.queueing import TZ
from server.keys import POOL, STORE
from tests.api_client import Api
from tests.cases.helpers import IMMEDIATE, PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import ROOT, login
from tests.ops.test_backup import ops_env, run_py
from tests.queue_helpers import bearer, kiosk_token, rater_at, register
from tests.realtime.feed import FeedClient
from tests.realtime.sio import SioClient

LONG_AGO = datetime(2025, 3, 10, 10, 0, tzinfo=TZ)  # older than 13 months from any test day


async def age(db: asyncpg.Connection, table: str, where: str, when: datetime, *args) -> int:
    """Backdates rows of the log or the audit trail (their append-only triggers off meanwhile,
    in one transaction)."""
    trigger = {"event": "event_no_update", "audit": "audit_no_update"}[table]
    async with db.transaction():
        await db.execute(f"alter table {table} disable trigger {trigger}")
        status = await db.execute(f"update {table} set at = $1 where {where}", when, *args)
        await db.execute(f"alter table {table} enable trigger {trigger}")
    return int(status.split()[-1])


async def notices(api: Api, n: int) -> None:
    for i in range(n):
        await api.ok("admin", "PUT", "/api/halls/rizhao/notice", json={"text": f"通知 {i}"})


async def rows(db: asyncpg.Connection, sql: str, *args) -> list[dict]:
    return [dict(r) for r in await db.fetch(sql, *args)]


def test_the_cutoff_keeps_whole_days_of_at_least_the_months_asked():
    now = datetime(2026, 8, 31, 15, 0, tzinfo=TZ)
    assert retention.cutoff(now, 6) == datetime(2026, 2, 28, tzinfo=TZ)
    assert retention.cutoff(now, 13) == datetime(2025, 7, 31, tzinfo=TZ)
    # the hall's day, not UTC's: 01:00 in Shanghai is the previous day in UTC
    early = datetime(2026, 12, 7, 1, 0, tzinfo=TZ)
    assert retention.cutoff(early, 6) == datetime(2026, 6, 7, tzinfo=TZ)
    assert retention.cutoff(early, 6) <= early - timedelta(days=181)


async def test_old_days_move_to_the_archive_and_the_log_stays_a_gapless_run(
    live, http, db, db_dsn, tmp_path
):
    api = Api(http)
    await api.login("admin")
    await notices(api, 20)
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    # events 1..12 are from last year, except the 5th: its transaction started late (at is a
    # transaction's start, seq its commit order), so the move must stop before it
    assert await age(db, "event", "hall_id = $2 and seq <= 12 and seq <> 5", LONG_AGO, hall) == 11
    aged_audit = await age(db, "audit", "id <= (select min(id) + 9 from audit)", LONG_AGO)
    assert aged_audit == 10
    original = await rows(db, "select * from event where hall_id = $1 order by seq", hall)
    old_audit = await rows(db, "select * from audit where at = $1 order by id", LONG_AGO)

    # run.py archive, as an operator or cron runs it
    code, out, err = await run_py("archive", env=ops_env(tmp_path, db_dsn))
    assert code == 0, err
    assert '"events": 4' in out and '"first_kept": 5' in out, out

    archived = await rows(
        db,
        "select hall_id, seq, type, payload, actor_kind, actor_id, window_id, at"
        " from event_archive where hall_id = $1 order by seq",
        hall,
    )
    assert archived == original[:4]  # row for row
    kept = await rows(db, "select * from event where hall_id = $1 order by seq", hall)
    assert kept == original[4:] and [r["seq"] for r in kept] == list(range(5, 21))
    moved_audit = await rows(
        db,
        "select id, at, hall_id, actor_kind, actor_id, window_id, action, outcome, detail"
        " from audit_archive order by id",
    )
    assert moved_audit == old_audit and not await db.fetchval(
        "select count(*) from audit where at = $1", LONG_AGO
    )
    (line,) = await rows(
        db, "select hall_id, actor_kind, outcome, detail from audit where action = 'log.archive'"
    )
    assert line["hall_id"] == hall and line["detail"]["events"] == 4
    assert line["detail"]["audit"] == 10

    # once the 5th is old too, the next look (the declared timer job) moves 5..12
    await age(db, "event", "hall_id = $2 and seq = 5", LONG_AGO, hall)
    row = await db.fetchrow("select id, code from hall where id = $1", hall)
    ctx = TimerContext(live.app[STORE], retention_months=13)
    assert "log.archive" in CATALOGUE.timers
    await archive_job(ctx, row, datetime.now(TZ))
    assert await db.fetchval("select min(seq) from event where hall_id = $1", hall) == 13
    assert await db.fetchval("select count(*) from event_archive where hall_id = $1", hall) == 12
    await archive_job(ctx, row, datetime.now(TZ))  # nothing more is old: nothing moves
    assert await db.fetchval("select count(*) from event_archive where hall_id = $1", hall) == 12

    # a replay from an archived seq is told so; from the last archived one it is exact
    for since in (0, 1, 11):
        await api.error(
            "admin",
            "GET",
            f"/api/halls/rizhao/events?since={since}",
            410,
            "events_archived",
            field="since",
        )
    page = await api.ok("admin", "GET", "/api/halls/rizhao/events?since=12")
    assert [e["seq"] for e in page["events"]] == list(range(13, 21)) and page["head"] == 20

    # the hall numbers on: the next command takes 21
    body = await api.ok("admin", "PUT", "/api/halls/rizhao/notice", json={"text": "继续"})
    page = await api.ok("admin", "GET", "/api/halls/rizhao/events?since=20")
    assert [e["seq"] for e in page["events"]] == [21], (body, page)


async def test_a_screen_resuming_from_an_archived_seq_gets_a_fresh_snapshot(live, http, db):
    api = Api(http)
    await api.login("admin")
    await notices(api, 10)
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    await age(db, "event", "hall_id = $2 and seq <= 6", LONG_AGO, hall)
    async with live.app[POOL].acquire() as conn:  # the server's own role runs the move
        moved = await retention.archive(conn, hall, retention.cutoff(datetime.now(TZ), 13))
    assert moved.events == 6

    resp = await http.post(
        "/api/auth/device",
        json={"code": "display-01", "secret": demo_hall.DEMO_PASSWORDS["display"]},
    )
    display = (await resp.json())["token"]
    # the lobby display (plain feed) was away since seq 3: the log no longer holds 4..6
    async with FeedClient(live.ws_url, display, since=3) as feed:
        frames = await feed.until_live()
    assert frames[1]["type"] == "snapshot" and frames[1]["seq"] == 10, frames
    assert frames[1]["data"]["notice_line"] == "通知 9"
    assert frames[-1] == {"type": "live", "seq": 10} and len(frames) == 3
    # from the last archived seq the backlog is exact
    async with FeedClient(live.ws_url, display, since=6) as feed:
        frames = await feed.until_live()
    assert [f.get("seq") for f in frames[1:]] == [7, 8, 9, 10, 10], frames
    # a window terminal (Socket.IO, its window's room: its seqs have gaps by design, so only
    # the server can tell an archived gap) gets the snapshot too
    clerk = (await login(http, "clerk001"))["token"]
    client = await SioClient().connect(
        live.url, auth={"token": clerk, "since": 2, "rooms": ["window:1"]}
    )
    try:
        frames = await client.until_live()
    finally:
        await client.close()
    assert frames[0]["type"] == "snapshot" and frames[0]["seq"] == 10, frames


async def test_the_retention_floor_and_the_append_only_rules_hold(live, http, db):
    api = Api(http)
    await api.login("admin")
    await notices(api, 3)
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    recent = datetime.now(TZ) - timedelta(days=150)  # five months: within the floor
    async with live.app[POOL].acquire() as conn:
        for sql, args in (
            ("select archive_events($1, $2, 100)", (hall, recent)),
            ("select archive_audit($1, 100)", (recent,)),
        ):
            with pytest.raises(asyncpg.CheckViolationError, match="at least 6 months"):
                await conn.fetchval(sql, *args)
        # the server's role reads the archive, never writes it
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "insert into event_archive (hall_id, seq, type, payload, actor_kind, at)"
                " values ($1, 99, 'x.y', '{}', 'system', now())",
                hall,
            )
    # the owner cannot delete an event that is not in the archive, nor touch the archive
    await age(db, "event", "hall_id = $2 and seq = 1", LONG_AGO, hall)
    await db.fetchval("select archive_events($1, $2, 100)", hall, LONG_AGO + timedelta(days=1))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("delete from event where hall_id = $1 and seq = 2", hall)
    for sql in ("delete from event_archive", "update event_archive set type = 'x.y'"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await db.execute(sql)
    # a copy that differs by a byte does not let a row go
    await db.execute(
        "insert into event_archive (hall_id, seq, type, payload, actor_kind, actor_id,"
        " window_id, at) select hall_id, seq, type, payload || '{\"x\": 1}', actor_kind,"
        " actor_id, window_id, at from event where hall_id = $1 and seq = 2",
        hall,
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("delete from event where hall_id = $1 and seq = 2", hall)


# ------------------------------------------------------------------------ the reports stay true

REPORTS = ("reports", "case_metrics", "report_export")  # server/domain modules behind /reports
LOG_TABLE = re.compile(r"\b(?:from|join)\s+(?:event|audit)(?:_archive)?\b", re.IGNORECASE)
QUERY_MODULE = re.compile(r"^from db\.queries import (\w+)", re.MULTILINE)


def test_the_reports_sql_reads_neither_the_log_nor_the_audit_trail():
    """The reports and the case metrics, and every query module they import, name neither the
    event log nor the audit trail (nor their archives) in any SQL."""
    domain = [ROOT / "server" / "domain" / f"{m}.py" for m in REPORTS]
    queries = {
        ROOT / "db" / "queries" / f"{m}.py"
        for path in domain
        for m in QUERY_MODULE.findall(path.read_text())
    }
    assert {p.name for p in queries} >= {"reports.py", "case_metrics.py"}, queries
    for path in [*domain, *sorted(queries)]:
        found = LOG_TABLE.findall(Path(path).read_text())
        assert not found, f"{path} reads the log: {found}"
    # the pattern does see a read of the log where there is one
    assert LOG_TABLE.findall((ROOT / "db" / "queries" / "events.py").read_text())


async def _april(live, http, db) -> None:
    """Cases and tickets of a Monday and Tuesday in April 2026, through the product: an
    immediate case, a promised one completed the next day, a registration left waiting."""
    clock = use_clock(live, at("2026-04-13 09:30"))
    token, ticket, _ = await serving_ticket(http, db, window_no=1, item=IMMEDIATE)
    case = await accept(http, token, ticket_id=ticket, item=IMMEDIATE)
    clock.set(at("2026-04-13 09:45"))
    await command(http, token, case["case_id"], "decision", {"decision": "approve"})
    await command(http, token, case["case_id"], "complete")
    resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    resp = await http.post(
        "/api/halls/rizhao/windows/1/rating-request", json={}, headers=bearer(token)
    )
    assert resp.status == 200, await resp.text()
    resp = await http.post(
        "/api/halls/rizhao/windows/1/rating",
        json={"level": 5},
        headers=bearer(await rater_at(db, 1)),
    )
    assert resp.status == 201, await resp.text()
    clock.set(at("2026-04-13 10:10"))
    token2, ticket2, _ = await serving_ticket(http, db, window_no=2, item=PROMISED)
    promised = await accept(http, token2, ticket_id=ticket2, item=PROMISED)
    clock.set(at("2026-04-14 15:00"))
    await command(http, token2, promised["case_id"], "decision", {"decision": "approve"})
    await command(http, token2, promised["case_id"], "complete")
    await register(http, await kiosk_token(http), IMMEDIATE)


async def test_the_reports_give_the_same_figures_after_their_month_is_archived(live, http, db):
    await _april(live, http, db)
    # the log and the audit trail as a hall that ran in April holds them
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    april = at("2026-04-14 12:00")
    assert await age(db, "event", "true", april) > 10
    assert await age(db, "audit", "true", april) > 10
    admin = (await login(http, "admin"))["token"]

    async def figures() -> dict:
        out = {}
        for by in ("hall", "department", "window", "clerk"):
            out[by] = await _get(http, admin, f"/api/halls/rizhao/reports?{RANGE}&by={by}")
        for by in ("hall", "window"):
            out[f"metrics-{by}"] = await _get(
                http, admin, f"/api/halls/rizhao/case-metrics?{RANGE}&by={by}"
            )
        resp = await http.get(f"/api/halls/rizhao/reports/export?{RANGE}", headers=bearer(admin))
        assert resp.status == 200
        out["export"] = await resp.text()
        return out

    before = await figures()
    [group] = before["hall"]["groups"]
    assert group["cases"] == 2 and group["completed"] == 2 and group["tickets"] >= 2, group

    async with live.app[POOL].acquire() as conn:
        moved = await retention.archive(conn, hall, at("2026-05-01 00:00"))
    assert moved.events > 10 and moved.audit > 10
    assert not await db.fetchval("select count(*) from event where hall_id = $1", hall)
    assert not await db.fetchval("select count(*) from audit where at < $1", at("2026-05-01 00:00"))

    after = await figures()
    for key in before:
        assert after[key] == before[key], key


RANGE = "from=2026-04-01&to=2026-04-30"


async def _get(http, token, path):
    resp = await http.get(path, headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, (path, body)
    return body
