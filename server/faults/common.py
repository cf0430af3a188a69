"""What the fault scenarios share: the hall made ready for clerks (sessions, open windows,
waiting citizens), clerks issuing commands at a steady rate with every answer timed, the
displays' frames checked against the event log, the server process's resources, and the
result each scenario returns (its figures and its checks, printed by `run.py faults`)."""

from __future__ import annotations

import asyncio
import math
import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import orjson
import psutil

from db.pool import _init_connection
from db.queries.events import EVENTS_AFTER, record
from server.bench import stage
from server.bench.displays import Sub
from server.bench.windows import Window, percentile
from server.bench.wire import HttpConn, http_connect

Progress = Callable[[str], None]
ANSWER_TIMEOUT = 10.0  # a command not answered in this is counted as unanswered


def quiet(_: str) -> None:
    pass


def raise_fd_limit() -> int:
    """The soft limit of open files raised to the hard one (a thousand displays are a thousand
    sockets in the harness too); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return int(hard)
    return int(soft)


# -------------------------------------------------------------------------------- results
@dataclass
class Result:
    """A scenario's outcome: figures (measured, printed) and checks (asserted by the tests,
    PASS/FAIL in `run.py faults`)."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, text: str) -> None:
        self.checks[name] = (bool(ok), text)

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.checks.values())

    def failed(self) -> dict[str, str]:
        return {k: text for k, (ok, text) in self.checks.items() if not ok}

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "figures": self.figures,
            "checks": {k: {"ok": ok, "text": t} for k, (ok, t) in self.checks.items()},
            "notes": self.notes,
        }


def ms(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(x * 1000, 1)


def latency_figures(values: Sequence[float]) -> dict[str, Any]:
    s = sorted(values)
    return {
        "n": len(s),
        "p50_ms": ms(percentile(s, 0.50)) if s else None,
        "p99_ms": ms(percentile(s, 0.99)) if s else None,
        "max_ms": ms(s[-1]) if s else None,
    }


# -------------------------------------------------------------------------------- the hall
async def owner_connection(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def ready_hall(
    conn: Any,
    http: aiohttp.ClientSession,
    base: str,
    windows: int,
    tickets_per_window: int,
) -> stage.HallInfo:
    """The demo city hall with `windows` clerks signed in at open windows (sessions written
    into the database, as the bench does) and enough citizens waiting for the run."""
    await stage.keep_hall_open(conn)
    hall = await stage.hall_info(conn, stage.CITY, windows)
    await stage.db_sessions(conn, hall)
    for _ in range(20):
        problems = await stage.open_windows(http, base, hall)
        if not problems:
            break
        # with the Redis bus a server's session cache learns of a sign-in through the bus a
        # moment after it answered: asked again
        await asyncio.sleep(0.3)
    else:
        raise RuntimeError(f"windows not opened: {problems[:3]}")
    if tickets_per_window:
        got = await stage.top_up(conn, http, base, hall, tickets_per_window)
        if got.refused:
            raise RuntimeError(f"registrations refused: {got.refused}")
    return hall


async def hall_head(conn: asyncpg.Connection, hall_id: int) -> int:
    return int(await conn.fetchval("select last_seq from hall_seq where hall_id = $1", hall_id))


# -------------------------------------------------------------------------------- clerks
@dataclass(slots=True)
class Answer:
    window: int
    verb: str
    sent: float  # monotonic
    took: float
    status: int  # 0: no answer (connection failed or timed out)
    code: str | None
    seqs: list[int]


class Clerks:
    """The hall's clerks at work: one command every 1/rate s (open loop), handed to the next
    window not waiting for an answer; each window cycles call-next, start, finish. Every
    answer is kept with its send time, so any span of the run has its own figures."""

    def __init__(self, host: str, port: int, hall: stage.HallInfo, rate: float):
        self.host, self.port = host, port
        self.hall = hall
        self.rate = rate
        self.windows = [
            Window(
                {
                    "hall_code": hall.code,
                    "hall_id": hall.id,
                    "window_no": w.no,
                    "token": w.token,
                    "transfer_queues": [],
                },
                seed=i,
            )
            for i, w in enumerate(hall.windows)
        ]
        self.conns: dict[int, HttpConn | None] = {}
        self.answers: list[Answer] = []
        self.sent_at: dict[int, float] = {}  # seq -> when the command that made it was sent
        self.missed_ticks = 0
        self._task: asyncio.Task | None = None
        self._inflight: set[asyncio.Task] = set()

    async def _command(self, w: Window) -> None:
        verb = w.next_verb()
        req = w.request(verb, self.host, self.port)
        t0 = time.monotonic()
        status, code, seqs = 0, None, []
        try:
            conn = self.conns.get(w.no)
            if conn is None or conn.closed:
                conn = self.conns[w.no] = await http_connect(self.host, self.port)
            t0 = time.monotonic()
            status, body = await asyncio.wait_for(conn.send(req), ANSWER_TIMEOUT)
            data = orjson.loads(body) if body else {}
            if status == 200:
                seqs = [e["seq"] for e in data.get("events", ())]
            else:
                code = (data.get("error") or {}).get("code", str(status))
        except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
            code = f"io:{type(exc).__name__}"
            stale = self.conns.pop(w.no, None)
            if stale is not None:
                stale.close()
        took = time.monotonic() - t0
        for seq in seqs:
            self.sent_at[seq] = t0
        self.answers.append(Answer(w.no, verb, t0, took, status, code, seqs))
        w.after(verb, status, code)
        w.busy = False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = i = 0
        while True:
            n += 1
            delay = start + n / self.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for _ in range(len(self.windows)):
                w = self.windows[i % len(self.windows)]
                i += 1
                if not w.busy:
                    w.busy = True
                    t = loop.create_task(self._command(w))
                    self._inflight.add(t)
                    t.add_done_callback(self._inflight.discard)
                    break
            else:
                self.missed_ticks += 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="faults-clerks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=ANSWER_TIMEOUT + 1)
        for c in self.conns.values():
            if c is not None:
                c.close()

    def between(self, t0: float, t1: float) -> list[Answer]:
        return [a for a in self.answers if t0 <= a.sent < t1]

    @staticmethod
    def figures(answers: Sequence[Answer]) -> dict[str, Any]:
        ok = [a.took for a in answers if a.status == 200]
        errors = Counter(a.code or str(a.status) for a in answers if a.status != 200)
        return {
            "commands": len(answers),
            "errors": sum(errors.values()),
            "error_codes": dict(errors),
            **latency_figures(ok),
        }


# -------------------------------------------------------------------------------- displays
def display_targets(
    hall: stage.HallInfo, since: int, feeds: int, sios: int, keep: bool = False
) -> list[dict[str, Any]]:
    base = {"hall_id": hall.id, "hall_code": hall.code, "token": hall.display_token}
    return [{"kind": "feed", **base, "since": since, "keep": keep} for _ in range(feeds)] + [
        {"kind": "sio", **base, "since": since, "keep": keep} for _ in range(sios)
    ]


async def log_frames(conn: asyncpg.Connection, hall_id: int, after: int, upto: int) -> dict:
    """The frames a display must have received for seqs (after, upto], from the log: each
    event as EventRecord.to_wire makes it (personal fields stripped, internal ones a skip)."""
    rows = await conn.fetch(EVENTS_AFTER, hall_id, after, upto)
    return {r["seq"]: orjson.loads(record(hall_id, r).encode()) for r in rows}


def exactness(sub: Sub, head: int, expected: dict[int, dict]) -> list[str]:
    """What is wrong with one display's stream: each seq after the one it started from up to
    the head received once, in order, equal to the log. Empty when exact."""
    problems = []
    if sub.error:
        problems.append(f"error: {sub.error}")
    if sub.closed:
        problems.append("closed")
    if sub.lost or sub.dup or sub.mismatch:
        problems.append(f"lost {sub.lost}, duplicated {sub.dup}, protocol mismatch {sub.mismatch}")
    if sub.frames is None:
        return problems
    first = sub.first if sub.first is not None else head
    seqs = [seq for seq, _ in sub.frames]
    want = list(range(first + 1, head + 1))
    if seqs != want:
        extra = [s for s in seqs if not first < s <= head]
        dups = [s for s, n in Counter(seqs).items() if n > 1]
        missing = sorted(set(want) - set(seqs))
        problems.append(
            f"seqs {first + 1}..{head}: {len(seqs)} received, missing {missing[:5]}, "
            f"duplicated {dups[:5]}, outside {extra[:5]}"
            + (", out of order" if not (missing or dups or extra) else "")
        )
    differ = []
    for seq, frame in sub.frames:
        got = orjson.loads(frame) if isinstance(frame, bytes) else frame
        if seq in expected and got != expected[seq]:
            differ.append(seq)
    if differ:
        problems.append(f"{len(differ)} frames differ from the log, e.g. seq {differ[0]}")
    return problems


# -------------------------------------------------------------------------------- resources
async def server_resources(
    pid: int, base: str, conn: asyncpg.Connection, role: str, http: aiohttp.ClientSession
) -> dict[str, Any]:
    """RSS, open files, asyncio tasks (its /healthz) and database connections (of the app
    role to this database) of one server process, now."""
    p = psutil.Process(pid)
    async with http.get(base + "/healthz") as r:
        health = await r.json()
    conns = await conn.fetchval(
        "select count(*) from pg_stat_activity where datname = current_database() and usename = $1",
        role,
    )
    return {
        "rss_mb": round(p.memory_info().rss / 2**20, 1),
        "fds": p.num_fds(),
        "tasks": health["worker"].get("tasks"),
        "db_connections": int(conns),
        "subscribers": health["fanout"]["subscribers"],
    }


def load_note() -> str:
    """The machine's load and the other benchmarks running, for the figures' context."""
    load = os.getloadavg()
    others = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "run.py bench" in cmd and p.info["pid"] != os.getpid():
            others.append(p.info["pid"])
    text = f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
    if others:
        text += f"; `run.py bench` running beside (pids {', '.join(map(str, others[:4]))})"
    return text


def log_noise(path: Any) -> dict[str, int]:
    """ERROR and WARNING lines and tracebacks in a server's log (what an outage costs the
    log; the issue counted 196 and 391 in 30 s before)."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    lines = text.splitlines()
    return {
        "errors": sum(1 for line in lines if " ERROR " in line),
        "warnings": sum(1 for line in lines if " WARNING " in line),
        "tracebacks": text.count("Traceback (most recent call last)"),
    }
