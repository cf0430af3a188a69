"""`python run.py bench --halls 16 --workers 2`: a province on one machine (issue 12).

Many city halls served by one deployment: `halls` halls of `windows` windows (the demo city
hall, then copies of it made in SQL: bench02, bench03, ... with their own clerks and devices),
`displays` lobby displays spread evenly over the halls, and every hall at its morning peak,
`hall_rate` commands a second (open loop: each hall's windows take turns, call-next, start,
finish, 5 % transfers). The server is `run.py serve --workers N` with the Redis bus; by default
the same load is measured first with one worker (the Redis bus too) in the same run, so the
scaling is judged against a baseline of the same day and machine.

Each run: a fresh server on the bench's database, every display connected (a real WebSocket
client speaking the plain feed, or Socket.IO for `sio_share`, spread over client processes),
/metrics asked whether it counts them all, then `duration` seconds of load with every arrival
timed, then every display waited for until it reached its hall's head. Reported per run:
commands/s achieved per hall, command -> display latency (each delivery, and the time until
every display of the hall had the event), events lost or duplicated, and the CPU of the server's
processes, PostgreSQL, Redis, the load generator and everything else, so that it shows which
one was the limit."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import psutil

from server.bench import stage
from server.bench.control import Worker
from server.bench.displays import DisplayWorker
from server.bench.runner import (
    CpuMeter,
    _ExitStack,
    machine_facts,
    merge_latencies,
    run_and_report,
    stderr_progress,
)
from server.bench.runner import _f as _figure
from server.bench.windows import WindowWorker, percentile

TARGETS = {"lost": 0, "every_display_p99_ms": 100.0}
RAMP_KEYS = (
    "commands_per_s",
    "offered_per_s",
    "http_p99_ms",
    "every_display_p50_ms",
    "every_display_p99_ms",
    "lost",
    "server_cpu_pct",
    "pg_cpu_pct",
    "generator_cpu_pct",
    "other_cpu_pct",
    "machine_busy_pct",
)
QUIET_PCT = 15.0  # CPU % of one core that the rest of the machine may use for "quiet"
DISPLAYS_PER_PROCESS = 2500  # client processes: one per this many displays, at least 2


@dataclass
class ProvinceOptions:
    halls: int = 16
    windows: int = 130
    displays: int = 10_000
    hall_rate: float = 10.0  # commands/s of each hall: a city hall's morning peak
    duration: float = 30.0
    workers: int = 2
    baseline: bool = True  # also measure one worker first (when workers > 1)
    database_url: str | None = None  # its server gets the throwaway database; None: embedded
    redis_url: str | None = None
    # Lobby displays take the plain feed (frontend/display); a share may speak Socket.IO.
    sio_share: float = 0.0
    display_procs: int = 0  # 0: one per DISPLAYS_PER_PROCESS, at least 2
    command_procs: int = 0  # 0: one per 8 halls, at most 2
    connect_concurrency: int = 25  # connection attempts in flight per client process
    # after the hall rate, these multiples of it in turn, until one misses a target: the most
    # the deployment does (each step `duration` seconds)
    ramp: tuple[float, ...] = ()
    # seconds each phase may wait for the rest of the machine to be quiet (a shared machine)
    wait_quiet: float = 0.0
    # the server's processes and PostgreSQL backends at this nice value (0: as started); an
    # experiment: below 0 they get a core before the load generator and the rest of the machine
    server_nice: int = 0
    quiet: bool = False
    keep_server_log: bool = False


class ProvinceMeter(CpuMeter):
    """CPU of the server's processes (the supervisor and its workers), PostgreSQL, Redis and the
    machine between two marks; RSS of the server's processes together."""

    def __init__(self, server_pid: int, dbname: str | None):
        super().__init__(server_pid, dbname)
        self._procs: dict[int, psutil.Process] = {}

    def server_procs(self) -> list[psutil.Process]:
        assert self.server is not None
        try:
            found = [self.server, *self.server.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        return [self._procs.setdefault(p.pid, p) for p in found]

    def renice(self, nice: int) -> None:
        """The server's processes and its PostgreSQL backends at this priority (an experiment:
        the server gets a core as soon as it wants one, as on a machine of its own)."""
        for p in [*self.server_procs(), *self._pg_procs()]:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                p.nice(nice)

    def mark(self) -> dict[str, Any]:
        m = super().mark()
        cpu = rss = 0.0
        for p in self.server_procs():
            try:
                t = p.cpu_times()
                cpu += t.user + t.system
                rss += p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        m["server"], m["rss"] = cpu, rss
        m["redis"] = 0.0
        for p in psutil.process_iter(["name"]):
            if p.info["name"] == "redis-server":
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    t = p.cpu_times()
                    m["redis"] += t.user + t.system
        return m

    @staticmethod
    def between(a: dict, b: dict, generator_cpu: float) -> dict[str, Any]:
        out = CpuMeter.between(a, b, generator_cpu)
        wall = b["t"] - a["t"]
        redis = b["redis"] - a["redis"]
        out["redis_cpu_pct"] = round(100.0 * redis / wall, 1)
        out["other_cpu_pct"] = round(
            max(0.0, (out["other_cpu_pct"] or 0.0) - 100 * redis / wall), 1
        )
        return out


class Province:
    def __init__(self, opts: ProvinceOptions, progress: Callable[..., None]):
        self.o = opts
        self.progress = progress
        self.result: dict[str, Any] = {"config": asdict(opts), "runs": {}, "notes": []}
        self.halls: list[stage.HallInfo] = []
        self.windows: list[Worker] = []
        self.displays: list[Worker] = []
        self.subs_of_hall: dict[int, int] = {}

    def note(self, text: str) -> None:
        self.result["notes"].append(text)
        self.progress(f"note: {text}")

    async def run(self) -> dict[str, Any]:
        o = self.o
        if o.workers > 1 and not o.redis_url:
            raise SystemExit(
                "bench --workers N needs REDIS_URL (or --bench-redis): workers "
                "share their events through Redis"
            )
        self.result["nofile"] = raise_nofile(o.displays)
        counts = [1, o.workers] if o.baseline and o.workers > 1 else [o.workers]
        async with _ExitStack() as stack:
            dsn = await stack.enter_async_context(
                stage.throwaway_database(o.database_url, self.progress)
            )
            self.dsn = dsn
            self.dbname = urlsplit(dsn).path.lstrip("/") or None
            self.http = await stack.enter_async_context(aiohttp.ClientSession())
            for i, workers in enumerate(counts):
                server = stage.ServerProcess(dsn, redis_url=o.redis_url, workers=workers)
                self.progress(f"starting the server, {workers} worker(s), port {server.port} ...")
                await server.start()
                try:
                    await self._wait_workers(server, workers)
                    if i == 0:
                        await self._setup(stack, server)
                    self.result["runs"][str(workers)] = await self._measure(server, workers)
                finally:
                    await self._disconnect()
                    await server.stop()
                    if not o.keep_server_log:
                        server.cleanup_files()
                    else:
                        self.note(f"server log of {workers} worker(s): {server.log_path}")
        self.result["summary"] = summarize(self.result)
        return self.result

    # -- set-up ---------------------------------------------------------------------------
    async def _wait_workers(self, server: stage.ServerProcess, workers: int) -> None:
        """Until every worker answers (the kernel spreads new connections among them)."""
        seen: set[int] = set()
        t0 = time.monotonic()
        while len(seen) < workers:
            if time.monotonic() - t0 > 60:
                raise RuntimeError(f"only {len(seen)} of {workers} workers answered in 60 s")
            fresh = aiohttp.TCPConnector(force_close=True)  # a new connection: any worker
            async with (
                aiohttp.ClientSession(connector=fresh) as s,
                s.get(server.url + "/healthz") as resp,
            ):
                if resp.status == 200:
                    seen.add((await resp.json())["worker"]["pid"])
            if len(seen) < workers:
                await asyncio.sleep(0.1)

    async def _setup(self, stack: contextlib.AsyncExitStack, server: stage.ServerProcess) -> None:
        o = self.o
        conn = await asyncpg.connect(self.dsn)
        stack.push_async_callback(conn.close)
        self.conn = conn
        self.result["facts"] = machine_facts(await conn.fetchval("show server_version"))
        self.progress(f"making {o.halls} halls of {o.windows} windows ...")
        codes = await stage.ensure_halls(conn, o.halls)
        await stage.keep_hall_open(conn)
        self.halls = [await stage.hall_info(conn, c, o.windows) for c in codes]
        for h in self.halls:
            await stage.db_sessions(conn, h)
            if len(h.windows) < o.windows:
                self.note(f"hall {h.code} has only {len(h.windows)} windows")
        self.progress(
            f"signing in {sum(len(h.windows) for h in self.halls)} clerks at their windows ..."
        )
        for h in self.halls:
            problems = await stage.open_windows(self.http, server.url, h)
            if problems:
                self.note(f"{len(problems)} windows not opened, e.g. {problems[0]}")
        n_disp = o.display_procs or max(2, math.ceil(o.displays / DISPLAYS_PER_PROCESS))
        n_cmd = o.command_procs or min(2, math.ceil(len(self.halls) / 8))
        self.progress(f"starting {n_cmd} command and {n_disp} display client processes ...")
        self.windows = [Worker(WindowWorker, f"windows-{i}") for i in range(n_cmd)]
        self.displays = [Worker(DisplayWorker, f"displays-{i}") for i in range(n_disp)]
        for w in self.windows + self.displays:
            stack.push_async_callback(w.stop)

    async def _connect(self, server: stage.ServerProcess) -> dict[str, Any]:
        o = self.o
        parts = urlsplit(server.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        # whole halls per command process: each hall's rate is kept by one process
        specs: list[list[dict]] = [[] for _ in self.windows]
        for i, h in enumerate(self.halls):
            specs[i % len(self.windows)] += [
                {
                    "hall_code": h.code,
                    "hall_id": h.id,
                    "window_no": win.no,
                    "token": win.token,
                    "transfer_queues": sorted(h.queues),
                }
                for win in h.windows
            ]
        await asyncio.gather(
            *(
                wk.call("setup", host=host, port=port, windows=spec)
                for wk, spec in zip(self.windows, specs)
            )
        )
        heads = await self._heads(server)
        n_sio = round(o.displays * o.sio_share)
        every = o.displays / n_sio if n_sio else 0
        sio_marks = {int(i * every) for i in range(n_sio)}
        targets = []
        self.subs_of_hall = {}
        for i in range(o.displays):
            h = self.halls[i % len(self.halls)]
            targets.append(
                {
                    "kind": "sio" if i in sio_marks else "feed",
                    "hall_id": h.id,
                    "hall_code": h.code,
                    "token": h.display_token,
                    "since": heads[h.id],
                }
            )
            self.subs_of_hall[h.id] = self.subs_of_hall.get(h.id, 0) + 1
        self.progress(f"connecting {o.displays} displays ...")
        t0 = time.monotonic()
        n = len(self.displays)
        res = await asyncio.gather(
            *(
                d.call(
                    "connect",
                    host=host,
                    port=port,
                    targets=targets[i::n],
                    concurrency=o.connect_concurrency,
                    timeout=120.0,
                )
                for i, d in enumerate(self.displays)
            )
        )
        failed = sum(r["failed"] for r in res)
        took = time.monotonic() - t0
        if failed:
            errors = sorted({e for r in res for e in r["errors"]})
            raise RuntimeError(f"{failed} displays failed to connect: {errors[:3]}")
        self.progress(f"{o.displays} displays live in {took:.1f} s")
        return {"connect_s": round(took, 1), "feed": o.displays - n_sio, "sio": n_sio}

    async def _heads(self, server: stage.ServerProcess) -> dict[int, int]:
        return {h.id: await stage.head_of(self.http, server.url, h) for h in self.halls}

    async def _disconnect(self) -> None:
        await asyncio.gather(*(d.call("close") for d in self.displays), return_exceptions=True)
        await asyncio.gather(*(w.call("close") for w in self.windows), return_exceptions=True)

    async def _top_up(self, server: stage.ServerProcess, rate: float | None = None) -> None:
        o = self.o
        # a window calls at most every third command; twice that, and some to spare
        per_window = math.ceil(o.duration * (rate or o.hall_rate) / o.windows / 3 * 2) + 1
        got = stage.Registered()
        for h in self.halls:
            got.add(await stage.top_up(self.conn, self.http, server.url, h, per_window))
        if got.made:
            await self.conn.execute("vacuum analyze ticket")
            self.progress(f"registered {got.made} citizens at the kiosks")
        if got.refused:
            self.note(f"pre-fill: {sum(got.refused.values())} refused {got.refused}")

    async def _live_clients(self, server: stage.ServerProcess) -> dict[str, Any]:
        """What /metrics says is connected (any worker answers for all)."""
        async with self.http.get(server.url + "/metrics") as resp:
            text = await resp.text()
        total = 0.0
        halls: set[str] = set()
        for line in text.splitlines():
            if line.startswith("hallops_live_clients{"):
                labels, _, value = line.rpartition(" ")
                total += float(value)
                if float(value) > 0:
                    halls.add(labels.split('hall="', 1)[1].split('"', 1)[0])
        return {"live_clients": int(total), "halls": len(halls)}

    # -- one run ----------------------------------------------------------------------------
    async def _measure(self, server: stage.ServerProcess, workers: int) -> dict[str, Any]:
        o = self.o
        assert server.pid is not None
        meter = ProvinceMeter(server.pid, self.dbname)
        await self._top_up(server)
        out: dict[str, Any] = {"workers": workers, "busy_before_pct": await machine_busy(2.0)}
        if out["busy_before_pct"] > 20 and not o.wait_quiet:  # else each phase says its own
            self.note(
                f"{workers} worker(s): the machine was {out['busy_before_pct']:.0f} % busy (of "
                f"{100 * (os.cpu_count() or 1)} %) before the run, with nothing of the bench "
                "running: its figures are a shared machine's"
            )
        out.update(await self._connect(server))
        out["metrics"] = await self._live_clients(server)
        if out["metrics"]["live_clients"] != o.displays:
            self.note(
                f"{workers} worker(s): /metrics counts {out['metrics']['live_clients']} live "
                f"clients, {o.displays} displays are connected"
            )
        out["displays_per_worker"] = displays_per_worker(meter, server.port)
        # the display processes count cumulatively: each phase reports its difference
        health = await asyncio.gather(*(d.call("end") for d in self.displays))
        self._totals = {
            "lost": sum(r["lost"] for r in health),
            "duplicated": sum(r["dup"] for r in health),
            "protocol_mismatch": sum(r["mismatch"] for r in health),
            "reconnects": sum(r["reconnects"] for r in health),
        }
        out.update(await self._phase(server, meter, o.hall_rate, workers))
        # the most each hall can do: higher rates until one misses a target
        out["ramp"] = {}
        for mult in o.ramp:
            rate = o.hall_rate * mult
            await self._top_up(server, rate)
            step = await self._phase(server, meter, rate, workers)
            out["ramp"][f"{rate:g}"] = {k: step[k] for k in RAMP_KEYS}
            if not meets(step):
                break
        return out

    async def _phase(
        self, server: stage.ServerProcess, meter: ProvinceMeter, rate: float, workers: int
    ) -> dict[str, Any]:
        """`duration` seconds of every hall at `rate` commands/s, every arrival timed, then every
        display waited for until it reached its hall's head."""
        o = self.o
        name = f"{o.halls} halls x {rate:g} cmd/s, {workers} worker(s)"
        quiet = await self._quiet(meter) if o.wait_quiet else None
        if o.server_nice:
            meter.renice(o.server_nice)
        gen0 = await self._generator_cpu()
        gen0_each = self._gen_each
        m0 = meter.mark()
        await asyncio.gather(*(d.call("begin", record=True) for d in self.displays))
        t_begin = await asyncio.gather(
            *(w.call("begin", mode="rate", rate=rate, per_hall=True) for w in self.windows)
        )
        await self._tick(name, o.duration, meter)
        wres = await asyncio.gather(*(w.call("end") for w in self.windows))
        m1 = meter.mark()
        gen1 = await self._generator_cpu()
        wall = max(r["t"] for r in wres) - max(t_begin)
        ok = sum(r["ok"] for r in wres)
        errors: dict[str, int] = {}
        for r in wres:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        out: dict[str, Any] = {
            "hall_rate": rate,
            "waited_for_quiet_s": quiet,
            "seconds": round(wall, 2),
            "commands": ok,
            "commands_per_s": round(ok / wall, 1),
            "offered_per_s": rate * len(self.halls),
            "missed_ticks": sum(r["missed_ticks"] for r in wres),
            "errors": errors,
            "http_p50_ms": _ms(max(r["http_p50"] for r in wres)),
            "http_p99_ms": _ms(max(r["http_p99"] for r in wres)),
            **ProvinceMeter.between(m0, m1, gen1 - gen0),
        }
        out["generator_cpu_pct_by_process"] = {
            w.name: round(100 * (w.cpu - c) / (m1["t"] - m0["t"]), 1)
            for w, c in zip(self.windows + self.displays, gen0_each)
        }
        self.progress("waiting for every display to reach its hall's head ...")
        heads = await self._heads(server)
        waited = await asyncio.gather(
            *(d.call("wait_heads", heads=heads, timeout=60) for d in self.displays)
        )
        # the display workers' counters are cumulative: this phase's are the difference
        totals = {
            "lost": sum(r["lost"] + r["behind"] for r in waited),
            "duplicated": sum(r["dup"] + r["ahead"] for r in waited),
            "protocol_mismatch": sum(r["mismatch"] for r in waited),
            "reconnects": sum(r["reconnects"] for r in waited),
        }
        out.update({k: v - self._totals[k] for k, v in totals.items()})
        self._totals = totals
        out["settle_s"] = round(max(r["waited"] for r in waited), 2)
        out["closed"] = sum(r["closed"] for r in waited)
        sends: dict[int, dict[int, float]] = {}
        for r in wres:
            for hall_id, sent in r["sends"].items():
                sends.setdefault(int(hall_id), {}).update(sent)
        out.update(await self._latency(sends))
        await asyncio.gather(*(d.call("end") for d in self.displays))
        left = await asyncio.gather(*(w.call("idle") for w in self.windows))
        if sum(left):
            self.note(f"{sum(left)} windows not back to idle after the run")
        self._print(name, out)
        return out

    async def _quiet(self, meter: ProvinceMeter) -> float:
        """Waits (at most wait_quiet seconds) until whatever else runs on the machine (other
        people's tests on a shared machine) used under QUIET_PCT for two looks of 2 s in a row;
        the seconds waited."""
        t0 = time.monotonic()
        calm = 0
        while calm < 2 and time.monotonic() - t0 < self.o.wait_quiet:
            gen0 = await self._generator_cpu()
            m0 = meter.mark()
            await asyncio.sleep(2.0)
            m1 = meter.mark()
            other = ProvinceMeter.between(m0, m1, await self._generator_cpu() - gen0)
            calm = calm + 1 if (other["other_cpu_pct"] or 0) < QUIET_PCT else 0
            self.progress(
                f"waiting for a quiet machine: others use {other['other_cpu_pct']:.0f} % "
                f"({time.monotonic() - t0:.0f} s)",
                True,
            )
        self.progress("", True)
        waited = round(time.monotonic() - t0, 1)
        if calm < 2:
            self.note(f"the machine was not quiet within {self.o.wait_quiet:.0f} s")
        return waited

    async def _generator_cpu(self) -> float:
        await asyncio.gather(*(w.call("ping") for w in self.windows + self.displays))
        self._gen_each = [w.cpu for w in self.windows + self.displays]
        return sum(self._gen_each)

    async def _tick(self, name: str, seconds: float, meter: ProvinceMeter) -> None:
        t0 = time.monotonic()
        last = meter.mark()
        while (left := seconds - (time.monotonic() - t0)) > 0:
            await asyncio.sleep(min(1.0, left))
            now = meter.mark()
            wall = now["t"] - last["t"]
            self.progress(
                f"{name}: {time.monotonic() - t0:5.1f}/{seconds:.0f} s  server CPU "
                f"{100 * (now['server'] - last['server']) / wall:4.0f} %",
                True,
            )
            last = now
        self.progress("", True)

    async def _latency(self, sends: dict[int, dict[int, float]]) -> dict[str, Any]:
        res = await asyncio.gather(*(d.call("latencies", sends=sends) for d in self.displays))
        values, every = merge_latencies(res, sends, self.subs_of_hall)
        return {
            "events": sum(len(s) for s in sends.values()),
            "events_complete": len(every),
            "deliveries_timed": len(values),
            "p50_ms": _ms(percentile(values, 0.50)),
            "p99_ms": _ms(percentile(values, 0.99)),
            "max_ms": _ms(values[-1] if values else None),
            "every_display_p50_ms": _ms(percentile(every, 0.50)),
            "every_display_p99_ms": _ms(percentile(every, 0.99)),
            "every_display_max_ms": _ms(every[-1] if every else None),
        }

    def _print(self, name: str, r: dict[str, Any]) -> None:
        if self.o.quiet:
            return
        self.progress(
            f"{name}: {r['commands_per_s']} cmd/s, every display p50/p99/max "
            f"{r['every_display_p50_ms']}/{r['every_display_p99_ms']}/{r['every_display_max_ms']} "
            f"ms, lost {r['lost']}, CPU server {r['server_cpu_pct']} % PG {r['pg_cpu_pct']} % "
            f"Redis {r['redis_cpu_pct']} % clients {r['generator_cpu_pct']} %"
        )


async def machine_busy(seconds: float) -> float:
    """CPU % (of 100 per core) the whole machine used during `seconds`."""

    def busy() -> float:
        t = psutil.cpu_times()
        return sum(
            getattr(t, f, 0.0) for f in ("user", "system", "nice", "irq", "softirq", "steal")
        )

    b0, t0 = busy(), time.monotonic()
    await asyncio.sleep(seconds)
    return round(100 * (busy() - b0) / (time.monotonic() - t0), 1)


def meets(r: dict[str, Any]) -> bool:
    """The targets: nothing lost, the rate kept, every display within the p99 bound."""
    p99 = r.get("every_display_p99_ms")
    return (
        r["lost"] == 0
        and r["duplicated"] == 0
        and r["commands_per_s"] >= 0.95 * r["offered_per_s"]
        and p99 is not None
        and p99 <= TARGETS["every_display_p99_ms"]
    )


def displays_per_worker(meter: ProvinceMeter, port: int) -> dict[str, int]:
    """The server side of the connections on the port, per server process."""
    out: dict[str, int] = {}
    for p in meter.server_procs():
        try:
            n = sum(
                1
                for c in p.net_connections(kind="tcp")
                if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if n:
            out[str(p.pid)] = n
    return out


def raise_nofile(displays: int) -> dict[str, int]:
    """Every display is a socket in a client process and one in the server: the soft limit of
    open files goes up to the hard one (the processes started after inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 2 * displays + 1024)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < displays + 1024:
        raise SystemExit(
            f"open files limit {soft} (hard {hard}) is too low for {displays} displays on one "
            "server process: raise it (ulimit -n)"
        )
    return {"soft": soft, "hard": hard}


def _ms(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(x * 1000, 1)


# ------------------------------------------------------------------------ summary & table
def summarize(result: dict[str, Any]) -> dict[str, Any]:
    runs = result["runs"]
    s: dict[str, Any] = {}
    verdict: dict[str, bool] = {}
    for key, r in runs.items():
        verdict[f"lost_{key}"] = r["lost"] == 0 and r["duplicated"] == 0
        p99 = r.get("every_display_p99_ms")
        if p99 is not None:
            verdict[f"p99_{key}"] = p99 <= TARGETS["every_display_p99_ms"]
        verdict[f"rate_{key}"] = r["commands_per_s"] >= 0.95 * r["offered_per_s"]
    if "1" in runs and len(runs) > 1:
        one, many = runs["1"], runs[max(runs, key=int)]
        s["server_cpu_1_to_n"] = (one["server_cpu_pct"], many["server_cpu_pct"])
        if one.get("every_display_p99_ms") and many.get("every_display_p99_ms"):
            s["p99_ratio_n_over_1"] = round(
                many["every_display_p99_ms"] / one["every_display_p99_ms"], 2
            )
    s["pass"] = verdict
    return s


def _f(x: Any, fmt: str = "{:,.1f}") -> str:
    return _figure(x, fmt)  # one decimal: the province's figures are milliseconds


def table(result: dict[str, Any]) -> str:
    c = result["config"]
    f = result.get("facts", {})
    runs = result["runs"]
    lines = [
        (
            f"hallops bench, a province: {c['halls']} halls x {c['windows']} windows, "
            f"{c['displays']:,} displays, {c['hall_rate']:g} commands/s per hall, "
            f"{c['duration']:.0f} s per run, Redis bus"
        ),
        (
            f"machine: {f.get('nproc')} x {f.get('cpu_model')}, {f.get('memory_gb')} GB, "
            f"PostgreSQL {f.get('postgresql')}, load average at start "
            f"{', '.join(f'{x:.2f}' for x in f.get('loadavg_at_start', ()))}"
        ),
        "",
    ]
    rows = [
        (
            "commands/s achieved (offered)",
            lambda r: f"{r['commands_per_s']} ({r['offered_per_s']:g})",
        ),
        ("command HTTP p50 / p99 ms", lambda r: f"{_f(r['http_p50_ms'])} / {_f(r['http_p99_ms'])}"),
        (
            "command -> display p50 / p99 / max ms",
            lambda r: f"{_f(r['p50_ms'])} / {_f(r['p99_ms'])} / {_f(r['max_ms'])}",
        ),
        (
            "... every display had it p50/p99/max",
            lambda r: (
                f"{_f(r['every_display_p50_ms'])} / {_f(r['every_display_p99_ms'])} / "
                f"{_f(r['every_display_max_ms'])}"
            ),
        ),
        (
            "commands refused or failed",
            lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())) or "0",
        ),
        ("events lost / duplicated", lambda r: f"{r['lost']} / {r['duplicated']}"),
        ("displays dropped and back", lambda r: f"{r['reconnects']}"),
        ("displays connected in s", lambda r: f"{r['connect_s']}"),
        ("CPU % machine before the run (idle bench)", lambda r: _f(r["busy_before_pct"], "{:.0f}")),
        (
            "connections per server process",
            lambda r: " + ".join(str(v) for v in r["displays_per_worker"].values()),
        ),
        ("/metrics live clients", lambda r: f"{r['metrics']['live_clients']:,}"),
        ("CPU % server (all workers)", lambda r: _f(r["server_cpu_pct"], "{:.0f}")),
        ("CPU % PostgreSQL", lambda r: _f(r["pg_cpu_pct"], "{:.0f}")),
        ("CPU % Redis", lambda r: _f(r["redis_cpu_pct"], "{:.0f}")),
        ("CPU % load generator", lambda r: _f(r["generator_cpu_pct"], "{:.0f}")),
        ("CPU % other (the rest of the machine)", lambda r: _f(r["other_cpu_pct"], "{:.0f}")),
        ("CPU % machine (of 200)", lambda r: _f(r["machine_busy_pct"], "{:.0f}")),
        ("server RSS MB (all)", lambda r: _f(r["server_rss_mb"], "{:.0f}")),
    ]
    keys = sorted(runs, key=int)
    lines.append(
        f"{'':40}" + "".join(f"{k + ' worker' + ('s' if k != '1' else ''):>24}" for k in keys)
    )
    for label, fn in rows:
        lines.append(f"{label:40}" + "".join(f"{fn(runs[k]):>24}" for k in keys))
    for k in keys:
        for rate, step in runs[k].get("ramp", {}).items():
            lines.append(
                f"{k} worker(s) at {rate} cmd/s per hall: {step['commands_per_s']} of "
                f"{step['offered_per_s']:g} cmd/s, every display p50/p99 "
                f"{_f(step['every_display_p50_ms'])} / {_f(step['every_display_p99_ms'])} ms, "
                f"lost {step['lost']}, CPU server {_f(step['server_cpu_pct'], '{:.0f}')} PG "
                f"{_f(step['pg_cpu_pct'], '{:.0f}')} clients "
                f"{_f(step['generator_cpu_pct'], '{:.0f}')} other "
                f"{_f(step['other_cpu_pct'], '{:.0f}')} %"
            )
    v = result.get("summary", {}).get("pass", {})
    lines.append("")
    for k in keys:
        lines.append(
            f"{k} worker(s): 0 lost {'PASS' if v.get(f'lost_{k}') else 'MISS'}, every-display p99 "
            f"<= {TARGETS['every_display_p99_ms']:.0f} ms {'PASS' if v.get(f'p99_{k}') else 'MISS'}, "
            f"offered rate kept {'PASS' if v.get(f'rate_{k}') else 'MISS'}"
        )
    for n in result.get("notes", []):
        lines.append(f"note: {n}")
    return "\n".join(lines)


def main(opts: ProvinceOptions, as_json: bool = False) -> int:
    progress = stderr_progress(opts.quiet)

    async def go() -> dict[str, Any]:
        return await Province(opts, progress).run()

    return run_and_report(go, as_json, table)


__all__ = ["Province", "ProvinceOptions", "main"]
