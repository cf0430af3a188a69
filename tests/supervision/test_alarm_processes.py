"""Exactly once, on time, at the level of processes (issue 9): real `run.py serve` processes with
their hall timers on the real clock, against a database holding many cases whose alarms are
due (bulk-loaded as the bench does, each with its next rung scheduled from its clock).

- kill -9 while the first process is raising them, restart: every due alarm exists once, with
  one alarm.issued event and one SMS; the rest were raised within 5 s of the restart.
- two processes sharing the database and Redis: one owner raises each alarm once, and a
  supervisor connected to the other process receives every alarm.issued through the bus."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections import Counter
from datetime import datetime

import asyncpg
import pytest
from aiohttp import ClientSession

from server.bench.alarms import due_rungs, schedule_open_cases
from server.bench.caseload import load_open_cases
from server.domain.queueing import TZ
from tests.conftest import login, redis_url
from tests.realtime.cluster import START_TIMEOUT, ServerProcess, server_env
from tests.realtime.feed import FeedClient

BATCH = 300  # cases per statement of alarm.fire_case in the killed server (HALLOPS_ALARM_BATCH)
RESTART_BUDGET_S = 5.0


async def due_cases(db: asyncpg.Connection, count: int) -> tuple[int, dict]:
    """`count` open cases of the city hall loaded with their next rungs scheduled, and the
    (case id, level) -> due instant of every rung due now. The clerks get phones (their SMS)."""
    await db.execute(
        "update staff set phone = '139' || lpad(id::text, 8, '0') "
        "where role = 'clerk' and phone is null"
    )
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    await load_open_cases(db, "rizhao", count, datetime.now(TZ), seed=3)
    await schedule_open_cases(db, hall_id)
    return hall_id, await due_rungs(db, hall_id, datetime.now(TZ))


async def alarm_count(db: asyncpg.Connection) -> int:
    return await db.fetchval("select count(*) from alarm where kind = 'case_deadline'")


async def until(check, timeout: float, what: str, step: float = 0.05, *servers: ServerProcess):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = await check()
        if got:
            return got
        for s in servers:
            if s.proc is not None and s.proc.returncode is not None:
                pytest.fail(f"server {s.name} exited:\n{s.log()[-4000:]}")
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(step)


async def check_exactly_once(db: asyncpg.Connection, hall_id: int) -> list[asyncpg.Record]:
    """The case ladder's alarm rows are its due rungs, never early; every alarm of the hall (any
    trigger) has one alarm.issued event and, when its clerk has a phone, one SMS row. Returns
    the hall's alarm rows."""
    now = datetime.now(TZ)
    expected = await due_rungs(db, hall_id, now)
    rows = await db.fetch(
        "select a.id, a.kind, a.case_id, a.level, a.due_at, a.issued_at, s.phone from alarm a "
        "left join staff s on s.id = a.staff_id where a.hall_id = $1 order by a.id",
        hall_id,
    )
    ladder = {(r["case_id"], r["level"]): r for r in rows if r["kind"] == "case_deadline"}
    # every rung due a moment ago is there (one falling due this very second may not be yet)
    settled = {k for k, due in expected.items() if (now - due).total_seconds() > 1.5}
    assert settled - set(ladder) == set()
    assert set(ladder) - set(expected) == set(), "an alarm the ladder does not have"
    for key, r in ladder.items():
        assert r["due_at"] == expected[key], key
    for r in rows:
        assert r["issued_at"] >= r["due_at"], ("early", r["kind"], r["case_id"], r["level"])
    events = Counter(
        int(e["alarm_id"])
        for e in await db.fetch(
            "select payload->>'alarm_id' as alarm_id from event "
            "where hall_id = $1 and type = 'alarm.issued'",
            hall_id,
        )
    )
    assert set(events) == {r["id"] for r in rows}
    assert max(events.values()) == 1, [k for k, n in events.items() if n > 1][:5]
    sms = Counter(
        r["dedupe_key"]
        for r in await db.fetch(
            "select dedupe_key from notification where dedupe_key like 'alarm:%'"
        )
    )
    assert set(sms) == {f"alarm:{r['id']}" for r in rows if r["phone"]}
    assert max(sms.values()) == 1
    return rows


def sms_sent(*servers: ServerProcess) -> Counter[str]:
    """SMS handed to the (log) gateway, by dedupe key, across the servers' logs."""
    keys: Counter[str] = Counter()
    for s in servers:
        keys.update(re.findall(r"SMS to .*\((alarm:\d+)\)", s.log()))
    return keys


async def test_kill_9_while_firing_loses_and_duplicates_nothing(db, db_dsn, tmp_path):
    hall_id, expected = await due_cases(db, 4000)
    due_case_count = len({cid for cid, _ in expected})
    # several statements' worth, so that the kill lands between two of them
    assert due_case_count > 2 * BATCH, due_case_count
    assert await alarm_count(db) == 0

    env = server_env(db_dsn, tmp_path, HALLOPS_ALARM_BATCH=str(BATCH))
    first = await ServerProcess("first", env, tmp_path).start()
    try:
        await until(lambda: alarm_count(db), START_TIMEOUT, "the first alarm", 0.005, first)
        await first.kill()
    finally:
        await first.stop()
    raised_before = await alarm_count(db)
    last_before = await db.fetchval("select coalesce(max(id), 0) from alarm")
    assert 0 < raised_before < len(expected), (raised_before, len(expected))
    # the killed process was mid-way: some cases still wait for their alarms
    assert await db.fetchval(
        "select count(*) from service_case where hall_id = $1 and next_alarm_at <= now()", hall_id
    )

    second = await ServerProcess("second", env, tmp_path).start()
    try:
        # "start-up": the restarted server answers (its Python imports take ~2 s here, before
        # any of it runs)
        await second.wait_ready(bus=None)
        ready_at = second.ready_at
        await until(
            lambda: _at_least(db, len(expected)),
            START_TIMEOUT,
            "the remaining alarms",
            0.05,
            second,
        )
        late = await db.fetchval("select max(issued_at) from alarm where id > $1", last_before)
        after = late.timestamp() - ready_at
        print(
            f"due {len(expected)}, raised before the kill {raised_before}, the last one "
            f"{after:.2f} s after the restarted server was up "
            f"({ready_at - second.spawned_at:.2f} s after its spawn)"
        )
        assert after <= RESTART_BUDGET_S, after
        rows = await check_exactly_once(db, hall_id)
        assert len(rows) >= len(expected)
        # no SMS goes out twice: one outbox row per alarm (checked above), and whatever the
        # gateway got so far, from either process, once. (The outbox sends 8 per 5 s tick, the
        # hall's other reminders among them: the whole of it takes many minutes.)
        sent = sms_sent(first, second)
        assert set(sent) <= {f"alarm:{r['id']}" for r in rows if r["phone"]}
        assert not [k for k, n in sent.items() if n > 1]
    finally:
        await second.stop()


async def _at_least(db: asyncpg.Connection, n: int) -> bool:
    return await alarm_count(db) >= n


async def test_two_processes_raise_each_alarm_once_and_both_stream_it(db, db_dsn, tmp_path):
    url = redis_url()  # skips (or fails in CI) without Redis
    env = server_env(
        db_dsn,
        tmp_path,
        REDIS_URL=url,
        HALLOPS_REDIS_CHANNEL=f"hallops:test:{os.getpid()}:{secrets.token_hex(4)}",
    )
    servers = [ServerProcess("A", env, tmp_path), ServerProcess("B", env, tmp_path)]
    try:
        for s in servers:
            await s.start()
        await asyncio.gather(*(s.wait_ready() for s in servers))
        owners = await until(
            lambda: _owners(servers), START_TIMEOUT, "one process to own the city hall"
        )
        (owner,) = owners
        other = next(s for s in servers if s is not owner)
        async with ClientSession(other.url) as http:
            token = (await login(http, "supervisor1"))["token"]
        async with (
            FeedClient(other.ws_url, token) as on_other,
            FeedClient(owner.ws_url, token) as on_owner,
        ):
            await on_other.until_live()
            await on_owner.until_live()
            hall_id, expected = await due_cases(db, 1500)
            assert len(expected) > 100
            await until(lambda: _at_least(db, len(expected)), 30.0, "the alarms")
            rows = await check_exactly_once(db, hall_id)
            ids = sorted(r["id"] for r in rows)
            # both processes' supervisors get each alarm.issued once: the owner's from its own
            # commit, the other's through Redis
            got_other, got_owner = await asyncio.gather(
                _issued(on_other, len(ids)), _issued(on_owner, len(ids))
            )
            assert sorted(got_other) == ids
            assert sorted(got_owner) == ids
        # the other process never took the hall: one owner all along
        assert [s.name for s in servers if s.owns("rizhao")] == [owner.name]
    finally:
        await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)


async def _owners(servers: list[ServerProcess]) -> list[ServerProcess] | None:
    owners = [s for s in servers if s.owns("rizhao")]
    return owners or None


async def _issued(feed: FeedClient, n: int, timeout: float = 10.0) -> list[int]:
    """The alarm ids of the next n alarm.issued events (other events pass by); then a quiet
    moment with no further one."""
    got: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < n:
        frame = await feed.next(max(0.1, deadline - loop.time()))
        if frame.get("type") == "alarm.issued":
            got.append(int(frame["data"]["alarm_id"]))
    extra = [f for f in await feed.quiet(1.0) if f.get("type") == "alarm.issued"]
    assert extra == []
    return got
