"""The schema: numbered migrations in db/migrations/, each applied once and recorded with its
checksum, then every function file in db/functions/ re-applied, all in one transaction.

Rules for whoever changes the schema:
- A migration is never edited once applied anywhere: migrate refuses to start when an applied
  migration's file no longer matches the checksum recorded for it (MigrationChanged names the
  file). Change the schema with a new migration.
- Functions and triggers live in db/functions/*.sql, one current definition each, written as
  `create or replace`; every migrate re-applies them all after the migrations. Change a
  function's body there, in place.
- `create or replace` cannot change a function's arguments or result type: it would leave the
  old signature behind as a stale overload. A signature change needs a `drop function` of the
  old signature in a new migration (and the new definition in db/functions). A test checks that
  every function in schema public is defined in some db/functions file.
- Migrations run before the functions are re-applied, and on a fresh database before any
  function exists: a migration must not call our functions or rely on our triggers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

MIGRATIONS = Path(__file__).parent / "migrations"
FUNCTIONS = Path(__file__).parent / "functions"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x4A11_0001  # advisory lock: two processes starting at once do not both migrate


class MigrationChanged(RuntimeError):
    """An applied migration's file differs from what was applied (or is gone)."""


def migration_files() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS.iterdir()):
        m = _NAME.match(path.name)
        if m:
            found.append((int(m.group(1)), path))
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001.. without gaps: {numbers}")
    return found


def function_files() -> list[Path]:
    return sorted(FUNCTIONS.glob("*.sql"))


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _run_file(conn: asyncpg.Connection, path: Path) -> None:
    sql = path.read_text()
    # A file of comments only (a migration whose content moved to db/functions) is an empty
    # query to the server, which asyncpg's execute() does not accept.
    if re.sub(r"--[^\n]*", "", sql).strip():
        await conn.execute(sql)


async def _schema_migration_table(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "create table if not exists schema_migration ("
        " version int primary key, name text not null,"
        " applied_at timestamptz not null default now(), checksum text)"
    )
    # Databases migrated before checksums were recorded have the table without the column.
    if not await conn.fetchval(
        "select 1 from pg_attribute where attrelid = 'schema_migration'::regclass"
        " and attname = 'checksum' and not attisdropped"
    ):
        await conn.execute("alter table schema_migration add column checksum text")


def _check_applied(recorded: list[asyncpg.Record], files: dict[int, Path]) -> list[tuple[int, str]]:
    """Raises MigrationChanged for an applied migration whose file changed or went; returns the
    (version, checksum) of rows recorded before checksums, which adopt the file's once."""
    adopt = []
    for row in recorded:
        path = files.get(row["version"])
        if path is None or path.name != row["name"]:
            raise MigrationChanged(
                f"migration {row['name']} was applied but db/migrations/{row['name']} is gone"
                + (f" (the file numbered {row['version']:04d} is {path.name})" if path else "")
            )
        digest = checksum(path)
        if row["checksum"] is None:
            adopt.append((row["version"], digest))
        elif row["checksum"] != digest:
            raise MigrationChanged(
                f"db/migrations/{path.name} has changed since it was applied (sha256 "
                f"{row['checksum'][:12]}… recorded, {digest[:12]}… now): restore it and put "
                f"the change in a new migration"
            )
    return adopt


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations and re-apply every function file, in one transaction; returns
    the names of the migrations applied (empty when none was pending)."""
    files = dict(migration_files())
    applied: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _LOCK)
    try:
        async with conn.transaction():
            await _schema_migration_table(conn)
            recorded = await conn.fetch(
                "select version, name, checksum from schema_migration order by version"
            )
            for version, digest in _check_applied(recorded, files):
                await conn.execute(
                    "update schema_migration set checksum = $2 where version = $1",
                    version,
                    digest,
                )
            done = {r["version"] for r in recorded}
            for number, path in sorted(files.items()):
                if number in done:
                    continue
                await _run_file(conn, path)
                await conn.execute(
                    "insert into schema_migration (version, name, checksum) values ($1, $2, $3)",
                    number,
                    path.name,
                    checksum(path),
                )
                applied.append(path.name)
            for path in function_files():
                await _run_file(conn, path)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK)
    return applied
