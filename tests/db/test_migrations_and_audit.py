"""Migrations are numbered, recorded with checksums and idempotent; functions live in
db/functions and are re-applied by every migrate; the audit trail is append-only."""

from __future__ import annotations

import shutil

import asyncpg
import pytest

import db.migrate as m
from db.migrate import MigrationChanged, checksum, migrate, migration_files
from tests.db.schema_checks import functions_not_in_files


def copy_migrations(tmp_path, monkeypatch):
    """A copy of db/migrations that migrate() reads instead, for a test to change."""
    copy = tmp_path / "migrations"
    shutil.copytree(m.MIGRATIONS, copy)
    monkeypatch.setattr(m, "MIGRATIONS", copy)
    return copy


def test_migrations_are_numbered_without_gaps():
    numbers = [n for n, _ in migration_files()]
    assert numbers == list(range(1, len(numbers) + 1))


async def test_rerunning_migrations_is_a_no_op(db):
    recorded = await db.fetch("select version, name from schema_migration order by version")
    assert [r["version"] for r in recorded] == [n for n, _ in migration_files()]
    assert await migrate(db) == []
    assert await db.fetch("select version, name from schema_migration order by version") == recorded


async def test_a_failing_migration_leaves_nothing_behind(db, tmp_path, monkeypatch):
    bad = tmp_path / "migrations"
    bad.mkdir()
    for n, path in migration_files():
        (bad / path.name).write_text(path.read_text())
    next_no = len(migration_files()) + 1
    (bad / f"{next_no:04d}_broken.sql").write_text(
        "create table half_done (id int); select no_such_function();"
    )
    monkeypatch.setattr(m, "MIGRATIONS", bad)
    with pytest.raises(asyncpg.PostgresError):
        await m.migrate(db)
    assert await db.fetchval("select to_regclass('half_done')") is None
    assert await db.fetchval("select max(version) from schema_migration") == next_no - 1


async def test_audit_rows_cannot_be_changed_or_deleted(db):
    await db.execute("insert into audit (actor_kind, action, outcome) values ('system', 't', 'ok')")
    for sql in ("update audit set outcome = 'forged'", "delete from audit", "truncate audit"):
        with pytest.raises(asyncpg.PostgresError) as err:
            await db.execute(sql)
        assert "append-only" in str(err.value)
    assert await db.fetchval("select count(*) from audit where outcome = 'forged'") == 0


async def test_every_function_is_defined_in_a_functions_file(db):
    assert await functions_not_in_files(db) == set()
    # ...and the check sees a stale overload, as a signature change without a drop leaves
    await db.execute(
        "create function hq_call_ticket(p_hall int, p_ticket_no text) returns void "
        "language sql as 'select null'"
    )
    assert await functions_not_in_files(db) == {"hq_call_ticket(p_hall integer, p_ticket_no text)"}


async def test_migrations_record_their_checksums(db):
    rows = await db.fetch("select version, checksum from schema_migration order by version")
    assert [(r["version"], r["checksum"]) for r in rows] == [
        (n, checksum(path)) for n, path in migration_files()
    ]


async def test_every_migrate_reapplies_the_function_files(db, tmp_path, monkeypatch):
    functions = tmp_path / "functions"
    shutil.copytree(m.FUNCTIONS, functions)
    monkeypatch.setattr(m, "FUNCTIONS", functions)
    core = functions / "queue_core.sql"
    core.write_text(core.read_text().replace("'窗口不存在'", "'没有这个窗口'"))
    assert await migrate(db) == []
    assert "没有这个窗口" in await db.fetchval(
        "select prosrc from pg_proc where proname = 'hq_window'"
    )


async def test_a_changed_migration_stops_migrate_naming_the_file(db, tmp_path, monkeypatch):
    copy = copy_migrations(tmp_path, monkeypatch)
    changed = copy / "0002_queue.sql"
    changed.write_text(changed.read_text() + "\n-- an afterthought\n")
    (copy / f"{len(migration_files()) + 1:04d}_next.sql").write_text("create table next (id int);")
    before = await db.fetch("select * from schema_migration order by version")
    with pytest.raises(MigrationChanged, match="0002_queue.sql"):
        await m.migrate(db)
    # refused before doing anything: the pending migration did not run
    assert await db.fetchval("select to_regclass('next')") is None
    assert await db.fetch("select * from schema_migration order by version") == before


async def test_an_applied_migration_whose_file_is_gone_stops_migrate(db, tmp_path, monkeypatch):
    copy = copy_migrations(tmp_path, monkeypatch)
    last = migration_files()[-1][1].name
    (copy / last).unlink()
    with pytest.raises(MigrationChanged, match=last):
        await m.migrate(db)


async def test_rows_from_before_checksums_adopt_the_files_checksum_once(db, tmp_path, monkeypatch):
    await db.execute("update schema_migration set checksum = null")
    assert await migrate(db) == []
    rows = await db.fetch("select version, checksum from schema_migration order by version")
    assert [r["checksum"] for r in rows] == [checksum(path) for _, path in migration_files()]
    # adopted once: from now on a change is refused
    copy = copy_migrations(tmp_path, monkeypatch)
    first = copy / migration_files()[0][1].name
    first.write_text(first.read_text().replace("create table hall", "create table  hall", 1))
    with pytest.raises(MigrationChanged, match=first.name):
        await m.migrate(db)
