"""The server does not connect as the owner of its tables: it runs as the app role, which may
read and write what it needs but cannot alter, disable triggers on, update, delete or truncate
the audit trail or the event log."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import pytest

import run
from db.migrate import APP_ROLE, AppRoleError, ensure_app_role, migrate
from db.pool import app_dsn
from server.keys import POOL
from server.settings import Settings

APPEND_ONLY = ("audit", "event")
ARCHIVES = ("audit_archive", "event_archive")


async def one_event(db: asyncpg.Connection) -> None:
    hall = await db.fetchval("select id from hall where code = 'rizhao'")
    await db.fetch(
        "select * from append_events($1, 'system', null, $2)",
        hall,
        [{"type": "queue.day_closed", "payload": {"closed": 0}}],
    )
    await db.execute("insert into audit (actor_kind, action, outcome) values ('system', 't', 'ok')")


async def test_the_servers_pool_cannot_change_the_audit_trail_or_the_event_log(live, db):
    await one_event(db)
    before = {t: await db.fetch(f"select * from {t} order by 1, 2") for t in APPEND_ONLY}
    async with live.app[POOL].acquire() as conn:
        assert await conn.fetchval("select current_user") == APP_ROLE
        assert not await conn.fetchval("select rolsuper from pg_roles where rolname = current_user")
        for table in APPEND_ONLY:
            trigger = f"{table}_no_update"
            for sql in (
                f"update {table} set actor_id = 1",
                f"delete from {table}",
                f"truncate {table}",
                f"alter table {table} add column forged text",
                f"alter table {table} disable trigger {trigger}",
                f"alter table {table} disable trigger all",
                f"drop trigger {trigger} on {table}",
                f"drop table {table}",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(sql)
        # their archives it only reads (the archive functions move rows there as the owner)
        for table in ARCHIVES:
            for sql in (
                f"insert into {table} select * from {table}",
                f"update {table} set actor_id = 1",
                f"delete from {table}",
                f"truncate {table}",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(sql)
        # nor can it switch triggers off for its session
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("set session_replication_role = replica")
        # nor alter any other table
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("alter table ticket add column forged text")
        # what it is there for still works: reading, appending
        assert await conn.fetchval("select count(*) from event") == len(before["event"])
        await conn.execute(
            "insert into audit (actor_kind, action, outcome) values ('system', 't2', 'ok')"
        )
    assert await db.fetch("select * from event order by 1, 2") == before["event"]
    assert (await db.fetch("select * from audit order by 1, 2"))[: len(before["audit"])] == (
        before["audit"]
    )


async def test_the_owner_cannot_change_the_event_log_either(db):
    await one_event(db)
    for sql in ("update event set type = 'forged'", "delete from event", "truncate event"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
            await db.execute(sql)
        assert "append-only" in str(err.value)
    assert await db.fetchval("select count(*) from event where type = 'forged'") == 0


async def test_the_app_role_has_exactly_the_servers_privileges(db):
    tables = [
        r["relname"]
        for r in await db.fetch(
            "select relname from pg_class where relnamespace = 'public'::regnamespace "
            "and relkind = 'r' order by 1"
        )
    ]
    got = {}
    for table in tables:
        got[table] = {
            priv
            for priv in (
                "select",
                "insert",
                "update",
                "delete",
                "truncate",
                "references",
                "trigger",
            )
            if await db.fetchval("select has_table_privilege($1, $2, $3)", APP_ROLE, table, priv)
        }
    rw = {"select", "insert", "update", "delete"}
    expected = {
        t: ({"select", "insert"} if t in APPEND_ONLY else set() if t == "schema_migration" else rw)
        for t in tables
    }
    # the archives of the log and the audit trail: read only (archive_events/archive_audit,
    # SECURITY DEFINER, write them as the owner)
    expected.update({t: {"select"} for t in ARCHIVES})
    assert got == expected
    sequences = await db.fetch(
        "select relname, has_sequence_privilege($1, oid, 'usage') as usage, "
        "has_sequence_privilege($1, oid, 'update') as update from pg_class "
        "where relnamespace = 'public'::regnamespace and relkind = 'S'",
        APP_ROLE,
    )
    assert sequences and all(r["usage"] and not r["update"] for r in sequences)
    owns = await db.fetchval("select count(*) from pg_class where relowner = $1::regrole", APP_ROLE)
    assert owns == 0


async def test_migrate_takes_back_what_the_app_role_should_not_have(db):
    await db.execute(
        f"grant update, delete, truncate on event, audit, schema_migration to {APP_ROLE}"
    )
    assert await migrate(db) == []
    for table in ("event", "audit"):
        for priv in ("update", "delete", "truncate"):
            assert not await db.fetchval(
                "select has_table_privilege($1, $2, $3)", APP_ROLE, table, priv
            )
    assert not await db.fetchval(
        "select has_table_privilege($1, 'schema_migration', 'select')", APP_ROLE
    )


async def test_migrate_refuses_an_app_role_that_owns_the_tables(db):
    owner = await db.fetchval("select current_user")
    with pytest.raises(AppRoleError, match=owner):
        await migrate(db, app_role=owner)


@pytest.fixture
async def scratch_role(pg_server_dsn: str):
    """A role name of this test's own (roles are cluster-wide), dropped afterwards."""
    name = f"hallops_t_{secrets.token_hex(4)}"
    yield name
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'drop role if exists "{name}"')
    await admin.close()


async def test_creating_the_role_while_another_session_creates_it_is_no_error(
    pg_server_dsn, scratch_role
):
    first = await asyncpg.connect(pg_server_dsn)
    second = await asyncpg.connect(pg_server_dsn)
    try:
        tx = first.transaction()
        await tx.start()
        await first.execute(f'create role "{scratch_role}" login')
        # the second session looks, finds no committed role, and its CREATE ROLE waits
        racing = asyncio.create_task(ensure_app_role(second, scratch_role))
        second_pid = second.get_server_pid()
        while not await first.fetchval(
            "select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", second_pid
        ):
            assert not racing.done(), racing.exception()
            await asyncio.sleep(0.01)  # polls a condition: not a wait for time
        await tx.commit()
        await racing  # no unique_violation / duplicate_object
        assert await first.fetchval(
            "select rolcanlogin from pg_roles where rolname = $1", scratch_role
        )
    finally:
        await first.close()
        await second.close()


async def test_the_app_roles_password_is_set_when_given(pg_server_dsn, scratch_role):
    conn = await asyncpg.connect(pg_server_dsn)
    try:
        await ensure_app_role(conn, scratch_role)
        assert await conn.fetchval(
            "select rolpassword is null from pg_authid where rolname = $1", scratch_role
        )
        await ensure_app_role(conn, scratch_role, "it's a s3cret")
        assert await conn.fetchval(
            "select rolpassword like 'SCRAM-SHA-256$%' or rolpassword like 'md5%' "
            "from pg_authid where rolname = $1",
            scratch_role,
        )
    finally:
        await conn.close()


async def test_an_odd_role_name_is_refused(db):
    with pytest.raises(AppRoleError):
        await ensure_app_role(db, 'x"; drop table audit; --')


def test_the_server_dsn_is_the_owners_with_the_app_role():
    owner = "postgresql://owner:0wn3r@db.example:5433/hall?sslmode=require"
    assert (
        app_dsn(owner, "hallops_app")
        == "postgresql://hallops_app@db.example:5433/hall?sslmode=require"
    )
    assert app_dsn(owner, "srv", "p@ss/w") == (
        "postgresql://srv:p%40ss%2Fw@db.example:5433/hall?sslmode=require"
    )
    # the embedded server's DSN: no host in the netloc, the socket directory in the query
    embedded = "postgresql://postgres:@/postgres?host=/var/pg/run"
    assert app_dsn(embedded, "hallops_app") == "postgresql://hallops_app@/postgres?host=/var/pg/run"
    assert app_dsn("postgresql://h/db?user=owner&password=x", "a") == "postgresql://a@h/db"
    settings = Settings(db_app_role="srv", db_app_password="pw")
    assert run.server_dsn(settings, owner) == app_dsn(owner, "srv", "pw")
    given = "postgresql://elsewhere/hall"
    assert run.server_dsn(settings.with_(app_database_url=given), owner) == given
