"""`run.py faults {redis,postgres,storm,soak,all}`: the long versions of the fault tests (issue
12), each printing what it measured and what it checked.

Each scenario runs its own servers (`run.py serve` processes) on a throwaway database: a new
database on DATABASE_URL's server, else an embedded PostgreSQL in a temporary directory;
dropped afterwards. `redis` needs REDIS_URL (the servers reach it through the harness's proxy;
the machine's Redis itself is never stopped). `postgres` also runs a private PostgreSQL of its
own (the machine's binaries, /usr/lib/postgresql/*/bin or HALLOPS_PG_BINDIR) that it really
crashes, stops and freezes. This module stays import-light: run.py builds its parser at start."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

SCENARIOS = ("redis", "postgres", "storm", "soak")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[0]
    p.add_argument("scenario", choices=(*SCENARIOS, "all"), help="which fault (all: each in turn)")
    p.add_argument(
        "--outage",
        type=float,
        default=30.0,
        help="redis: seconds Redis is down, then frozen; postgres: seconds the private "
        "PostgreSQL is stopped, then frozen (default 30)",
    )
    p.add_argument(
        "--displays",
        type=int,
        default=1000,
        help="storm and soak: displays connected (default 1000)",
    )
    p.add_argument(
        "--rate", type=float, default=10.0, help="redis, storm: clerks' commands/s (default 10)"
    )
    p.add_argument(
        "--speed",
        type=float,
        default=120.0,
        help="soak: simulated seconds per real second (default 120: a day in ~4.5 min)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=60.0,
        help="soak: real seconds of a simulated morning before the first sample (default 60)",
    )
    p.add_argument(
        "--soak-windows",
        type=int,
        default=None,
        help="soak: staff only the first N windows (default all 130)",
    )
    p.add_argument(
        "--no-private",
        action="store_true",
        help="postgres: only the crash through the proxy, no private PostgreSQL",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _print_figures(figures: dict[str, Any], indent: str = "  ") -> None:
    for key, value in figures.items():
        if key == "series":  # the soak's samples: in the JSON, too long for a line
            print(f"{indent}{key}: {len(value)} samples (--json)")
            continue
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            print(f"{indent}{key}:")
            _print_figures(value, indent + "  ")
        elif isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
            print(f"{indent}{key}: {inner}")
        else:
            print(f"{indent}{key}: {value}")


def print_result(res: Any, seconds: float) -> None:
    print(f"\n== faults {res.name}: {'PASS' if res.ok else 'FAIL'} ({seconds:.0f} s)")
    _print_figures(res.figures)
    for name, (ok, text) in res.checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {text}")
    for note in res.notes:
        print(f"  note: {note}")


async def _one(name: str, args: argparse.Namespace, database_url: str | None, progress) -> Any:
    from server.bench.stage import throwaway_database
    from server.faults.common import Result

    redis_url = args.redis_url or os.environ.get("REDIS_URL")
    if name == "redis" and not redis_url:
        res = Result("redis")
        res.check("redis_url", False, "needs REDIS_URL (or --redis-url): the servers share it")
        return res
    async with throwaway_database(database_url, progress) as dsn:
        if name == "redis":
            from server.faults.redis_outage import RedisOptions, redis_outage

            return await redis_outage(
                dsn, redis_url or "", RedisOptions(outage=args.outage, rate=args.rate), progress
            )
        if name == "postgres":
            from server.faults.postgres import PostgresOptions, postgres_faults

            opts = PostgresOptions(outage=args.outage, private=not args.no_private)
            if opts.private:
                from server.faults.pgprivate import PrivatePostgres, Unavailable

                try:
                    PrivatePostgres.check()
                except Unavailable as exc:
                    opts.private = False
                    progress(f"no private PostgreSQL: {exc}")
            res = await postgres_faults(dsn, opts, progress)
            if not opts.private and not args.no_private:
                res.notes.append("the private PostgreSQL's faults were not run (see above)")
            return res
        if name == "storm":
            from server.faults.storm import StormOptions, storm

            return await storm(dsn, StormOptions(displays=args.displays, rate=args.rate), progress)
        from server.faults.soak import SoakOptions, soak

        return await soak(
            dsn,
            SoakOptions(
                displays=args.displays,
                speed=args.speed,
                warmup=args.warmup,
                windows=args.soak_windows,
            ),
            progress,
        )


def main(args: argparse.Namespace) -> int:
    def progress(text: str) -> None:
        if not args.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    database_url = args.database_url or os.environ.get("DATABASE_URL") or None
    names = SCENARIOS if args.scenario == "all" else (args.scenario,)
    results = []
    for name in names:
        t0 = time.monotonic()
        progress(f"faults {name} ...")
        try:
            import uvloop

            res = uvloop.run(_one(name, args, database_url, progress))
        except ImportError:  # pragma: no cover
            res = asyncio.run(_one(name, args, database_url, progress))
        seconds = time.monotonic() - t0
        res.figures["seconds"] = round(seconds)
        results.append(res)
        if not args.json:
            print_result(res, seconds)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    return 0 if all(r.ok for r in results) else 1
