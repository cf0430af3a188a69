"""Migrations are numbered, recorded and idempotent; the audit trail is append-only."""

from __future__ import annotations

import asyncpg
import pytest

from db.migrate import migrate, migration_files


def test_migrations_are_numbered_without_gaps():
    numbers = [n for n, _ in migration_files()]
    assert numbers == list(range(1, len(numbers) + 1))


async def test_rerunning_migrations_is_a_no_op(db):
    recorded = await db.fetch("select version, name from schema_migration order by version")
    assert [r["version"] for r in recorded] == [n for n, _ in migration_files()]
    assert await migrate(db) == []
    assert await db.fetch("select version, name from schema_migration order by version") == recorded


async def test_a_failing_migration_leaves_nothing_behind(db, tmp_path, monkeypatch):
    import db.migrate as m

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
