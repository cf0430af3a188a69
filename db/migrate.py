"""Numbered SQL migrations in db/migrations/, each applied once, in order, in a transaction."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x4A11_0001  # advisory lock: two processes starting at once do not both migrate


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


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations; returns the names applied (empty when up to date)."""
    applied: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _LOCK)
    try:
        await conn.execute(
            "create table if not exists schema_migration ("
            " version int primary key, name text not null,"
            " applied_at timestamptz not null default now())"
        )
        done = {r["version"] for r in await conn.fetch("select version from schema_migration")}
        for number, path in migration_files():
            if number in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute(
                    "insert into schema_migration (version, name) values ($1, $2)",
                    number,
                    path.name,
                )
            applied.append(path.name)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK)
    return applied
