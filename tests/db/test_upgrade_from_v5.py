"""A database that already holds a day of data from the previous schema version migrates to the
current one and loses nothing; the current commands then work on it.

The previous version is schema v5 (commit 5eb62dc): its migrations are frozen byte for byte
under fixtures/schema_v5/, applied the way its db/migrate.py applied them (a schema_migration
table without checksums). The day is played with v5's own functions, by plain SQL."""

from __future__ import annotations

import hashlib
import os
import random
import secrets
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from aiohttp import ClientSession

from db.migrate import checksum, migrate, migration_files
from db.pool import _init_connection
from server import demo_hall
from server.domain.queueing import service_day
from tests import conftest
from tests.db.schema_checks import functions_not_in_files
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token

V5 = Path(__file__).parent / "fixtures" / "schema_v5"
# The frozen files must stay exactly what v5 applied.
V5_SHA256 = {
    "0001_foundation.sql": "5938a2031cb589a8415fda1bc4afe05514e8f010bc62d572ca055aa4eb8159f2",
    "0002_queue.sql": "60ff9ba3a966b9ba4ad5dd8d8b0b60a74c47dff76e3164c5d4a5ab09570d0004",
    "0003_queue_commands.sql": "40d76b68305ad32c80a9352657af7235d3f625c99f2a9db27f6ec0747b3baa81",
    "0004_open_ticket_index.sql": "0c85cf85f98d291d93392451e6d2cff0297e01d4d1a1f8a08f10e098719181a1",
    "0005_cancel.sql": "330fd682a8a5644f5dc4bf2c688e160287c43990a799c082efabc665d76724d2",
}
# v5's db/migrate.py created its record table so:
V5_SCHEMA_MIGRATION = (
    "create table if not exists schema_migration ("
    " version int primary key, name text not null,"
    " applied_at timestamptz not null default now())"
)

WINDOWS = (1, 2, 3, 17, 30, 31, 22, 60)  # amr, amr, amr, amr+general, psb, psb, tax, realty
QUEUES = ("amr", "amr", "psb", "tax", "realty", "general")


def test_the_frozen_v5_migrations_are_unchanged():
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in V5.glob("*.sql")} == (
        V5_SHA256
    )


async def build_v5(conn: asyncpg.Connection) -> None:
    await conn.execute(V5_SCHEMA_MIGRATION)
    for path in sorted(V5.glob("*.sql")):
        async with conn.transaction():
            await conn.execute(path.read_text())
            await conn.execute(
                "insert into schema_migration (version, name) values ($1, $2)",
                int(path.name[:4]),
                path.name,
            )


class Day:
    """A day at the hall through v5's functions: what the v5 server would have written."""

    def __init__(self, conn: asyncpg.Connection, day: date):
        self.conn, self.day = conn, day
        self.rng = random.Random(5)

    async def id_of(self, sql: str, *args) -> int:
        value = await self.conn.fetchval(sql, *args)
        assert value is not None, (sql, args)
        return value

    async def python_command(self, hall: int, clerk: int, window: int, action: str, events):
        """What v5's Python commands wrote: events through append_events, an audit line."""
        await self.conn.fetch(
            "select * from append_events($1, 'staff', $2, $3)",
            hall,
            clerk,
            [{**e, "window_id": window} for e in events],
        )
        await self.conn.execute(
            "insert into audit (hall_id, actor_kind, actor_id, window_id, action, outcome, "
            "detail) values ($1, 'staff', $2, $3, $4, 'ok', $5)",
            hall,
            clerk,
            window,
            action,
            {"window_no": events[0]["payload"]["window_no"]},
        )

    async def sign_in_and_open(self, hall: int, window_no: int) -> tuple[int, int]:
        c = self.conn
        clerk = await self.id_of(
            "select id from staff where username = $1", f"clerk{window_no:03d}"
        )
        window = await self.id_of(
            "select id from service_window where hall_id = $1 and window_no = $2", hall, window_no
        )
        await c.execute(
            "insert into auth_session (token_hash, staff_id, expires_at) "
            "values ($1, $2, now() + interval '12 hours')",
            secrets.token_bytes(32),
            clerk,
        )
        await c.execute(
            "insert into audit (hall_id, actor_kind, actor_id, action, outcome) "
            "values ($1, 'staff', $2, 'auth.login', 'ok')",
            hall,
            clerk,
        )
        await c.execute(
            "insert into window_signin (window_id, staff_id) values ($1, $2)", window, clerk
        )
        await self.python_command(
            hall,
            clerk,
            window,
            "window.sign_in",
            [{"type": "window.signed_in", "payload": {"window_no": window_no, "clerk_id": clerk}}],
        )
        await c.execute("update service_window set status = 'open' where id = $1", window)
        await c.execute("select hq_idle_start($1, $2)", window, self.day)
        await self.python_command(
            hall,
            clerk,
            window,
            "window.set_status",
            [
                {
                    "type": "window.status_changed",
                    "payload": {"window_no": window_no, "status": "open", "previous": "closed"},
                }
            ],
        )
        return window, clerk

    async def register(self, hall: int, kiosk: int, queue_code: str, n: int) -> None:
        queue, item = await self.conn.fetchrow(
            # the general queue has no item of its own: the hall's first item goes there
            "select q.id, coalesce((select i.id from item i where i.queue_id = q.id and i.active "
            "order by i.code limit 1), (select min(i.id) from item i where i.hall_id = q.hall_id)) "
            "from queue q where q.hall_id = $1 and q.code = $2",
            hall,
            queue_code,
        )
        await self.conn.fetch(
            "select * from hq_register($1, 'device', $2, $3, $4, $5, $6, $7, $8, $9, null)",
            hall,
            kiosk,
            item,
            queue,
            self.day,
            secrets.token_hex(4).upper(),
            f"1380000{n:04d}" if n % 2 == 0 else None,
            f"37110219800101{n:04d}" if n % 3 == 0 else None,
            "elderly" if n % 10 == 0 else "normal",
        )

    async def command(self, sql: str, *args) -> str | None:
        """A window command; returns the refusal's code, None when it went through."""
        try:
            await self.conn.fetch(sql, *args)
        except asyncpg.PostgresError as err:
            if err.sqlstate not in ("HQ409", "HQ404"):
                raise
            return err.args[0] if err.args else str(err)
        return None

    async def play(self) -> None:
        c, rng, day = self.conn, self.rng, self.day
        hall = await self.id_of("select id from hall where code = 'rizhao'")
        kiosk = await self.id_of("select id from device where code = 'kiosk-01'")
        await c.execute(
            "insert into audit (hall_id, actor_kind, action, outcome, detail) "
            "values ($1, 'staff', 'auth.login', 'denied', '{\"username\": \"clerk001\"}')",
            hall,
        )
        windows = {no: await self.sign_in_and_open(hall, no) for no in WINDOWS}
        n = 0
        for _ in range(60):
            n += 1
            await self.register(hall, kiosk, rng.choice(QUEUES), n)
        state = dict.fromkeys(WINDOWS, "idle")
        parked: dict[int, int] = {}
        for round_no in range(30):
            for _ in range(4):
                n += 1
                await self.register(hall, kiosk, rng.choice(QUEUES), n)
            for no, (window, clerk) in windows.items():
                args = (hall, window, clerk)
                roll = rng.random()
                if state[no] == "idle":
                    if no in parked and roll < 0.5:
                        await self.command(
                            "select * from hq_resume($1, $2, $3, $4)", *args, parked.pop(no)
                        )
                        state[no] = "serving"
                    elif no == 2 and round_no % 7 == 3:
                        ticket_no = await c.fetchval(
                            "select ticket_no from ticket where status = 'waiting' and queue_id = "
                            "(select id from queue where hall_id = $1 and code = 'amr') "
                            "order by id desc limit 1",
                            hall,
                        )
                        if ticket_no and not await self.command(
                            "select * from hq_call_ticket($1, $2, $3, $4, $5, '孕妇优先')",
                            *args,
                            day,
                            ticket_no,
                        ):
                            state[no] = "called"
                    elif not await self.command(
                        "select * from hq_call_next($1, $2, $3, $4)", *args, day
                    ):
                        state[no] = "called"
                elif state[no] == "called":
                    recalls = await c.fetchval(
                        "select recalls from ticket where window_id = $1 and status = 'called'",
                        window,
                    )
                    if roll < 0.15:
                        await self.command("select * from hq_recall($1, $2, $3)", *args)
                        if recalls >= 1:
                            requeue = rng.random() < 0.5
                            await self.command("select * from hq_recall($1, $2, $3)", *args)
                            await self.command(
                                "select * from hq_no_show($1, $2, $3, $4)", *args, requeue
                            )
                            state[no] = "idle"
                    else:
                        await self.command("select * from hq_start($1, $2, $3)", *args)
                        state[no] = "serving"
                else:  # serving
                    if roll < 0.08 and no == 30:
                        w31 = windows[31][0]
                        await self.command(
                            "select * from hq_transfer($1, $2, $3, null, $4, null, true, '请到31号')",
                            *args,
                            w31,
                        )
                    elif roll < 0.12:
                        tax = await self.id_of(
                            "select id from queue where hall_id = $1 and code = 'tax'", hall
                        )
                        await self.command(
                            "select * from hq_transfer($1, $2, $3, $4, null, null, false, '')",
                            *args,
                            tax,
                        )
                    elif roll < 0.16 and no not in parked:
                        ticket = await c.fetchval(
                            "select id from ticket where window_id = $1 and status = 'serving'",
                            window,
                        )
                        await self.command("select * from hq_park($1, $2, $3)", *args)
                        parked[no] = ticket
                    elif roll < 0.19:
                        await self.command(
                            "select * from hq_cancel($1, $2, $3, '群众主动放弃')", *args
                        )
                    else:
                        await self.command("select * from hq_finish($1, $2, $3)", *args)
                    state[no] = "idle"
        # window 1 parks its citizen, who never comes back: the ticket expires
        w1 = (hall, *windows[1])
        await self.register(hall, kiosk, "amr", n + 1)
        if state[1] == "idle":
            assert (
                await self.command("select * from hq_call_next($1, $2, $3, $4)", *w1, day) is None
            )
            state[1] = "called"
        if state[1] == "called":
            assert await self.command("select * from hq_start($1, $2, $3)", *w1) is None
        assert await self.command("select * from hq_park($1, $2, $3)", *w1) is None
        # the SMS outbox has sent and failed messages
        await c.execute(
            "update ticket set parked_at = now() - interval '3 hours' where id = "
            "(select max(id) from ticket where status = 'parked')"
        )
        await c.fetch("select * from hq_expire_parked($1)", hall)
        await c.execute(
            "update notification set status = 'sent', attempts = 1, sent_at = now() "
            "where id % 4 <> 0"
        )
        await c.execute(
            "update notification set status = 'failed', attempts = 5, last_error = 'HTTP 502' "
            "where id % 8 = 0"
        )
        # a county hall closes its day with tickets unserved
        juxian = await self.id_of("select id from hall where code = 'juxian'")
        juxian_kiosk = await self.id_of("select id from device where code = 'juxian.kiosk-01'")
        juxian_queue = await c.fetchval(
            "select code from queue where hall_id = $1 and exists "
            "(select 1 from item where queue_id = queue.id and active) order by id limit 1",
            juxian,
        )
        for i in range(3):
            await self.register(juxian, juxian_kiosk, juxian_queue, 900 + i)
        await c.fetch("select * from hq_close_day($1, now())", juxian)


async def tables_and_columns(conn: asyncpg.Connection) -> dict[str, list[str]]:
    rows = await conn.fetch(
        "select c.relname, array_agg(a.attname::text order by a.attnum) as cols "
        "from pg_class c join pg_attribute a on a.attrelid = c.oid "
        "where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' "
        "and a.attnum > 0 and not a.attisdropped group by c.relname order by c.relname"
    )
    return {r["relname"]: r["cols"] for r in rows}


async def contents(conn: asyncpg.Connection, tables: dict[str, list[str]]) -> dict:
    """Per table: row count and a digest of every row, over the given columns (the old ones:
    a migration may add columns, it must not lose or change what was there)."""
    out = {}
    for table, cols in tables.items():
        collist = ", ".join(f'"{c}"' for c in cols)
        out[table] = tuple(
            await conn.fetchrow(
                f"select count(*) as n, md5(coalesce(string_agg(r::text, chr(10) "
                f"order by r::text), '')) as digest from (select {collist} from \"{table}\") r"
            )
        )
    return out


@pytest.fixture
async def v5_dsn(pg_server_dsn: str):
    name = f"hallops_v5_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'create database "{name}"')
    try:
        yield conftest.with_database(pg_server_dsn, name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def test_a_day_of_v5_data_survives_the_migration_to_the_current_schema(v5_dsn):
    conn = await asyncpg.connect(v5_dsn)
    await _init_connection(conn)
    try:
        await build_v5(conn)
        await demo_hall.seed_demo(conn)
        await Day(conn, service_day()).play()
        counts = {
            t: await conn.fetchval(f"select count(*) from {t}")
            for t in ("registration", "ticket", "event", "audit", "notification", "window_idle")
        }
        outcomes = {
            r["outcome"]
            for r in await conn.fetch(
                "select distinct outcome from ticket where outcome is not null"
            )
        }
        # the day is a real one: every kind of ending happened
        assert outcomes >= {
            "served",
            "transferred",
            "no_show",
            "cancelled",
            "parked_expired",
            "closed_unserved",
        }, outcomes
        assert counts["registration"] >= 180 and counts["event"] >= 300, counts
        assert await conn.fetchval("select count(*) from notification where status = 'sent'") > 0

        tables = await tables_and_columns(conn)
        old_record = tables.pop("schema_migration")
        before = await contents(conn, tables)
        before_migrations = await conn.fetch(
            f"select {', '.join(old_record)} from schema_migration"
        )
        event_log = await conn.fetch("select * from event order by hall_id, seq")
        audit_trail = await conn.fetch("select * from audit order by id")

        applied = await migrate(conn)

        assert applied == [p.name for n, p in migration_files() if n > len(V5_SHA256)]
        assert await contents(conn, tables) == before
        assert (
            await conn.fetch(
                f"select {', '.join(old_record)} from schema_migration where version <= 5"
            )
            == before_migrations
        )
        cols = ", ".join(tables["event"])
        assert await conn.fetch(f"select {cols} from event order by hall_id, seq") == event_log
        cols = ", ".join(tables["audit"])
        assert await conn.fetch(f"select {cols} from audit order by id") == audit_trail
        # v5's rows, recorded without checksums, adopted the files'
        assert [
            r["checksum"]
            for r in await conn.fetch("select checksum from schema_migration order by version")
        ] == [checksum(p) for _, p in migration_files()]
        # no v5 function is left behind beside the current ones
        assert await functions_not_in_files(conn) == set()
        last = dict(await conn.fetch("select hall_id, last_seq from hall_seq"))
    finally:
        await conn.close()

    # the current server (as the app role) works on it: a registration and a call
    live = await conftest.LiveServer(conftest.test_settings(), v5_dsn).start()
    owner = await asyncpg.connect(v5_dsn)
    try:
        async with ClientSession(base_url=live.url) as http:
            kiosk = await kiosk_token(http)
            clerk = await clerk_at_window(owner, 4)
            resp = await http.post(
                "/api/halls/rizhao/registrations", json={"item": "amr-001"}, headers=bearer(kiosk)
            )
            assert resp.status == 201, await resp.text()
            resp = await http.post("/api/halls/rizhao/windows/4/call-next", headers=bearer(clerk))
            called = await resp.json()
            assert resp.status == 200, called
        hall = await owner.fetchval("select id from hall where code = 'rizhao'")
        new = await owner.fetch(
            "select seq, type from event where hall_id = $1 and seq > $2 order by seq",
            hall,
            last[hall],
        )
        assert [r["seq"] for r in new] == list(range(last[hall] + 1, last[hall] + 1 + len(new)))
        assert "ticket.registered" in {r["type"] for r in new}
        assert called["events"][0]["seq"] == new[-1]["seq"]
        # every hall's log is still gapless and ends at its counter
        for r in await owner.fetch(
            "select s.last_seq, count(e.seq) as n, max(e.seq) as top from hall_seq s "
            "left join event e on e.hall_id = s.hall_id group by s.hall_id, s.last_seq"
        ):
            assert r["n"] == (r["top"] or 0) == r["last_seq"], dict(r)
    finally:
        await owner.close()
        await live.stop()
