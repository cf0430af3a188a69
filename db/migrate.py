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
  function exists: a migration must not call our functions or rely on our triggers.

migrate runs as the owner of the tables. The server does not: it connects as the app role,
which migrate creates if missing and grants exactly what the server needs (see grant_app_role).
docs/database.md says all of this at more length."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

MIGRATIONS = Path(__file__).parent / "migrations"
FUNCTIONS = Path(__file__).parent / "functions"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x4A11_0001  # advisory lock: two processes starting at once do not both migrate
APP_ROLE = "hallops_app"  # the role the server connects as (Settings.db_app_role)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationChanged(RuntimeError):
    """An applied migration's file differs from what was applied (or is gone)."""


class AppRoleError(RuntimeError):
    """The app role cannot be made, or would be able to do what it must not."""


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


async def ensure_app_role(
    conn: asyncpg.Connection, role: str = APP_ROLE, password: str | None = None
) -> None:
    """The app role exists as a login role (created if missing), with `password` when given.
    Roles belong to the whole cluster: another session (another database's migrate, another test
    session) may create the same role at the same moment, and that is no error."""
    if not _ROLE_NAME.match(role):
        raise AppRoleError(f"app role name {role!r}: lower-case letters, digits and _ only")
    try:
        async with conn.transaction():
            # Utility statements take no parameters: the name is checked above, the password
            # travels as a setting so that it is in no statement's text (nor the server log).
            await conn.execute(
                "select set_config('hallops.app_role', $1, true),"
                " set_config('hallops.app_password', $2, true)",
                role,
                password or "",
            )
            await conn.execute(_ENSURE_ROLE)
    except asyncpg.InsufficientPrivilegeError as exc:
        user = await conn.fetchval("select current_user")
        raise AppRoleError(
            f"{user} may not create or change the app role {role} ({exc}): create it as a "
            f"superuser (create role {role} login [password ...]), or give {user} CREATEROLE"
        ) from exc


_ENSURE_ROLE = """
do $$
declare r text := current_setting('hallops.app_role');
        pw text := current_setting('hallops.app_password');
begin
    begin
        if not exists (select 1 from pg_roles where rolname = r) then
            execute format('create role %I login', r);
        end if;
    exception when duplicate_object or unique_violation then
        null;  -- created by another session meanwhile
    end;
    if pw <> '' then
        execute format('alter role %I password %L', r, pw);
    end if;
end $$
"""


async def grant_app_role(conn: asyncpg.Connection, role: str = APP_ROLE) -> None:
    """Exactly what the server needs, nothing it had before: read and write the tables, but
    only read and append the event log and the audit trail, and only read their archives (the
    archive functions move rows there as their owner); nothing on schema_migration; use
    the sequences; run the functions. Refuses a role that could do more through its
    attributes: a superuser, or a member of the tables' owner, passes every privilege check."""
    if not _ROLE_NAME.match(role):
        raise AppRoleError(f"app role name {role!r}: lower-case letters, digits and _ only")
    found = await conn.fetchrow(
        "select rolsuper, exists (select 1 from pg_class c where"
        " c.relnamespace = 'public'::regnamespace and pg_has_role(r.oid, c.relowner, 'MEMBER'))"
        " as owns from pg_roles r where rolname = $1",
        role,
    )
    if found is None:
        raise AppRoleError(f"the app role {role} does not exist")
    if found["rolsuper"] or found["owns"]:
        raise AppRoleError(
            f"the app role {role} is a superuser or a member of the tables' owner: it could "
            f"alter the audit trail and the event log; give the server a role of its own"
        )
    await conn.execute(_GRANTS.replace("{role}", f'"{role}"'))


_GRANTS = """
revoke all on all tables in schema public from {role};
revoke all on all sequences in schema public from {role};
grant usage on schema public to {role};
grant select, insert, update, delete on all tables in schema public to {role};
revoke update, delete on event, audit from {role};
revoke insert, update, delete on event_archive, audit_archive from {role};
revoke all on schema_migration from {role};
grant usage on all sequences in schema public to {role};
grant execute on all functions in schema public to {role};
"""


async def migrate(
    conn: asyncpg.Connection, app_role: str = APP_ROLE, app_password: str | None = None
) -> list[str]:
    """Apply pending migrations, re-apply every function file and grant the app role its
    privileges, in one transaction; returns the names of the migrations applied (empty when
    none was pending). `conn` is the owner's; the app role is created if it does not exist."""
    files = dict(migration_files())
    applied: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _LOCK)
    try:
        # In a short transaction of its own: a concurrent CREATE ROLE of the same name (from
        # another database's migrate) waits for this one's commit, not for the whole migration.
        await ensure_app_role(conn, app_role, app_password)
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
            await grant_app_role(conn, app_role)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK)
    return applied
