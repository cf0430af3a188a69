"""Backup and restore of a hallops database with PostgreSQL's own tools: `pg_dump -Fc` (one
consistent snapshot of the whole database, the event log, the audit trail and their archives
included) and `pg_restore`, behind `run.py backup` and `run.py restore`.

Which tools: a pg_dump older than the server cannot dump it, and a pg_restore older than the
pg_dump that wrote an archive cannot read it. So the tools are looked for in HALLOPS_PG_BINDIR
when set (and only there), else in the embedded PostgreSQL's package (pgserver ships its own
binaries), Debian's /usr/lib/postgresql/*/bin and the PATH; a backup takes the server's own
major version when there is one, else the oldest newer one (an archive the same machine's
pg_restore can read); a restore takes the oldest one, not older than the server, that reads
the archive.

A restore goes into an empty database, or over one that holds no hall; over a hall only with
`force`. It runs in one transaction (all or nothing), without the dump's owners and grants,
then migrates: the target's owner owns everything, the app role is created if the cluster
lacks it and granted what the server needs, and a backup made by an older hallops is brought
up to date. Expected failures (no tool, a database away, a refusal) are `OpsError`s with a
message and an exit status, never tracebacks."""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

# Exit statuses of run.py backup / restore / archive.
FAILED = 1  # a tool or the database failed (down, refused the login, the restore's SQL)
USAGE = 2  # nothing was tried: no suitable tool, no such file, a bad argument
REFUSED = 3  # refused on purpose: the target holds a hall, or servers are connected to it

ARCHIVE_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format archive
BACKUP_NAME = re.compile(r"^hallops-.+-\d{8}-\d{6}\.dump$")
CONNECT_TIMEOUT = 10.0


class OpsError(Exception):
    """An expected failure of an operations command: its message is all the operator needs."""

    def __init__(self, message: str, status: int = FAILED):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PgTools:
    """One directory holding pg_dump and pg_restore of one PostgreSQL version."""

    bindir: Path
    major: int
    version: str

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


# -- connecting ------------------------------------------------------------------------------


def libpq_target(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN as pg_dump and pg_restore take it: the URI without its password, which travels
    in PGPASSWORD instead (a command line is visible to every user of the machine in ps)."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise OpsError(f"not a postgresql:// URL: {describe(dsn)}", USAGE)
    env: dict[str, str] = {}
    userinfo, at, host = parts.netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if colon and password:
            env["PGPASSWORD"] = unquote(password)
        netloc = f"{user}@{host}" if user else host
    else:
        netloc = parts.netloc
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in pairs:
        if key == "password":
            env["PGPASSWORD"] = value
    query = urlencode([(k, v) for k, v in pairs if k != "password"])
    return urlunsplit(parts._replace(netloc=netloc, query=query)), env


def describe(dsn: str) -> str:
    """user@host:port/database of a DSN, never its password (for messages)."""
    parts = urlsplit(dsn)
    user = unquote(parts.username or "")
    host = parts.hostname or dict(parse_qsl(parts.query)).get("host", "local socket")
    port = f":{parts.port}" if parts.port else ""
    return f"{user + '@' if user else ''}{host}{port}{parts.path or '/'}"


def database_name(dsn: str) -> str:
    return unquote(urlsplit(dsn).path.lstrip("/")) or "postgres"


async def connect(dsn: str) -> asyncpg.Connection:
    """The owner's connection, or an OpsError saying why there is none."""
    try:
        return await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
    except asyncpg.InvalidCatalogNameError:
        raise OpsError(
            f"database {database_name(dsn)} does not exist at {describe(dsn)}: create it "
            f"first (createdb -O <owner> {database_name(dsn)})"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as exc:  # a role or its password
        raise OpsError(f"{describe(dsn)} refused the login: {exc}") from None
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = str(exc) or type(exc).__name__
        raise OpsError(f"cannot reach the database at {describe(dsn)}: {reason}") from None


async def halls(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The halls a database holds (code, name, last sequence number); none without a schema."""
    if await conn.fetchval("select to_regclass('public.hall') is null"):
        return []
    return await conn.fetch(
        "select h.code, h.name, coalesce(s.last_seq, 0) as last_seq"
        " from hall h left join hall_seq s on s.hall_id = h.id order by h.id"
    )


def hall_summary(rows: Iterable[asyncpg.Record]) -> str:
    return ", ".join(f"{r['code']} (event log up to seq {r['last_seq']})" for r in rows) or "none"


# -- the tools ----------------------------------------------------------------------------------


def _candidate_dirs(bindir: str | None) -> list[Path]:
    if bindir:
        return [Path(bindir)]
    dirs: list[Path] = []
    # the embedded PostgreSQL's own binaries (found, not imported: importing it starts nothing
    # but warns about the runtime directory)
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "pginstall" / "bin")
    dirs += [Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"))]
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)
    return dirs


async def _output(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def find_tools(bindir: str | None = None) -> list[PgTools]:
    """Every usable pg_dump/pg_restore pair, oldest version first (one per directory)."""
    found: dict[Path, PgTools] = {}
    for d in _candidate_dirs(bindir):
        dump, restore = d / "pg_dump", d / "pg_restore"
        if not (os.access(dump, os.X_OK) and os.access(restore, os.X_OK)):
            continue
        try:
            code, out, _ = await _output(str(dump), "--version")
        except OSError:
            continue
        m = re.search(r"(\d+)(?:\.\d+)*", out)
        if code != 0 or m is None:
            continue
        found.setdefault(d.resolve(), PgTools(d, int(m.group(1)), f"PostgreSQL {m.group(0)}"))
    return sorted(found.values(), key=lambda t: t.major)


def _no_tools(what: str, server_major: int, tools: list[PgTools], bindir: str | None) -> OpsError:
    seen = ", ".join(f"{t.major} ({t.bindir})" for t in tools) or "none"
    where = f"HALLOPS_PG_BINDIR={bindir}" if bindir else "pgserver, /usr/lib/postgresql, PATH"
    return OpsError(
        f"no {what} for PostgreSQL {server_major} or later (looked in {where}; found: {seen}): "
        f"install postgresql-client-{server_major}, or set HALLOPS_PG_BINDIR to its bin directory",
        USAGE,
    )


async def server_major(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("show server_version_num")) // 10000


# -- backup -------------------------------------------------------------------------------------


def backup_path(out: str | None, default_dir: Path, dbname: str, now: datetime) -> Path:
    """Where a backup goes: `out` when it names a .dump file, else a file named with the time
    in the directory `out` (made if missing), or in `default_dir`."""
    name = f"hallops-{re.sub(r'[^A-Za-z0-9_.-]', '_', dbname)}-{now:%Y%m%d-%H%M%S}.dump"
    if out is None:
        return default_dir / name
    path = Path(out)
    if path.suffix == ".dump" and not path.is_dir():
        return path
    return path / name


def prune(directory: Path, keep: int) -> list[Path]:
    """Deletes all but the newest `keep` backups (by their names' time) of `directory`; only
    files named as run.py backup names them. Returns what was deleted."""
    ours = sorted(
        (p for p in directory.iterdir() if p.is_file() and BACKUP_NAME.match(p.name)),
        key=lambda p: p.name[-20:],  # YYYYmmdd-HHMMSS.dump: the time, whatever the database
    )
    gone = ours[: max(0, len(ours) - keep)]
    for p in gone:
        p.unlink()
    return gone


async def backup(
    dsn: str,
    out: str | None,
    default_dir: Path,
    *,
    keep: int | None = None,
    bindir: str | None = None,
    now: datetime | None = None,
) -> dict:
    """pg_dump -Fc of the whole database into a file named with the time; written under a
    .partial name and renamed when complete and readable, so a file with the final name is
    always a whole backup. Returns what was written."""
    conn = await connect(dsn)
    try:
        major = await server_major(conn)
        held = await halls(conn)
    finally:
        await conn.close()
    tools = await find_tools(bindir)
    usable = [t for t in tools if t.major >= major]
    usable.sort(key=lambda t: (t.major != major, t.major))  # the server's own version first
    if not usable:
        raise _no_tools("pg_dump", major, tools, bindir)
    pg = usable[0]
    path = backup_path(out, default_dir, database_name(dsn), now or datetime.now())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    uri, env = libpq_target(dsn)
    # the file holds password hashes and citizens' data: the owner's eyes only
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        code, _, err = await _output(
            pg.tool("pg_dump"),
            "--format=custom",
            "--no-password",
            f"--file={partial}",
            f"--dbname={uri}",
            env=env,
        )
        if code != 0:
            raise OpsError(f"pg_dump failed ({pg.version}): {err.strip()}")
        code, _, err = await _output(pg.tool("pg_restore"), "--list", str(partial))
        if code != 0:
            raise OpsError(f"the archive pg_dump wrote is unreadable: {err.strip()}")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    pruned = prune(path.parent, keep) if keep is not None else []
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "tools": f"{pg.version} ({pg.bindir})",
        "halls": [dict(r) for r in held],
        "pruned": [str(p) for p in pruned],
    }


# -- restore ------------------------------------------------------------------------------------


def _head(path: Path, n: int) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


async def restore(dsn: str, file: str, *, force: bool = False, bindir: str | None = None) -> dict:
    """Restores a backup into the database `dsn` (as its owner), then the caller migrates it.
    Refuses a target that holds a hall unless `force`, and one that servers are connected to."""
    path = Path(file)
    try:
        magic = await asyncio.to_thread(_head, path, len(ARCHIVE_MAGIC))
    except OSError as exc:
        raise OpsError(f"cannot read {file}: {exc.strerror or exc}", USAGE) from None
    if magic != ARCHIVE_MAGIC:
        raise OpsError(f"{file} is not a backup (a pg_dump custom-format archive)", USAGE)
    conn = await connect(dsn)
    try:
        major = await server_major(conn)
        held = await halls(conn)
        servers = await conn.fetchval(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and pid <> pg_backend_pid() and application_name like 'hallops%'"
        )
    finally:
        await conn.close()
    if servers:
        raise OpsError(
            f"{servers} connection(s) of a running hallops server use {describe(dsn)}: "
            f"stop it first (systemctl stop hallops)",
            REFUSED,
        )
    if held and not force:
        raise OpsError(
            f"{describe(dsn)} already holds hall(s) {hall_summary(held)}: restoring would "
            f"replace them; restore into an empty database, or pass --force to overwrite",
            REFUSED,
        )
    tools = [t for t in await find_tools(bindir) if t.major >= major]
    if not tools:
        raise _no_tools("pg_restore", major, await find_tools(bindir), bindir)
    pg, errors = None, []
    for t in tools:  # the oldest that reads the archive (a newer pg_dump may have written it)
        code, _, err = await _output(t.tool("pg_restore"), "--list", str(path))
        if code == 0:
            pg = t
            break
        errors.append(f"{t.version}: {err.strip()}")
    if pg is None:
        raise OpsError(f"no pg_restore here reads {file}: {'; '.join(errors)}", USAGE)
    uri, env = libpq_target(dsn)
    code, _, err = await _output(
        pg.tool("pg_restore"),
        "--no-password",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        f"--dbname={uri}",
        str(path),
        env=env,
    )
    if code != 0:
        raise OpsError(
            f"pg_restore failed; the target is as it was (one transaction): {err.strip()}"
        )
    return {
        "file": str(path),
        "tools": f"{pg.version} ({pg.bindir})",
        "replaced": [dict(r) for r in held],
    }


async def restored_halls(dsn: str) -> list[dict]:
    conn = await connect(dsn)
    try:
        return [dict(r) for r in await halls(conn)]
    finally:
        await conn.close()
