"""Test fixtures: a real PostgreSQL (a fresh database per test session, cloned per test from a
seeded template), real Redis and Chromium where a test needs them.

DATABASE_URL / REDIS_URL point at servers to use; without DATABASE_URL an embedded PostgreSQL
is started. HALLOPS_REQUIRE_ALL=1 (set by .ci/run) turns a skip for a missing Redis or
Chromium into a failure, so CI proves everything."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import ClientSession, CookieJar, web
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.migrate import migrate
from db.pool import _init_connection, app_dsn
from server import demo_hall
from server.app import create_app
from server.settings import Settings

REQUIRE_ALL = os.environ.get("HALLOPS_REQUIRE_ALL") == "1"

# Property tests draw new examples on every run of a developer's machine; in CI they draw the
# same ones every run, so that CI's verdict is the code's and never the draw's. A failure found
# on some machine is kept as an explicit example (tests/unit/test_case_clock_properties.py).
hypothesis_settings.register_profile("ci", derandomize=True)
if REQUIRE_ALL:
    hypothesis_settings.load_profile("ci")


def missing(reason: str) -> None:
    """Skip for a missing Redis or Chromium on a user's machine; fail in CI."""
    if REQUIRE_ALL:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def with_database(dsn: str, name: str) -> str:
    # pgserver DSNs carry the socket directory in the query string, which is kept
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_server_dsn(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import pgserver

    path = ROOT / "var" / "test-pg"
    path.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(path, cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
async def template_db(pg_server_dsn: str) -> str:
    """A database migrated and seeded once per test session, used as a template."""
    name = f"hallops_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'create database "{name}"')
    dsn = with_database(pg_server_dsn, name)
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    await migrate(conn)
    await demo_hall.seed_demo(conn)
    await conn.close()
    yield name
    await _drop_all(admin, prefix=name)
    await admin.execute(f'drop database if exists "{name}" with (force)')
    await admin.close()


async def _drop_all(admin: asyncpg.Connection, prefix: str) -> None:
    for row in await admin.fetch(
        "select datname from pg_database where datname like $1", prefix + "_c%"
    ):
        await admin.execute(f'drop database if exists "{row["datname"]}" with (force)')


_counter = iter(range(1, 10**9))


@pytest.fixture
async def db_dsn(pg_server_dsn: str, template_db: str) -> str:
    """A fresh copy of the seeded demo hall for this test."""
    name = f"{template_db}_c{next(_counter)}"
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'create database "{name}" template "{template_db}"')
    await admin.close()
    yield with_database(pg_server_dsn, name)
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'drop database if exists "{name}" with (force)')
    await admin.close()


@pytest.fixture
async def db(db_dsn: str):
    conn = await asyncpg.connect(db_dsn)
    await _init_connection(conn)
    yield conn
    await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_settings(**changes) -> Settings:
    # Timers off: tests drive them explicitly (their real clock would close tickets at 17:30).
    base = Settings(
        secret="test-secret",
        gap_poll_seconds=0.5,
        data_dir=ROOT / "var" / "test",
        host="127.0.0.1",
        port=free_port(),
        timers=False,
        # the kiosk's opening hours likewise: a test registers at whatever hour it runs
        # (tests/api/test_registration_hours.py turns them on, on its own clock)
        registration_hours=False,
        # an answer outside its operation's declaration fails the test that caused it
        strict_contracts=True,
    )
    return base.with_(**changes)


class LiveServer:
    """The real app on a real port, in this test's event loop. `dsn` is the owner's (tests set
    up data with it); the app connects as the app role, as a deployed server does."""

    def __init__(self, settings: Settings, dsn: str):
        self.settings = settings
        self.dsn = dsn
        self.app_dsn = app_dsn(dsn, settings.db_app_role, settings.db_app_password)
        self.app = create_app(settings, self.app_dsn)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.url = f"http://127.0.0.1:{settings.port}"
        self.ws_url = f"ws://127.0.0.1:{settings.port}"

    async def start(self) -> LiveServer:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.settings.port).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
async def live(db_dsn: str):
    server = await LiveServer(test_settings(), db_dsn).start()
    yield server
    await server.stop()


@pytest.fixture
async def http(live: LiveServer):
    async with ClientSession(base_url=live.url, cookie_jar=CookieJar(unsafe=True)) as session:
        yield session


async def login(
    session: ClientSession, username: str, password: str | None = None, bearer: bool = True
) -> dict:
    pw = password or demo_hall.password_for(username)
    resp = await session.post(
        "/api/auth/login", json={"username": username, "password": pw, "bearer": bearer}
    )
    body = await resp.json()
    assert resp.status == 200, body
    return body


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 6379
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        missing(f"Redis not reachable at {url}")
    return url


def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    missing("Chromium not installed (apt-get install -y chromium)")
    return ""


__all__ = [
    "LiveServer",
    "chromium_path",
    "free_port",
    "login",
    "missing",
    "redis_url",
    "test_settings",
]
