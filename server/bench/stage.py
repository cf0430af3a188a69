"""Everything the bench sets up before it measures, and takes down afterwards.

- a throwaway database: a new database on DATABASE_URL's server when set, else an embedded
  PostgreSQL (pgserver) in a temp dir; the server migrates and seeds it; dropped afterwards
- the server: `run.py serve` as a subprocess on a free port (in-process bus unless a Redis URL
  is given), its stdout/stderr in a log file
- halls: the demo city hall first (rizhao, 130 windows); with --halls H > 1 the others are
  copies of it named bench02, bench03, ... (departments, queues, windows, clerks, items,
  devices), so every hall has the same 130 windows
- sessions: clerk and display sessions are written straight into auth_session when the bench
  has the database (argon2 logins of 130 clerks would cost the server seconds of CPU before
  the measurement); otherwise through POST /api/auth/login and /api/auth/device
- every clerk signs in at their window and opens it through the HTTP API
- queues are pre-filled so calls never hit queue_empty, through the product's own path: POST
  /api/halls/{hall}/registrations from the hall's kiosk, as a kiosk registers a citizen (the
  bench's own server is started with a kiosk rate limit that lets it; against --url the
  server's limit applies and refusals are counted)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent.parent
TZ = ZoneInfo("Asia/Shanghai")
CITY = "rizhao"
PREFILL_KIOSK_PER_MINUTE = 10_000_000
PREFILL_CONCURRENCY = 16  # registrations in flight during the pre-fill


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def service_day() -> date:
    return datetime.now(TZ).date()


# ------------------------------------------------------------------------ database
@contextlib.asynccontextmanager
async def throwaway_database(server_dsn: str | None, log=print) -> AsyncIterator[str]:
    """A new empty database; dropped (or the embedded server deleted) afterwards."""
    if server_dsn:
        name = f"hallops_bench_{os.getpid()}_{secrets.token_hex(3)}"
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'create database "{name}"')
        finally:
            await admin.close()
        log(f"throwaway database {name} on {urlsplit(server_dsn).hostname}")
        try:
            yield with_database(server_dsn, name)
        finally:
            admin = await asyncpg.connect(server_dsn)
            try:
                await admin.execute(f'drop database if exists "{name}" with (force)')
            finally:
                await admin.close()
        return
    import pgserver

    tmp = Path(tempfile.mkdtemp(prefix="hallops-bench-pg-"))
    log(f"embedded PostgreSQL in {tmp}")
    server = await asyncio.to_thread(pgserver.get_server, tmp, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        await asyncio.to_thread(server.cleanup)
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------ server process
class ServerProcess:
    """`run.py serve` on a free port against the given database."""

    def __init__(
        self,
        dsn: str,
        redis_url: str | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
    ):
        self.dsn = dsn
        self.workers = workers  # serve --workers N: a supervisor and N worker processes
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="hallops-bench-srv-"))
        self.log_path = self.dir / "server.log"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            {
                "HALLOPS_DATA_DIR": str(self.dir),
                "HALLOPS_SECRET": secrets.token_urlsafe(24),
                "HALLOPS_DEMO": "1",  # its throwaway database holds the demo halls
                "PYTHONUNBUFFERED": "1",
            }
        )
        # the pre-fill registers thousands of citizens through one kiosk before the phases
        env["HALLOPS_KIOSK_PER_MINUTE"] = str(PREFILL_KIOSK_PER_MINUTE)
        env["HALLOPS_KIOSK_BURST"] = str(PREFILL_KIOSK_PER_MINUTE)
        if redis_url:
            env["REDIS_URL"] = redis_url
            env["HALLOPS_REDIS_CHANNEL"] = f"hallops:bench:{secrets.token_hex(4)}"
        env.update(extra_env or {})
        self.env = env
        self.proc: subprocess.Popen | None = None

    async def start(self, timeout: float = 180.0) -> None:
        # the log stays open for the child until stop(); Popen returns at once
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            [
                sys.executable,
                str(ROOT / "run.py"),
                "--database-url",
                self.dsn,
                "serve",
                "--host",
                self.host,
                "--port",
                str(self.port),
                *(("--workers", str(self.workers)) if self.workers > 1 else ()),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        t0 = time.monotonic()
        async with aiohttp.ClientSession() as http:
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited ({self.proc.returncode}); see {self.log_path}:\n"
                        + self.log_tail()
                    )
                try:
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.3)
        raise TimeoutError(f"server not healthy after {timeout}s; see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    async def stop(self, grace: float = 30.0) -> None:
        """SIGTERM, then after `grace` seconds SIGKILL, the server and every process it started
        (serve --workers: a worker still shutting down when its supervisor is killed would
        otherwise run on, orphaned)."""
        import psutil

        if self.proc is not None and self.proc.poll() is None:
            try:
                tree = psutil.Process(self.proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                tree = []
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            for child in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def cleanup_files(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def pid_listening_on(port: int) -> int | None:
    """The pid of the process listening on a local TCP port (for --url), if visible."""
    import psutil

    try:
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
                return c.pid
    except (psutil.AccessDenied, OSError):
        return None
    return None


# ------------------------------------------------------------------------ halls
@dataclass
class WindowInfo:
    no: int
    id: int
    staff_id: int
    username: str
    first_queue: int | None
    token: str = ""


@dataclass
class HallInfo:
    code: str
    id: int
    windows: list[WindowInfo]
    queues: dict[str, int]  # code -> id
    items: dict[int, str]  # queue id -> the code of an item registered into that queue
    kiosk_id: int | None
    display_code: str
    display_token: str = ""
    kiosk_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


CLONE_HALL = [
    """insert into department (hall_id, code, name) select $2, code, name from department
       where hall_id = $1 order by id""",
    """insert into queue (hall_id, code, name, prefix, department_id)
       select $2, q.code, q.name, q.prefix, nd.id from queue q
       left join department od on od.id = q.department_id
       left join department nd on nd.hall_id = $2 and nd.code = od.code
       where q.hall_id = $1 order by q.id""",
    """insert into service_window (hall_id, window_no, display_name, department_id, zone, status)
       select $2, w.window_no, w.display_name, nd.id, w.zone, 'closed' from service_window w
       join department od on od.id = w.department_id
       join department nd on nd.hall_id = $2 and nd.code = od.code
       where w.hall_id = $1 order by w.window_no""",
    """insert into window_queue (window_id, queue_id, position)
       select nw.id, nq.id, wq.position from window_queue wq
       join service_window ow on ow.id = wq.window_id and ow.hall_id = $1
       join queue oq on oq.id = wq.queue_id
       join service_window nw on nw.hall_id = $2 and nw.window_no = ow.window_no
       join queue nq on nq.hall_id = $2 and nq.code = oq.code""",
    """insert into staff (hall_id, username, display_name, role, department_id, password_hash)
       select $2, $3 || '.' || s.username, s.display_name, s.role, nd.id, s.password_hash
       from staff s join department od on od.id = s.department_id
       join department nd on nd.hall_id = $2 and nd.code = od.code
       where s.hall_id = $1 and s.role = 'clerk' order by s.id""",
    """insert into item (hall_id, department_id, code, name, category, kind, limit_unit,
                         statutory_limit, promised_limit, queue_id)
       select $2, nd.id, i.code, i.name, i.category, i.kind, i.limit_unit, i.statutory_limit,
              i.promised_limit, nq.id from item i
       join department od on od.id = i.department_id
       join department nd on nd.hall_id = $2 and nd.code = od.code
       left join queue oq on oq.id = i.queue_id
       left join queue nq on nq.hall_id = $2 and nq.code = oq.code
       where i.hall_id = $1 order by i.id""",
    """insert into device (hall_id, code, kind, name, secret_hash, window_id)
       select $2, $3 || '.' || d.code, d.kind, d.name, d.secret_hash, nw.id from device d
       left join service_window ow on ow.id = d.window_id
       left join service_window nw on nw.hall_id = $2 and nw.window_no = ow.window_no
       where d.hall_id = $1 order by d.id""",
]


async def ensure_halls(conn: asyncpg.Connection, count: int) -> list[str]:
    """The demo city hall, then copies of it (bench02, ...) up to `count` halls."""
    src = await conn.fetchval("select id from hall where code = $1", CITY)
    if src is None:
        raise RuntimeError(f"the demo hall {CITY} is not in the database")
    codes = [CITY]
    for i in range(2, count + 1):
        code = f"bench{i:02d}"
        codes.append(code)
        if await conn.fetchval("select id from hall where code = $1", code) is not None:
            continue
        async with conn.transaction():
            new = await conn.fetchval(
                "insert into hall (code, name, level, work_periods, notice_line) "
                "select $2, $3, 'city', work_periods, notice_line from hall where id = $1 "
                "returning id",
                src,
                code,
                f"压测服务中心{i}",
            )
            for sql in CLONE_HALL:
                args = (src, new, code) if "$3" in sql else (src, new)
                await conn.execute(sql, *args)
    return codes


async def hall_info(conn: asyncpg.Connection, code: str, windows: int) -> HallInfo:
    hall_id = await conn.fetchval("select id from hall where code = $1", code)
    prefix = "" if code == CITY else f"{code}."
    rows = await conn.fetch(
        """select w.window_no, w.id, s.id as staff_id, s.username,
                  (select wq.queue_id from window_queue wq where wq.window_id = w.id
                   order by wq.position limit 1) as first_queue
           from service_window w
           join staff s on s.username = $2 || 'clerk' || lpad(w.window_no::text, 3, '0')
           where w.hall_id = $1 order by w.window_no limit $3""",
        hall_id,
        prefix,
        windows,
    )
    queues = {
        r["code"]: r["id"]
        for r in await conn.fetch(
            "select code, id from queue where hall_id = $1 order by id", hall_id
        )
    }
    items = {
        r["queue_id"]: r["code"]
        for r in await conn.fetch(
            "select distinct on (queue_id) queue_id, code from item "
            "where hall_id = $1 and active and queue_id is not null order by queue_id, id",
            hall_id,
        )
    }
    kiosk = await conn.fetchval(
        "select id from device where hall_id = $1 and kind = 'kiosk' order by id limit 1", hall_id
    )
    display = await conn.fetchval(
        "select code from device where hall_id = $1 and kind = 'display' order by id limit 1",
        hall_id,
    )
    return HallInfo(
        code,
        hall_id,
        [
            WindowInfo(r["window_no"], r["id"], r["staff_id"], r["username"], r["first_queue"])
            for r in rows
        ],
        queues,
        items,
        kiosk,
        display,
    )


async def db_session(
    conn: asyncpg.Connection,
    *,
    staff_id: int | None = None,
    device_id: int | None = None,
    hours: float = 6.0,
) -> str:
    """A session token written straight into auth_session (what a login would create)."""
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "insert into auth_session (token_hash, staff_id, device_id, expires_at) "
        "values ($1, $2, $3, now() + make_interval(secs => $4))",
        hashlib.sha256(token.encode()).digest(),
        staff_id,
        device_id,
        hours * 3600,
    )
    return token


async def db_sessions(conn: asyncpg.Connection, hall: HallInfo) -> None:
    for w in hall.windows:
        w.token = await db_session(conn, staff_id=w.staff_id)
    device = await conn.fetchval("select id from device where code = $1", hall.display_code)
    hall.display_token = await db_session(conn, device_id=device)
    if hall.kiosk_id is not None:
        hall.kiosk_token = await db_session(conn, device_id=hall.kiosk_id)


async def api_sessions(http: aiohttp.ClientSession, base: str, hall: HallInfo) -> None:
    """Logins through the public API (when the bench has no database access)."""
    from server import demo_hall

    async def login(w: WindowInfo) -> None:
        async with http.post(
            base + "/api/auth/login",
            json={
                "username": w.username,
                "password": demo_hall.DEMO_PASSWORDS["clerk"],
                "bearer": True,
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"login {w.username}: {body}")
            w.token = body["token"]

    sem = asyncio.Semaphore(4)

    async def limited(w: WindowInfo) -> None:
        async with sem:
            await login(w)

    await asyncio.gather(*(limited(w) for w in hall.windows))
    async with http.post(
        base + "/api/auth/device",
        json={"code": hall.display_code, "secret": demo_hall.DEMO_PASSWORDS["display"]},
    ) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"device login {hall.display_code}: {body}")
        hall.display_token = body["token"]


async def open_windows(http: aiohttp.ClientSession, base: str, hall: HallInfo) -> list[str]:
    """Each clerk signs in at their window and opens it (POST sign-in, POST status)."""
    problems: list[str] = []
    sem = asyncio.Semaphore(16)

    async def one(w: WindowInfo) -> None:
        h = {"Authorization": f"Bearer {w.token}"}
        path = f"{base}/api/halls/{hall.code}/windows/{w.no}"
        async with sem:
            async with http.post(path + "/sign-in", headers=h) as resp:
                if resp.status != 200:
                    problems.append(
                        f"sign-in {hall.code}/{w.no}: {resp.status} {await resp.text()}"
                    )
                    return
            # With the Redis bus the server's session cache learns of the sign-in through the
            # bus a moment after it answered: a refusal not_signed_in is asked again.
            for attempt in range(10):
                async with http.post(path + "/status", json={"status": "open"}, headers=h) as resp:
                    text = await resp.text()
                    if resp.status == 200:
                        return
                    if resp.status != 403 or "not_signed_in" not in text or attempt == 9:
                        problems.append(f"open {hall.code}/{w.no}: {resp.status} {text}")
                        return
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one(w) for w in hall.windows))
    return problems


async def head_of(http: aiohttp.ClientSession, base: str, hall: HallInfo) -> int:
    async with http.get(
        f"{base}/api/halls/{hall.code}/events",
        params={"since": "0", "limit": "1"},
        headers={"Authorization": f"Bearer {hall.display_token}"},
    ) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"head of {hall.code}: {body}")
        return int(body["head"])


# ------------------------------------------------------------------------ pre-fill
WAITING = """
select count(*)::int from ticket where queue_id = $1 and service_day = $2 and status = 'waiting'
"""


@dataclass
class Registered:
    made: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # error code -> count

    def add(self, other: Registered) -> None:
        self.made += other.made
        for k, v in other.refused.items():
            self.refused[k] = self.refused.get(k, 0) + v


async def register(
    http: aiohttp.ClientSession,
    base: str,
    hall: HallInfo,
    kiosk_token: str,
    item_codes: list[str],
    count: int,
) -> Registered:
    """`count` registrations through the kiosk API (the product's path: the same validation,
    numbering, events and audit as at a real kiosk), PREFILL_CONCURRENCY in flight, items
    taken in turn."""
    out = Registered()
    todo = iter(range(count))
    headers = {"Authorization": f"Bearer {kiosk_token}"}
    url = f"{base}/api/halls/{hall.code}/registrations"

    async def worker() -> None:
        for i in todo:
            async with http.post(
                url, json={"item": item_codes[i % len(item_codes)]}, headers=headers
            ) as resp:
                if resp.status == 201:
                    out.made += 1
                    continue
                try:
                    code = (await resp.json()).get("code") or str(resp.status)
                except (aiohttp.ContentTypeError, ValueError):
                    code = str(resp.status)
                out.refused[code] = out.refused.get(code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(min(PREFILL_CONCURRENCY, count))))
    return out


async def top_up(
    conn: asyncpg.Connection,
    http: aiohttp.ClientSession,
    base: str,
    hall: HallInfo,
    per_window: int,
) -> Registered:
    """Makes each queue hold at least per_window waiting tickets for every window that serves
    it first, by registering citizens at the hall's kiosk."""
    day = service_day()
    need: dict[int, int] = {}
    for w in hall.windows:
        if w.first_queue is not None:
            need[w.first_queue] = need.get(w.first_queue, 0) + per_window
    out = Registered()
    for queue_id, wanted in sorted(need.items()):
        item = hall.items.get(queue_id)
        if item is None:
            continue
        n = wanted - await conn.fetchval(WAITING, queue_id, day)
        if n > 0:
            out.add(await register(http, base, hall, hall.kiosk_token, [item], n))
    return out


async def keep_hall_open(conn: asyncpg.Connection) -> None:
    """The hall timers close every open ticket at closing time (17:30), and the kiosks refuse
    registration outside the opening hours: in a throwaway database the bench moves closing to
    the end of the day and opens registration for two days (as the admin's registration
    .set_open would), so an evening or weekend run is neither emptied nor refused."""
    await conn.execute(
        "update hall set closes_at = '23:59:59', "
        "registration_open_until = now() + interval '2 days'"
    )
