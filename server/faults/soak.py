"""A soak: a simulated day at high speed with many displays connected (issue 12).

One `run.py serve` process (timers on, as deployed) and N displays (plain feeds, a share on
Socket.IO) connected from client processes. The day simulator (server/simulate.py: citizens at
the kiosks, every clerk calling, serving, transferring, making cases; through the public API)
first plays a warm-up, then a whole day at `speed`. The server's resources are sampled after
the warm-up and after the day, each time with the hall quiet and every display at the head:
its RSS, its open files (/proc/<pid>/fd), its asyncio tasks (/healthz) and its database
connections (pg_stat_activity, the app role on this database); and every `sample_every`
seconds in between.

Checked: flat at the end: RSS within +`rss_growth` of the warm-up's, open files, tasks and
connections back to the warm-up's level within a small slack; every display exact (no event
lost or twice, at the head)."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import psutil

from server.bench import stage
from server.bench.control import Worker
from server.faults.common import (
    Progress,
    Result,
    display_targets,
    hall_head,
    load_note,
    log_noise,
    owner_connection,
    quiet,
    server_resources,
)
from server.faults.storm import StormDisplays
from server.settings import Settings


@dataclass
class SoakOptions:
    displays: int = 1000
    sio_share: float = 0.1
    speed: float = 120.0  # simulated seconds per real second
    windows: int | None = None  # staff only the first N windows (default all 130)
    per_day: int | None = None  # registrations in the day (default the simulator's)
    warmup: float = 60.0  # real seconds of a simulated morning before the first sample
    settle: float = 5.0  # seconds of quiet before each sample
    sample_every: float = 5.0
    day_start: str = "08:55"
    rss_growth: float = 0.10
    fd_slack: int = 5
    task_slack: int = 5
    conn_slack: int = 2
    seed: int = 1
    procs: int = 0  # display client processes (default one per 250)


async def _day(server: stage.ServerProcess, o: SoakOptions, duration: float | None, seed: int):
    from server.simulate import Options, Simulation

    opts = Options(
        hall=stage.CITY,
        speed=o.speed,
        url=server.url,
        duration=duration,
        start=o.day_start,
        per_day=o.per_day,
        windows=o.windows,
        kiosk_per_minute=float(stage.PREFILL_KIOSK_PER_MINUTE),
        kiosk_burst=stage.PREFILL_KIOSK_PER_MINUTE,
        seed=seed,
        quiet=True,
    )
    t0 = time.monotonic()
    stats = await Simulation(opts).run()
    return stats, time.monotonic() - t0


async def soak(dsn: str, o: SoakOptions, progress: Progress = quiet) -> Result:
    res = Result("soak")
    server = stage.ServerProcess(dsn)
    workers: list[Worker] = []
    conn = await owner_connection(dsn)
    role = Settings(secret="-").db_app_role
    samples: list[dict[str, Any]] = []
    try:
        progress(f"starting the server on port {server.port} ...")
        await server.start()
        assert server.pid is not None
        res.notes.append(load_note())
        await stage.keep_hall_open(conn)
        hall = await stage.hall_info(conn, stage.CITY, 1)
        await stage.db_sessions(conn, hall)
        n_procs = o.procs or max(1, math.ceil(o.displays / 250))
        workers = [Worker(StormDisplays, f"soak-displays-{i}") for i in range(n_procs)]
        await asyncio.gather(*(w.call("fd_limit") for w in workers))
        n_sio = round(o.displays * o.sio_share)
        since = await hall_head(conn, hall.id)
        targets = display_targets(hall, since, o.displays - n_sio, n_sio)
        progress(f"connecting {o.displays} displays ({n_sio} on Socket.IO) ...")
        done = await asyncio.gather(
            *(
                w.call("connect", host=server.host, port=server.port, targets=targets[i::n_procs])
                for i, w in enumerate(workers)
            )
        )
        if sum(d["failed"] for d in done):
            raise RuntimeError(f"displays failed to connect: {done[0]['errors']}")

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

            async def sample(label: str) -> dict[str, Any]:
                s = await server_resources(server.pid or 0, server.url, conn, role, http)
                s["label"] = label
                s["t"] = round(time.monotonic() - t_start, 1)
                samples.append(s)
                return s

            async def quiet_sample(label: str) -> dict[str, Any]:
                heads = {hall.id: await hall_head(conn, hall.id)}
                await asyncio.gather(
                    *(w.call("wait_heads", heads=heads, timeout=30.0) for w in workers)
                )
                await asyncio.sleep(o.settle)
                return await sample(label)

            t_start = time.monotonic()
            progress(f"warm-up: {o.warmup:.0f} s of a simulated morning at x{o.speed:g} ...")
            warm, warm_s = await _day(server, o, o.warmup, o.seed)
            first = await quiet_sample("after warm-up")

            async def every() -> None:
                while True:
                    await asyncio.sleep(o.sample_every)
                    await sample("during the day")

            progress(f"the day ({o.day_start} to 17:30) at x{o.speed:g} ...")
            proc = psutil.Process(server.pid)
            cpu0 = sum(proc.cpu_times()[:2])
            sampler = asyncio.create_task(every())
            try:
                day, day_s = await _day(server, o, None, o.seed + 1)
            finally:
                sampler.cancel()
                await asyncio.gather(sampler, return_exceptions=True)
            day_cpu = (sum(proc.cpu_times()[:2]) - cpu0) / max(day_s, 1e-6)
            last = await quiet_sample("after the day")

        heads = {hall.id: await hall_head(conn, hall.id)}
        final = await asyncio.gather(
            *(w.call("wait_heads", heads=heads, timeout=30.0) for w in workers)
        )
        bad = {k: sum(f[k] for f in final) for k in ("behind", "ahead", "lost", "dup", "mismatch")}
        peak = {k: max(s[k] for s in samples) for k in ("rss_mb", "fds", "tasks", "db_connections")}
        res.figures.update(
            displays={"feed": o.displays - n_sio, "sio": n_sio},
            speed=o.speed,
            warmup={"real_s": round(warm_s, 1), "registered": warm.registered, "cases": warm.cases},
            day={
                "real_s": round(day_s, 1),
                "registered": day.registered,
                "served": day.served,
                "cases": day.cases,
                "completed": day.completed,
                "server_cpu": round(day_cpu, 2),  # cores, on average
                "simulator_errors": day.errors,
                "simulator_error_codes": day.error_codes,
            },
            events=heads[hall.id] - since,
            reconnects=sum(f["reconnects"] for f in final),
            after_warmup=first,
            after_day=last,
            peak=peak,
            samples=len(samples),
            # every sample: seconds since the start, RSS MB, open files, tasks, connections
            series=[
                [s["t"], s["rss_mb"], s["fds"], s["tasks"], s["db_connections"]] for s in samples
            ],
        )
        res.check(
            "rss_flat",
            last["rss_mb"] <= first["rss_mb"] * (1 + o.rss_growth),
            f"RSS {first['rss_mb']} MB after the warm-up, {last['rss_mb']} MB after the day "
            f"(peak {peak['rss_mb']} MB; bound +{o.rss_growth:.0%})",
        )
        for key, slack, what in (
            ("fds", o.fd_slack, "open files"),
            ("tasks", o.task_slack, "asyncio tasks"),
            ("db_connections", o.conn_slack, "database connections"),
        ):
            res.check(
                f"{key}_flat",
                last[key] <= first[key] + slack,
                f"{what}: {first[key]} after the warm-up, {last[key]} after the day "
                f"(peak {peak[key]}; slack {slack})",
            )
        res.check(
            "displays_exact",
            not any(bad.values()) and sum(f["closed"] for f in final) == 0,
            f"{o.displays} displays after the day: behind {bad['behind']}, beyond the head "
            f"{bad['ahead']}, lost {bad['lost']}, duplicated {bad['dup']}, protocol "
            f"mismatches {bad['mismatch']}",
        )
        res.check(
            "day_played",
            day.served > 0 and day.registered > 0,
            f"the day: {day.registered} registered, {day.served} served, {day.cases} cases, "
            f"{day.errors} simulator errors {day.error_codes}",
        )
        return res
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        await server.stop()
        res.figures["server_log"] = log_noise(server.log_path)
        if res.ok:
            server.cleanup_files()
        else:
            res.notes.append(f"server log kept: {server.log_path}")
        await conn.close()
