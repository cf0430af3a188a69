"""`python run.py bench cases`: issue 8's targets with many open cases in the database.

    python run.py bench cases --open-cases 100000

Targets: with 100,000 open cases in the database, a case command's p99 stays <= 50 ms at hall
load, and opening a case's timeline (GET /api/cases/{id}) stays <= 50 ms.

Set-up (not measured): the bench's own server on a throwaway database (as `run.py bench`), or
`--url` with `--database-url` naming its database (it is modified). The open cases are
bulk-loaded straight into the database (server/bench/caseload.py: valid rows, histories and
clocks, deadlines spread over past and future). Every clerk of the city hall signs in at their
window and opens it through the API; the hall's leaders are on duty today; the queues are
filled through the kiosk API with the demo's mix of items (about 93 % immediate).

Phases:
    warm-up      a few seconds of the hall-load mix, not recorded
    hall load    open loop: case commands at --rate per second (default 10: a city hall's
                 peak), and timeline reads at --read-rate, for --duration seconds; each send
                 is scheduled on the clock, not after the previous answer, so a slow answer
                 cannot hide the ones queued behind it
    max          closed loop: --concurrency clients issuing the same mix back to back, for
                 --max-duration seconds: the commands/s the server sustains, and their latency
                 there; then the same for timeline reads

The mix (shares of case commands; each picks a random case in a state that allows it, among
the loaded ones and those accepted during the run): accept 25 % (the clerk calls the next
citizen, starts serving, accepts the ticket as a case and finishes the ticket: the queue
commands around it are timed apart), decide 20 %, complete 20 %, deliver 10 %, start 10 %,
supplement request 5 %, supplement receipt 5 %, sign-off request 2.5 %, the leader's sign-off
2.5 %. Every latency is the client's: from just before the request is written to the end of
the answer, on a keep-alive connection."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import orjson
import psutil

from server.bench import stage
from server.bench.caseload import Loaded, LoadedCase, load_open_cases, read_open_cases
from server.bench.runner import CpuMeter, machine_facts, run_and_report, stderr_progress
from server.bench.wire import HttpConn, HttpError, http_connect, http_request

TARGET_MS = 50.0

MIX: dict[str, float] = {
    "accept": 0.25,
    "decide": 0.20,
    "complete": 0.20,
    "deliver": 0.10,
    "start": 0.10,
    "supplement": 0.05,
    "receive": 0.05,
    "signoff_request": 0.025,
    "signoff": 0.025,
}
# which cases each command may take (the transition table's rows, as the bench tracks them)
ELIGIBLE: dict[str, Callable[[LoadedCase], bool]] = {
    "start": lambda c: c.state == "accepted",
    "decide": lambda c: (
        c.state in ("accepted", "in_progress")
        and not c.signoff_item
        and c.clock_status == "running"
    ),
    "supplement": lambda c: (
        c.state in ("accepted", "in_progress")
        and c.clock_status == "running"
        and not c.supplement_open
        and c.materials > 0
    ),
    "receive": lambda c: (
        c.state in ("accepted", "in_progress", "approved") and (c.supplement_open or c.outstanding)
    ),
    "signoff_request": lambda c: (
        c.state == "in_progress" and c.signoff_item and c.clock_status == "running"
    ),
    "signoff": lambda c: c.state == "awaiting_signoff",
    "complete": lambda c: c.state in ("approved", "refused") and not c.outstanding,
    "deliver": lambda c: c.state == "completed",
}
IMMEDIATE_PER_PROMISED = 13
OPEN_COUNT = """
select count(*) from service_case
where hall_id = $1 and state not in ('completed', 'delivered', 'not_accepted', 'withdrawn')
"""  # the queues' items: 13 immediate to 1 promised (~93 %)


@dataclass
class CaseOptions:
    open_cases: int = 100_000
    rate: float = 10.0
    read_rate: float = 5.0
    duration: float = 60.0
    max_duration: float = 20.0
    concurrency: int = 8
    warmup: float = 5.0
    url: str | None = None
    database_url: str | None = None
    seed: int = 1
    quiet: bool = False
    keep_server_log: bool = False


def _pct(values: array, q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def stats_of(values: array) -> dict[str, Any]:
    ms = lambda x: None if x is None else round(x * 1000, 1)
    return {
        "n": len(values),
        "p50_ms": ms(_pct(values, 0.50)),
        "p95_ms": ms(_pct(values, 0.95)),
        "p99_ms": ms(_pct(values, 0.99)),
        "max_ms": ms(max(values) if values else None),
    }


class Recorder:
    def __init__(self) -> None:
        self.lat: dict[str, array] = defaultdict(lambda: array("d"))
        self.errors: Counter[str] = Counter()
        self.done: Counter[str] = Counter()

    def add(self, kind: str, seconds: float) -> None:
        self.lat[kind].append(seconds)
        self.done[kind] += 1

    def report(self, wall: float) -> dict[str, Any]:
        commands = array("d")
        for kind, values in self.lat.items():
            if kind in MIX or kind == "signoff":
                commands.extend(values)
        out: dict[str, Any] = {
            "seconds": round(wall, 1),
            "commands": stats_of(commands),
            "commands_per_s": round(len(commands) / wall, 1) if wall else None,
            "reads": stats_of(self.lat.get("read", array("d"))),
            "reads_per_s": round(len(self.lat.get("read", ())) / wall, 1) if wall else None,
            "by_command": {k: stats_of(v) for k, v in sorted(self.lat.items()) if k in MIX},
            "queue": stats_of(self.lat.get("queue", array("d"))),
            "bare_commit": stats_of(self.lat.get("bare_commit", array("d"))),
            "bare_request": stats_of(self.lat.get("bare_request", array("d"))),
            "errors": dict(self.errors),
        }
        return out


class Conns:
    """Keep-alive connections to the server, one request at a time each."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[HttpConn] = []

    async def request(
        self, method: str, path: str, token: str, body: Any = None
    ) -> tuple[int, Any, float]:
        payload = orjson.dumps(body) if body is not None else b""
        req = http_request(
            method,
            self.host,
            self.port,
            path,
            body=payload,
            headers={"Authorization": f"Bearer {token}"},
        )
        t0 = time.monotonic()
        try:
            conn = self.idle.pop() if self.idle else await http_connect(self.host, self.port)
            t0 = time.monotonic()
            status, raw = await conn.send(req)
        except (OSError, ConnectionError, TimeoutError, HttpError) as exc:
            return 0, {"error": {"code": f"io:{type(exc).__name__}"}}, time.monotonic() - t0
        dt = time.monotonic() - t0
        self.idle.append(conn)
        return status, (orjson.loads(raw) if raw else {}), dt

    def close(self) -> None:
        for c in self.idle:
            c.close()
        self.idle.clear()


class Pools:
    """Cases by the command that may take them next; stale entries are dropped when drawn."""

    def __init__(self, cases: list[LoadedCase], rng: random.Random):
        self.rng = rng
        self.pool: dict[str, list[LoadedCase]] = {k: [] for k in ELIGIBLE}
        self.busy: set[int] = set()
        self.all: list[LoadedCase] = []
        for c in cases:
            self.add(c)

    def add(self, c: LoadedCase) -> None:
        self.all.append(c)
        self.place(c)

    def place(self, c: LoadedCase) -> None:
        for name, ok in ELIGIBLE.items():
            if ok(c):
                self.pool[name].append(c)

    def draw(self, command: str) -> LoadedCase | None:
        pool, ok = self.pool[command], ELIGIBLE[command]
        for _ in range(50):
            if not pool:
                return None
            i = self.rng.randrange(len(pool))
            c = pool[i]
            if c.id in self.busy:
                continue
            pool[i] = pool[-1]
            pool.pop()
            if ok(c):
                self.busy.add(c.id)
                return c
        return None


@dataclass
class Window:
    no: int
    token: str
    busy: bool = False


class CaseBench:
    def __init__(self, opts: CaseOptions, progress: Callable[[str], None]):
        self.o = opts
        self.progress = progress
        self.rng = random.Random(opts.seed)
        self.result: dict[str, Any] = {"config": asdict(opts), "phases": {}, "notes": []}
        self.server: stage.ServerProcess | None = None

    def note(self, text: str) -> None:
        self.result["notes"].append(text)
        self.progress(f"note: {text}")

    async def run(self) -> dict[str, Any]:
        o = self.o
        async with contextlib.AsyncExitStack() as stack:
            if o.url:
                if not o.database_url:
                    raise SystemExit(
                        "bench cases loads its cases into the database: pass --database-url"
                    )
                base, dsn = o.url.rstrip("/"), o.database_url
                server_pid = stage.pid_listening_on(urlsplit(base).port or 80)
            else:
                dsn = await stack.enter_async_context(
                    stage.throwaway_database(o.database_url, self.progress)
                )
                self.server = stage.ServerProcess(dsn)
                self.progress(
                    f"starting the server on port {self.server.port} (migrate + seed) ..."
                )
                await self.server.start()
                stack.push_async_callback(self._stop_server)
                base, server_pid = self.server.url, self.server.pid
            self.base = base
            parts = urlsplit(base)
            self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
            from db.pool import _init_connection

            conn = await asyncpg.connect(dsn)
            stack.push_async_callback(conn.close)
            await _init_connection(conn)
            self.conn = conn
            self.dsn = dsn
            self.meter = CpuMeter(server_pid, urlsplit(dsn).path.lstrip("/"))
            self.result["facts"] = machine_facts(await conn.fetchval("show server_version"))
            self.http = await stack.enter_async_context(aiohttp.ClientSession())
            self.conns = Conns(self.host, self.port)
            stack.callback(self.conns.close)
            await self._setup()
            await self._phases()
        return self.result

    async def _stop_server(self) -> None:
        if self.server is not None:
            await self.server.stop()
            if not self.o.keep_server_log:
                self.server.cleanup_files()

    # -- set-up ---------------------------------------------------------------------------
    async def _setup(self) -> None:
        o, conn = self.o, self.conn
        if self.server is not None:
            await stage.keep_hall_open(conn)
        now = datetime.now(stage.TZ)
        hall_id = await conn.fetchval("select id from hall where code = $1", stage.CITY)
        existing = await conn.fetchval(OPEN_COUNT, hall_id)
        todo = max(0, o.open_cases - existing)
        if existing:
            self.note(f"the hall has {existing:,} open cases already: {todo:,} loaded")
        self.progress(f"loading {todo:,} open cases into the database ...")
        loaded: Loaded = await load_open_cases(
            conn, stage.CITY, todo, now, seed=o.seed, progress=self.progress
        )
        self.loaded = loaded
        self.result["load"] = {
            "seconds": round(loaded.seconds, 1),
            "rows": loaded.rows,
            "states": dict(Counter(c.state for c in loaded.cases)),
            "paused": sum(c.clock_status == "paused" for c in loaded.cases),
        }
        db = await conn.fetchrow(
            """select count(*) filter (where state not in
                        ('completed', 'delivered', 'not_accepted', 'withdrawn')) as open,
                      count(*) as cases,
                      count(*) filter (where clock_status = 'running' and deadline < now())
                        as overdue,
                      pg_size_pretty(pg_total_relation_size('service_case')) as case_size,
                      pg_size_pretty(pg_total_relation_size('case_history')) as history_size,
                      pg_size_pretty(pg_database_size(current_database())) as db_size
               from service_case"""
        )
        assert db is not None  # an aggregate without group by has its one row
        self.result["database"] = dict(db)
        self.progress(
            f"loaded in {loaded.seconds:.0f} s: {db['open']:,} open cases "
            f"({db['overdue']:,} overdue), {loaded.rows}; database {db['db_size']}"
        )
        # leaders are on duty today (a throwaway database may be run on any day)
        await conn.execute(
            """insert into leader_duty (hall_id, duty_date, staff_id, department_id)
               select hall_id, $2, id, department_id from staff
               where hall_id = $1 and role = 'leader' and department_id is not null
               on conflict do nothing""",
            loaded.hall_id,
            now.date(),
        )
        hall = await stage.hall_info(conn, stage.CITY, 130)
        await stage.db_sessions(conn, hall)
        self.hall = hall
        self.windows = {w.no: Window(w.no, w.token) for w in hall.windows}
        self.leader_tokens: dict[int, str] = {}
        for dept, staff_id in loaded.leaders.items():
            self.leader_tokens[dept] = await stage.db_session(conn, staff_id=staff_id)
        self.progress(f"signing in {len(hall.windows)} clerks and opening their windows ...")
        problems = await stage.open_windows(self.http, self.base, hall)
        for p in problems[:5]:
            self.note(p)
        # a window's department (for the cases accepted there) and the queues' item mixes
        self.dept_of_window = {
            r["window_no"]: r["department_id"]
            for r in await conn.fetch(
                "select window_no, department_id from service_window where hall_id = $1",
                loaded.hall_id,
            )
        }
        items = await conn.fetch(
            "select code, kind, queue_id, requires_signoff from item "
            "where hall_id = $1 and active and queue_id is not null order by id",
            loaded.hall_id,
        )
        self.item_signoff = {r["code"]: r["requires_signoff"] for r in items}
        self.item_materials = {
            r["code"]: r["n"]
            for r in await conn.fetch(
                "select i.code, count(m.*)::int as n from item i "
                "left join item_material m on m.item_id = i.id where i.hall_id = $1 "
                "group by i.code",
                loaded.hall_id,
            )
        }
        mixes: dict[int, list[str]] = defaultdict(list)
        for queue_id in {r["queue_id"] for r in items}:
            imm = [
                r["code"] for r in items if r["queue_id"] == queue_id and r["kind"] == "immediate"
            ]
            pro = [
                r["code"] for r in items if r["queue_id"] == queue_id and r["kind"] != "immediate"
            ]
            mix: list[str] = []
            for k in range(max(1, len(pro))):
                mix += (
                    [
                        imm[(k * IMMEDIATE_PER_PROMISED + j) % len(imm)]
                        for j in range(IMMEDIATE_PER_PROMISED)
                    ]
                    if imm
                    else []
                )
                if pro:
                    mix.append(pro[k])
            mixes[queue_id] = mix
        self.mixes = mixes
        self.pools = Pools(await read_open_cases(conn, loaded.hall_id), self.rng)
        self.tickets: dict[int, int] = {}  # window no -> ticket id being served
        self.dry_windows: set[int] = set()  # their queues were empty at the last call

    async def _top_up(self, accepts: int) -> None:
        """Enough waiting tickets for `accepts` acceptances, spread like the windows."""
        per_window = max(2, math.ceil(2 * accepts / max(1, len(self.hall.windows))))
        day = stage.service_day()
        need: dict[int, int] = defaultdict(int)
        for w in self.hall.windows:
            if w.first_queue is not None:
                need[w.first_queue] += per_window
        made = 0
        refused: Counter[str] = Counter()
        for queue_id, wanted in sorted(need.items()):
            mix = self.mixes.get(queue_id)
            if not mix:
                continue
            n = wanted - await self.conn.fetchval(stage.WAITING, queue_id, day)
            if n > 0:
                got = await stage.register(
                    self.http, self.base, self.hall, self.hall.kiosk_token, mix, n
                )
                made += got.made
                refused.update(got.refused)
        self.dry_windows.clear()
        if made:
            await self.conn.execute("analyze ticket")
            self.progress(f"registered {made} citizens at the kiosk")
        if refused:
            self.note(f"registrations refused: {dict(refused)}")

    # -- the commands ---------------------------------------------------------------------
    def _choose(self) -> str:
        return self.rng.choices(list(MIX), list(MIX.values()))[0]

    async def _op(self, rec: Recorder) -> None:
        """One command of the mix (an accept is wrapped in its queue commands)."""
        command = self._choose()
        if command == "accept":
            await self._accept(rec)
            return
        case = self.pools.draw(command)
        if case is None:  # nothing in that state right now: an accept instead
            await self._accept(rec)
            return
        try:
            await self._case_command(rec, command, case)
        finally:
            self.pools.busy.discard(case.id)
            self.pools.place(case)

    async def _case_command(self, rec: Recorder, command: str, c: LoadedCase) -> None:
        path = f"/api/cases/{c.id}"
        token = self.windows[c.window_no].token
        body: Any = None
        if command == "start":
            path += "/start"
        elif command == "decide":
            path += "/decision"
            body = {"decision": "approve"}
        elif command == "complete":
            path += "/complete"
        elif command == "deliver":
            path += "/deliver"
        elif command == "supplement":
            path += "/supplement"
            pos = self.rng.randint(1, c.materials)
            body = {"materials": [{"position": pos, "status": "faulty", "problem": "复印件不清晰"}]}
        elif command == "receive":
            path += "/supplement/received"
            body = {}
        elif command == "signoff_request":
            path += "/signoff-request"
            body = {"note": "材料齐全，请签批"}
        elif command == "signoff":
            path += "/signoff"
            body = {"decision": "approve", "comment": "同意"}
            token = self.leader_tokens[c.department_id]
        status, data, dt = await self.conns.request("POST", path, token, body)
        if status != 200:
            rec.errors[f"{command}:{(data.get('error') or {}).get('code', status)}"] += 1
            return
        rec.add(command, dt)
        self._update(c, command, data)

    def _update(self, c: LoadedCase, command: str, data: dict[str, Any]) -> None:
        c.state = data["state"]
        c.clock_status = data["clock"]["status"]
        c.outstanding = bool(data.get("missing"))
        if command == "supplement":
            c.supplement_open = True
        elif command == "receive":
            c.supplement_open = False

    async def _accept(self, rec: Recorder) -> None:
        for _ in range(5):  # a window whose queue ran dry: another one
            free = [w for w in self.windows.values() if not w.busy and w.no not in self.dry_windows]
            if not free:
                rec.errors["accept:no_window_with_citizens"] += 1
                return
            if await self._accept_at(rec, self.rng.choice(free)):
                return

    async def _accept_at(self, rec: Recorder, w: Window) -> bool:
        """Call the next citizen, serve, accept the ticket as a case, finish. False when the
        window's queues are empty (until the next top-up)."""
        w.busy = True
        try:
            base = f"/api/halls/{self.hall.code}/windows/{w.no}"
            ticket = self.tickets.get(w.no)
            if ticket is None:
                status, data, dt = await self.conns.request("POST", base + "/call-next", w.token)
                if status != 200:
                    code = (data.get("error") or {}).get("code", status)
                    if code == "queue_empty":
                        self.dry_windows.add(w.no)
                        return False
                    rec.errors[f"queue:{code}"] += 1
                    if code == "window_busy":  # something left current: serve it out
                        await self.conns.request("POST", base + "/start", w.token)
                        await self.conns.request("POST", base + "/finish", w.token)
                    return True
                rec.add("queue", dt)
                ticket = data["ticket"]["id"]
                status, data, dt = await self.conns.request("POST", base + "/start", w.token)
                rec.add("queue", dt)
                self.tickets[w.no] = ticket
            status, data, dt = await self.conns.request(
                "POST",
                f"/api/halls/{self.hall.code}/cases",
                w.token,
                {
                    "ticket_id": ticket,
                    "applicant": {"name": "张小三", "phone": "13800138000"},
                },
            )
            if status != 201:
                rec.errors[f"accept:{(data.get('error') or {}).get('code', status)}"] += 1
            else:
                rec.add("accept", dt)
                item = data["item"]
                self.pools.add(
                    LoadedCase(
                        id=data["case_id"],
                        department_id=self.dept_of_window[w.no],
                        window_no=w.no,
                        state=data["state"],
                        clock_status=data["clock"]["status"],
                        pause_kind=None,
                        signoff_item=self.item_signoff.get(item, False),
                        materials=self.item_materials.get(item, 0),
                        outstanding=bool(data.get("missing")),
                        supplement_open=False,
                        item_code=item,
                    )
                )
            status, data, dt = await self.conns.request("POST", base + "/finish", w.token)
            self.tickets.pop(w.no, None)
            if status == 200:
                rec.add("queue", dt)
            return True
        finally:
            w.busy = False

    async def _read(self, rec: Recorder) -> None:
        c = self.rng.choice(self.pools.all)
        status, data, dt = await self.conns.request(
            "GET", f"/api/cases/{c.id}", self.windows[c.window_no].token
        )
        if status != 200:
            rec.errors[f"read:{(data.get('error') or {}).get('code', status)}"] += 1
            return
        rec.add("read", dt)

    # -- phases ---------------------------------------------------------------------------
    async def _open_loop(self, seconds: float, rate: float, read_rate: float) -> Recorder:
        rec = Recorder()
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task] = set()
        late = Counter[str]()

        async def ticker(kind: str, per_s: float, make: Callable[[], Any]) -> None:
            if per_s <= 0:
                return
            start = loop.time()
            n = 0
            while loop.time() - start < seconds:
                n += 1
                delay = start + n / per_s - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.05:
                    late[kind] += 1  # the generator itself fell behind its schedule
                t = loop.create_task(make())
                inflight.add(t)
                t.add_done_callback(inflight.discard)

        await asyncio.gather(
            ticker("commands", rate, lambda: self._op(rec)),
            ticker("reads", read_rate, lambda: self._read(rec)),
        )
        if inflight:
            await asyncio.wait(inflight, timeout=30)
        if late:
            rec.errors.update({f"generator_late:{k}": v for k, v in late.items()})
        return rec

    async def _probes(self, seconds: float, rate: float, rec: Recorder) -> None:
        """What this machine gives anything at the same moment, open loop at the same rate:
        a bare one-row durable commit on a connection of its own (the disk and PostgreSQL's
        scheduling; every command waits for its commit), and the smallest authorized request
        through the same server (GET .../queues: dispatch, session, one query). When these
        have a long tail, the case commands' tail is the machine's."""
        conn = await asyncpg.connect(self.dsn)
        token = self.windows[min(self.windows)].token
        try:
            await conn.execute(
                "create table if not exists bench_commit_probe "
                "(id bigserial primary key, at timestamptz not null default now())"
            )

            # time.monotonic, not loop.time: uvloop's clock has millisecond steps
            async def commits() -> None:
                start, n = time.monotonic(), 0
                while (due := start + n / rate) - start < seconds:
                    if due > time.monotonic():
                        await asyncio.sleep(due - time.monotonic())
                    await conn.execute("insert into bench_commit_probe default values")
                    rec.add("bare_commit", time.monotonic() - due)
                    n += 1

            async def requests() -> None:
                start, n = time.monotonic(), 0
                path = f"/api/halls/{self.hall.code}/queues"
                while (due := start + n / rate) - start < seconds:
                    if due > time.monotonic():
                        await asyncio.sleep(due - time.monotonic())
                    status, _, _ = await self.conns.request("GET", path, token)
                    if status == 200:
                        rec.add("bare_request", time.monotonic() - due)
                    n += 1

            await asyncio.gather(commits(), requests())
            await conn.execute("drop table bench_commit_probe")
        finally:
            await conn.close()

    async def _closed_loop(self, seconds: float, workers: int, reads: bool) -> Recorder:
        rec = Recorder()
        stop = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < stop:
                await (self._read(rec) if reads else self._op(rec))

        await asyncio.gather(*(worker() for _ in range(workers)))
        return rec

    async def _measure(self, name: str, run: Callable[[], Any]) -> dict[str, Any]:
        me = psutil.Process()
        c0 = sum(me.cpu_times()[:2])
        a = self.meter.mark()
        rec = await run()
        b = self.meter.mark()
        c1 = sum(me.cpu_times()[:2])
        res = rec.report(b["t"] - a["t"])
        res["cpu"] = CpuMeter.between(a, b, c1 - c0)
        self.result["phases"][name] = res
        self._print_phase(name, res)
        return res

    def _print_phase(self, name: str, res: dict[str, Any]) -> None:
        c, r = res["commands"], res["reads"]
        self.progress(
            f"{name}: {res['commands_per_s']} commands/s p50 {c['p50_ms']} p99 {c['p99_ms']} "
            f"max {c['max_ms']} ms; {res['reads_per_s']} reads/s p99 {r['p99_ms']} ms; "
            f"server {res['cpu']['server_cpu_pct']} %, PostgreSQL {res['cpu']['pg_cpu_pct']} %"
            + (f"; errors {res['errors']}" if res["errors"] else "")
        )

    async def _phases(self) -> None:
        o = self.o
        share = MIX["accept"]
        await self._top_up(int(o.rate * share * (o.duration + o.warmup)) + 20)
        if o.warmup > 0:
            self.progress(f"warm-up {o.warmup:g} s ...")
            await self._open_loop(o.warmup, o.rate, o.read_rate)
        self.progress(
            f"hall load: {o.rate:g} case commands/s and {o.read_rate:g} timeline reads/s, "
            f"open loop, {o.duration:g} s ..."
        )

        async def hall_load() -> Recorder:
            probes = Recorder()
            rec, _ = await asyncio.gather(
                self._open_loop(o.duration, o.rate, o.read_rate),
                self._probes(o.duration, o.rate, probes),
            )
            for kind in ("bare_commit", "bare_request"):
                rec.lat[kind] = probes.lat[kind]
            return rec

        await self._measure("hall_load", hall_load)
        if o.max_duration > 0:
            # a generous guess at what the closed loop will accept: 80 commands/s per client
            await self._top_up(int(80 * o.concurrency * share * o.max_duration))
            self.progress(f"max: {o.concurrency} clients back to back, {o.max_duration:g} s ...")
            await self._measure(
                "max_commands", lambda: self._closed_loop(o.max_duration, o.concurrency, False)
            )
            await self._measure(
                "max_reads", lambda: self._closed_loop(o.max_duration / 2, o.concurrency, True)
            )
        open_now = await self.conn.fetchval(
            "select count(*) from service_case where state not in "
            "('completed', 'delivered', 'not_accepted', 'withdrawn')"
        )
        self.result["database"]["open_at_end"] = open_now


def table(result: dict[str, Any]) -> str:
    lines: list[str] = []
    f = result.get("facts", {})
    db = result.get("database", {})
    load = result.get("load", {})
    lines.append(
        f"machine: {f.get('nproc')} x {f.get('cpu_model')}, {f.get('memory_gb')} GB, "
        f"PostgreSQL {f.get('postgresql')}, Python {f.get('python')}"
    )
    lines.append(
        f"database: {db.get('open', 0):,} open cases ({db.get('overdue', 0):,} overdue) of "
        f"{db.get('cases', 0):,}; service_case {db.get('case_size')}, case_history "
        f"{db.get('history_size')}, database {db.get('db_size')}; loaded in "
        f"{load.get('seconds')} s: {load.get('rows')}"
    )
    lines.append("")
    head = f"{'phase / kind':<28}{'n':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}  (ms)"
    for name, ph in result.get("phases", {}).items():
        cpu = ph.get("cpu", {})
        lines.append(
            f"{name}: {ph['seconds']} s, {ph['commands_per_s']} commands/s, "
            f"{ph['reads_per_s']} reads/s; CPU server {cpu.get('server_cpu_pct')} %, "
            f"PostgreSQL {cpu.get('pg_cpu_pct')} %, generator {cpu.get('generator_cpu_pct')} %, "
            f"other {cpu.get('other_cpu_pct')} %"
        )
        lines.append(head)

        def row(label: str, s: dict[str, Any]) -> None:
            if not s or not s.get("n"):
                return
            lines.append(
                f"  {label:<26}{s['n']:>7}{_f(s['p50_ms'])}{_f(s['p95_ms'])}"
                f"{_f(s['p99_ms'])}{_f(s['max_ms'])}"
            )

        row("case commands", ph["commands"])
        for k, s in ph["by_command"].items():
            row(f"  {k}", s)
        row("timeline reads", ph["reads"])
        row("(queue commands)", ph["queue"])
        row("bare commit, same rate", ph.get("bare_commit", {}))
        row("bare request, same rate", ph.get("bare_request", {}))
        if ph["errors"]:
            lines.append(f"  errors: {ph['errors']}")
        lines.append("")
    hall = result.get("phases", {}).get("hall_load")
    if hall:
        n = f"{db.get('open', 0):,}"
        for label, s in (
            (f"case command p99 at hall load, {n} open", hall["commands"]),
            (f"timeline read p99 at hall load, {n} open", hall["reads"]),
        ):
            p99 = s.get("p99_ms")
            verdict = "PASS" if p99 is not None and p99 <= TARGET_MS else "MISS"
            lines.append(f"{label:<52}{_f(p99)} ms  <= {TARGET_MS:g} ms  {verdict}")
        lines.append(
            f"meanwhile: a bare commit p99 {hall['bare_commit'].get('p99_ms')} ms, the smallest "
            f"request p99 {hall['bare_request'].get('p99_ms')} ms, everything else on the machine "
            f"{hall['cpu'].get('other_cpu_pct')} % CPU (of {100 * (f.get('nproc') or 1)} %)"
        )
    for n in result.get("notes", []):
        lines.append(f"note: {n}")
    return "\n".join(lines)


def _f(x: Any) -> str:
    return f"{'-':>9}" if x is None else f"{x:>9.1f}"


def main(opts: CaseOptions, as_json: bool = False) -> int:

    progress = stderr_progress(opts.quiet, "bench cases")

    async def go() -> dict[str, Any]:
        return await CaseBench(opts, progress).run()

    return run_and_report(go, as_json, table)
