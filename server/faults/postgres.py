"""PostgreSQL crashing, stopped and frozen under a burst of commands (issue 12).

A burst: one command per window, sent a few milliseconds apart, each window in the state its
command needs (call-next from idle, start from called, finish from serving, a status change to
paused: three hot queue commands, each one SQL function and one statement, and one command of
the Python path, several statements in a transaction). When a share of the answers has come
back, with the rest in flight or not sent yet, the fault strikes:

- `crash` (through a FaultProxy in front of any PostgreSQL): every connection dropped mid-flight,
  new ones refused for `restart_gap` seconds, then accepted again: PostgreSQL restarting;
- on a private PostgreSQL of the harness's own (server/faults/pgprivate.py):
  `restart` `pg_ctl -m immediate restart` (every backend killed mid-transaction, crash
  recovery from the WAL), `stop` `pg_ctl -m fast stop` for `outage` seconds then start, and
  `freeze` SIGSTOP to every one of its processes for `outage` seconds then SIGCONT.

Checked for every command of the burst: it was answered within `answer_bound` seconds, with a
2xx or a 503 `database_unavailable` and nothing else; its effects in the database (the ticket's
or the window's state, its event in the log, its audit line) are all there or none is (never
half-applied); a 2xx's are all there (nothing acknowledged that was not committed). A 503 whose
effects are all there is *in doubt*: the statement reached PostgreSQL and committed, and only
its answer was lost (the connection dropped after the commit, or the command's bound cut it
off while PostgreSQL was frozen and it ran on the thaw). No client of any database can tell
those from a failure; it is counted, never half-applied. Then: commands succeed again within
`recovery_bound` seconds of PostgreSQL's return, and the hall's log is gapless."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import orjson

from server.bench import stage
from server.bench.wire import HttpConn, http_connect, http_request
from server.faults.common import (
    Progress,
    Result,
    latency_figures,
    load_note,
    log_noise,
    quiet,
    ready_hall,
)
from server.faults.pgprivate import PrivatePostgres
from server.faults.proxy import proxy_for_dsn, via

# verb -> (what the window must be before, the event type, the audit action)
VERBS: dict[str, tuple[str, str, str]] = {
    "call-next": ("idle", "ticket.called", "ticket.call_next"),
    "start": ("called", "ticket.service_started", "ticket.start"),
    "finish": ("serving", "ticket.finished", "ticket.finish"),
    "status": ("open", "window.status_changed", "window.set_status"),
}
ORDER = ("call-next", "start", "finish", "status")
NEXT = {"idle": "call-next", "called": "start", "serving": "finish"}  # one step round the cycle


@dataclass
class PostgresOptions:
    windows: int = 24  # commands per burst (one per window)
    spacing_ms: float = 1.0  # between two commands of a burst
    strike_after: float = 0.3  # share of the burst's answers in before the fault strikes
    restart_gap: float = 1.0  # crash: seconds the proxy refuses before accepting again
    outage: float = 30.0  # private stop and freeze: seconds
    crash_bursts: int = 4  # crash and restart: bursts each (each window's verb rotates)
    answer_bound: float = 2.0
    recovery_bound: float = 10.0
    proxy: bool = True  # the crash through the proxy
    private: bool = True  # restart, stop, freeze on a private PostgreSQL


@dataclass
class Sent:
    window: int
    verb: str
    at: float = 0.0  # monotonic, when it was sent
    took: float = 0.0
    status: int = 0
    code: str | None = None
    seqs: tuple[tuple[int, str], ...] = ()


class Hall:
    """The burst's windows (the last of the hall's windows is kept for the recovery probe)."""

    def __init__(self, server: stage.ServerProcess, pool: asyncpg.Pool, info):
        self.server = server
        # the harness's own connections: a pool, which replaces those a fault closed, and
        # serves the windows driven concurrently
        self.pool = pool
        self.info = info
        self.windows = info.windows[:-1]
        self.probe = info.windows[-1]

    def request(self, w, verb: str) -> bytes:
        path = f"/api/halls/{self.info.code}/windows/{w.no}/"
        headers = {"Authorization": f"Bearer {w.token}"}
        s = self.server
        if verb == "status":
            return http_request(
                "POST",
                s.host,
                s.port,
                path + "status",
                body=b'{"status":"paused"}',
                headers=headers,
            )
        if verb == "open":
            return http_request(
                "POST", s.host, s.port, path + "status", body=b'{"status":"open"}', headers=headers
            )
        return http_request("POST", s.host, s.port, path + verb, headers=headers)

    async def send(self, w, verb: str, conn: HttpConn | None = None) -> Sent:
        out = Sent(w.no, verb)
        own = conn is None
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = await http_connect(self.server.host, self.server.port)
            t0 = out.at = time.monotonic()
            out.status, body = await asyncio.wait_for(conn.send(self.request(w, verb)), 10.0)
            data = orjson.loads(body) if body else {}
            if out.status == 200:
                out.seqs = tuple((e["seq"], e["type"]) for e in data.get("events", ()))
            else:
                out.code = (data.get("error") or {}).get("code", str(out.status))
        except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
            out.code = f"io:{type(exc).__name__}"
        finally:
            out.took = time.monotonic() - t0
            if own and conn is not None:
                conn.close()
        return out

    async def state(self, w) -> tuple[str, int | None, str]:
        row = await self.pool.fetchrow(
            "select id, status from ticket where window_id = $1 "
            "and status in ('called', 'serving') order by id desc limit 1",
            w.id,
        )
        window = await self.pool.fetchval("select status from service_window where id = $1", w.id)
        if row is None:
            return "idle", None, window
        return row["status"], row["id"], window

    async def drive(self, w, verb: str, patience: float = 30.0) -> None:
        """Commands until the window is where `verb` starts from (retried while the server
        recovers)."""
        want = VERBS[verb][0]
        deadline = time.monotonic() + patience
        while True:
            ticket, _, window = await self.state(w)
            if window != "open":
                step = "open"
            elif want == "open" or ticket == want:
                return
            elif want == "idle":
                step = "start" if ticket == "called" else "finish"
            else:
                step = NEXT[ticket]
            sent = await self.send(w, step)
            if sent.status != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"window {w.no} stuck: {step} answered {sent.code}")
                await asyncio.sleep(0.2)

    async def recovered(self, since: float, bound: float) -> float | None:
        """Seconds from `since` until a command succeeds again (polled every 0.1 s)."""
        while time.monotonic() - since < bound + 5:
            sent = await self.send(self.probe, "open")
            if sent.status == 200:
                return time.monotonic() - since
            await asyncio.sleep(0.1)
        return None


async def _effects(
    conn: asyncpg.Pool, w, verb: str, ticket_before: int | None, seq0: int, audit0: int
) -> tuple[bool, bool, bool]:
    """(state changed, its event in the log, its audit line) of `verb` at window `w` since the
    burst began."""
    _, event_type, action = VERBS[verb]
    events = await conn.fetchval(
        "select count(*) from event e join service_window w on w.id = e.window_id "
        "where e.hall_id = w.hall_id and w.id = $1 and e.seq > $2 and e.type = $3",
        w.id,
        seq0,
        event_type,
    )
    audits = await conn.fetchval(
        "select count(*) from audit where id > $1 and window_id = $2 and action = $3 "
        "and outcome = 'ok'",
        audit0,
        w.id,
        action,
    )
    if verb == "status":
        changed = (
            await conn.fetchval("select status from service_window where id = $1", w.id) == "paused"
        )
    elif verb == "call-next":
        changed = bool(
            await conn.fetchval(
                "select count(*) from ticket where window_id = $1 and status = 'called'", w.id
            )
        )
    else:
        status = await conn.fetchval("select status from ticket where id = $1", ticket_before)
        changed = status == ("serving" if verb == "start" else "done")
    if events > 1 or audits > 1:
        raise AssertionError(f"window {w.no}: {verb} applied {events} / {audits} times")
    return changed, bool(events), bool(audits)


async def burst(
    hall: Hall,
    round_no: int,
    fault: Callable[[], Coroutine[Any, Any, float]],
    o: PostgresOptions,
) -> dict[str, Any]:
    """One burst with the fault striking mid-flight; the commands' outcomes, checked against
    the database after PostgreSQL's return. `fault` returns when PostgreSQL is back (monotonic
    time)."""
    conn = hall.pool
    plan = [(w, ORDER[(i + round_no) % len(ORDER)]) for i, w in enumerate(hall.windows)]
    await asyncio.gather(*(hall.drive(w, verb) for w, verb in plan))
    before = {w.no: (await hall.state(w))[1] for w, _ in plan}
    seq0 = await conn.fetchval("select last_seq from hall_seq where hall_id = $1", hall.info.id)
    audit0 = await conn.fetchval("select coalesce(max(id), 0) from audit")
    links = [await http_connect(hall.server.host, hall.server.port) for _ in plan]
    answered = 0
    strike_at = max(1, round(len(plan) * o.strike_after))
    struck = asyncio.Event()
    fault_task: asyncio.Task | None = None
    t_fault = 0.0

    async def one(i: int, w, verb: str) -> Sent:
        nonlocal answered, fault_task, t_fault
        await asyncio.sleep(i * o.spacing_ms / 1000)
        sent = await hall.send(w, verb, links[i])
        answered += 1
        if answered >= strike_at and not struck.is_set():
            struck.set()
            t_fault = time.monotonic()
            fault_task = asyncio.create_task(fault())
        return sent

    try:
        results = await asyncio.gather(*(one(i, w, v) for i, (w, v) in enumerate(plan)))
    finally:
        for link in links:
            link.close()
    if fault_task is None:  # every answer came before the strike: strike now
        t_fault = time.monotonic()
        fault_task = asyncio.create_task(fault())
    back = await fault_task
    recovery = await hall.recovered(back, o.recovery_bound)

    outcome = {"ok": 0, "unavailable": 0, "in_doubt": 0}
    doubt: list[str] = []  # the verbs of the commands in doubt
    wrong: list[str] = []
    for (w, verb), sent in zip(plan, results, strict=True):
        effects = await _effects(conn, w, verb, before[w.no], seq0, audit0)
        applied = all(effects)
        label = f"window {w.no} {verb}"
        if any(effects) and not applied:
            wrong.append(f"{label}: half-applied (state, event, audit) = {effects}")
        if sent.took > o.answer_bound:
            wrong.append(f"{label}: answered in {sent.took:.2f} s")
        if sent.status == 200:
            outcome["ok"] += 1
            if not applied:
                wrong.append(f"{label}: acknowledged, not in the database {effects}")
            logged = await conn.fetch(
                "select seq, type from event where hall_id = $1 and seq = any($2::bigint[])",
                hall.info.id,
                [s for s, _ in sent.seqs],
            )
            if sorted((r["seq"], r["type"]) for r in logged) != sorted(sent.seqs):
                wrong.append(f"{label}: its answer's events are not the log's")
        elif sent.status == 503 and sent.code == "database_unavailable":
            outcome["in_doubt" if applied else "unavailable"] += 1
            if applied:
                doubt.append(verb)
        else:
            wrong.append(f"{label}: answered {sent.status} {sent.code}")
    return {
        "commands": len(plan),
        "answered_before_fault": strike_at,
        # sent before the fault struck, answered after: cut mid-flight
        "in_flight": sum(1 for s in results if s.at < t_fault < s.at + s.took),
        **outcome,
        "answers": latency_figures([s.took for s in results]),
        "doubt": doubt,
        "fault_to_back_s": round(back - t_fault, 2),
        "recovery_s": None if recovery is None else round(recovery, 2),
        "wrong": wrong,
    }


async def gapless(conn: asyncpg.Pool, hall_id: int) -> bool:
    row = await conn.fetchrow(
        "select count(*) as n, min(seq) as lo, max(seq) as hi, "
        "(select last_seq from hall_seq where hall_id = $1) as head "
        "from event where hall_id = $1",
        hall_id,
    )
    assert row is not None  # an aggregate always has its row
    return row["n"] == row["hi"] - row["lo"] + 1 and row["hi"] == row["head"]


async def _run_bursts(
    res: Result,
    name: str,
    server: stage.ServerProcess,
    owner_dsn: str,
    faults: list[tuple[str, Callable[[], Coroutine[Any, Any, float]], int]],
    o: PostgresOptions,
    progress: Progress,
) -> None:
    pool = await asyncpg.create_pool(owner_dsn, min_size=0, max_size=4)
    try:
        async with aiohttp.ClientSession() as http, pool.acquire() as conn:
            bursts = sum(n for _, _, n in faults)
            hall_info = await ready_hall(conn, http, server.url, o.windows + 1, 2 * bursts + 2)
        hall = Hall(server, pool, hall_info)
        for kind, fault, n in faults:
            runs = []
            for r in range(n):
                progress(f"{name}: {kind}, burst {r + 1} of {n} ...")
                runs.append(await burst(hall, r, fault, o))
            figures = {
                "bursts": n,
                "commands": sum(b["commands"] for b in runs),
                "ok": sum(b["ok"] for b in runs),
                "unavailable": sum(b["unavailable"] for b in runs),
                "in_doubt": sum(b["in_doubt"] for b in runs),
                "in_doubt_by_verb": dict(Counter(v for b in runs for v in b["doubt"])),
                "in_flight_at_fault": sum(b["in_flight"] for b in runs),
                "answer_max_ms": max(b["answers"]["max_ms"] for b in runs),
                "answer_p99_ms": max(b["answers"]["p99_ms"] for b in runs),
                "fault_to_back_s": max(b["fault_to_back_s"] for b in runs),
                "recovery_s": max(
                    (b["recovery_s"] for b in runs if b["recovery_s"] is not None), default=None
                ),
            }
            res.figures[kind] = figures
            wrong = [w for b in runs for w in b["wrong"]]
            res.check(
                f"{kind}_atomic",
                not wrong and figures["unavailable"] + figures["in_doubt"] > 0,
                f"{kind}: {figures['commands']} commands in {n} bursts: {figures['ok']} 2xx "
                f"applied, {figures['unavailable']} 503 not applied, {figures['in_doubt']} 503 "
                f"in doubt (applied whole), none half-applied, every answer within "
                f"{o.answer_bound:.0f} s (max {figures['answer_max_ms']} ms)"
                + (f"; WRONG: {wrong[:6]}" if wrong else ""),
            )
            recoveries = [b["recovery_s"] for b in runs]
            res.check(
                f"{kind}_recovery",
                all(r is not None and r <= o.recovery_bound for r in recoveries),
                f"{kind}: commands succeed again {recoveries} s after PostgreSQL's return "
                f"(bound {o.recovery_bound:.0f} s)",
            )
        res.check(
            f"{name}_log_gapless",
            await gapless(pool, hall.info.id),
            f"{name}: the hall's event log is gapless up to its counter",
        )
    finally:
        await pool.close()


async def crash_through_proxy(
    dsn: str, o: PostgresOptions, res: Result, progress: Progress = quiet
) -> None:
    """The crash simulated by the proxy in front of `dsn`'s PostgreSQL (any: the test's)."""
    proxy = await proxy_for_dsn(dsn)
    server = stage.ServerProcess(via(dsn, proxy.port), extra_env={"HALLOPS_SECRET": _secret()})

    async def crash() -> float:
        await proxy.down()
        await asyncio.sleep(o.restart_gap)
        await proxy.up()
        return time.monotonic()

    try:
        progress(f"proxy: starting the server on port {server.port} ...")
        await server.start()
        await _run_bursts(
            res, "proxy", server, dsn, [("crash", crash, o.crash_bursts)], o, progress
        )
    finally:
        await server.stop()
        _keep_log(res, server, "proxy")
        await proxy.close()


async def private_faults(
    o: PostgresOptions, res: Result, progress: Progress = quiet, pg: PrivatePostgres | None = None
) -> None:
    """restart (immediate), stop and freeze on a PostgreSQL of the harness's own."""
    pg = pg or PrivatePostgres()
    server: stage.ServerProcess | None = None
    try:
        progress(f"private PostgreSQL ({pg.bindir}) on port {pg.port} ...")
        await pg.init()
        admin = await asyncpg.connect(pg.dsn)
        try:
            res.figures["private_postgres"] = await admin.fetchval("show server_version")
            await admin.execute("create database hallops")
        finally:
            await admin.close()
        dsn = pg.dsn_of("hallops")
        server = stage.ServerProcess(dsn, extra_env={"HALLOPS_SECRET": _secret()})
        progress(f"private: starting the server on port {server.port} (migrate + seed) ...")
        await server.start()

        async def restart() -> float:
            await pg.restart("immediate")
            return time.monotonic()

        async def stop() -> float:
            await pg.stop("fast")
            await asyncio.sleep(o.outage)
            await pg.start()
            return time.monotonic()

        async def freeze() -> float:
            await asyncio.to_thread(pg.freeze)
            await asyncio.sleep(o.outage)
            await asyncio.to_thread(pg.thaw)
            return time.monotonic()

        await _run_bursts(
            res,
            "private",
            server,
            dsn,
            [("restart", restart, o.crash_bursts), ("stop", stop, 1), ("freeze", freeze, 1)],
            o,
            progress,
        )
    finally:
        if server is not None:
            await server.stop()
            _keep_log(res, server, "private")
        if not res.ok:
            res.notes.append(f"private PostgreSQL's log: {pg.log}")
            res.notes.append(pg.log_tail(10))
        with contextlib.suppress(Exception):
            await pg.cleanup()


def _secret() -> str:
    return secrets.token_urlsafe(24)


def _keep_log(res: Result, server: stage.ServerProcess, name: str) -> None:
    res.figures[f"{name}_server_log"] = log_noise(server.log_path)
    if res.ok:
        server.cleanup_files()
    else:
        res.notes.append(f"server log kept: {server.log_path}")


async def postgres_faults(
    dsn: str | None, o: PostgresOptions, progress: Progress = quiet
) -> Result:
    """The crash through the proxy (on `dsn`'s server, when given) and the private
    PostgreSQL's restart, stop and freeze (when `o.private`)."""
    res = Result("postgres")
    res.notes.append(load_note())
    res.figures.update(outage_s=o.outage, restart_gap_s=o.restart_gap, windows=o.windows)
    if o.proxy and dsn:
        await crash_through_proxy(dsn, o, res, progress)
    if o.private:
        await private_faults(o, res, progress)
    return res
