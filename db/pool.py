"""The asyncpg pool, with jsonb decoded by orjson, and the embedded PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from server import wire

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = logging.getLogger(__name__)

# A connection of its own or one lent by the pool: the queries take either. (A string: asyncpg's
# classes are generic for the type checker only.)
Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


def _dumps(value) -> str:
    # what the log keeps is what clients get: instants in the hall's zone (server/wire.py)
    return wire.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("jsonb", "json"):
        await conn.set_type_codec(typ, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections are not reset. asyncpg's default reset sends
    "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;" at every release: a
    second round trip (and four statements of server work) for every command, which is one
    statement. Nothing here leaves session state on a pooled connection: no session-level SET,
    LISTEN, cursors outside a transaction or advisory locks (timers, migrations and seeding use
    connections of their own). asyncpg still rolls back a transaction left open and drops
    listeners before this is called. Keep it that way, or pass reset=None."""
    return


def app_dsn(owner_dsn: str, role: str, password: str | None = None) -> str:
    """The server's DSN: the owner's, with the user replaced by the app role and the password by
    the app role's (none when None). Host, port, database and options stay."""
    parts = urlsplit(owner_dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(
            "DATABASE_URL must be a postgresql:// URL to derive the server's DSN from it; "
            "or set HALLOPS_APP_DATABASE_URL"
        )
    host = parts.netloc.rpartition("@")[2]
    auth = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k in ("user", "password") for k, _ in pairs):
        query = urlencode([(k, v) for k, v in pairs if k not in ("user", "password")])
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}", query=query))


# How long a new connection may take (a frozen server accepts TCP and never answers), and the
# longest any statement may run before the client gives up on it: a year's report takes ~6 s
# (docs/reports.md); commands have their own, much shorter bound (server/api/dispatch.py).
CONNECT_TIMEOUT = 2.0
STATEMENT_TIMEOUT = 30.0


def database_unreachable(exc: BaseException) -> bool:
    """Whether a failure is the database being away (down, refusing, restarting, frozen past a
    bound) rather than a statement's own error."""
    if isinstance(
        exc,
        (
            OSError,
            TimeoutError,
            asyncpg.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError,
            asyncpg.exceptions.TooManyConnectionsError,
        ),
    ):
        return True
    # a pooled connection the server closed under us
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True
    # A connection whose server shut down in the middle of an operation can be left waiting
    # for a reply that never comes, and its next use fails in asyncpg's state machine ("cannot
    # switch to state 11; another operation (2) is in progress"): seen under `pg_ctl -m fast
    # stop` by run.py faults postgres. It was a 500.
    return isinstance(exc, asyncpg.exceptions.InternalClientError) and (
        "another operation" in str(exc)
    )


async def create_pool(
    dsn: str, size: int = 8, settings: dict[str, str] | None = None
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=size,
        timeout=CONNECT_TIMEOUT,
        command_timeout=STATEMENT_TIMEOUT,
        init=_init_connection,
        reset=_keep_session,
        server_settings={
            "timezone": "Asia/Shanghai",
            "application_name": "hallops",
            **(settings or {}),
        },
    )


class EmbeddedPostgres:
    """PostgreSQL from the pgserver package, its data kept under data_dir/pg across restarts."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "pg"
        self._server: PostgresServer | None = None

    def start(self) -> str:
        import pgserver  # imported here: only the embedded mode needs it

        self.path.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.path, cleanup_mode="stop")
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.cleanup()
            except Exception:  # stopping is best-effort at exit
                log.exception("embedded PostgreSQL did not stop cleanly")
            self._server = None
