#!/usr/bin/env python3
"""hallops — the one entry point.

  python run.py [serve]      migrate, seed the demo hall if the database is empty, serve
  python run.py migrate      apply pending database migrations
  python run.py seed-demo    load the demo hall into an empty database
  python run.py calendar-import --hall CODE FILE
                             load a year's holiday notice (JSON, docs/calendar.md) into a hall
  python run.py simulate     play a realistic day against a running server (--speed 60)
  python run.py bench        measure: durable commands/s, fan-out, latency (own server)

With no DATABASE_URL an embedded PostgreSQL is started under var/pg (kept across runs);
with no REDIS_URL events travel in-process (one server process)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from datetime import datetime

from server.settings import Settings, ensure_secret, from_env

log = logging.getLogger("hallops")


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The DSN to use: DATABASE_URL, or an embedded PostgreSQL for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    from db.pool import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.data_dir)
    print(f"starting embedded PostgreSQL in {embedded.path} ...", flush=True)
    dsn = embedded.start()
    try:
        yield dsn
    finally:
        embedded.stop()
        print("embedded PostgreSQL stopped", flush=True)


async def prepare_database(dsn: str, settings: Settings, seed: bool = True) -> None:
    """Migrate (and seed) as the owner of the tables: `dsn` is the owner's."""
    import asyncpg

    from db.migrate import migrate
    from db.pool import _init_connection
    from server import demo_hall

    conn = await asyncpg.connect(dsn)
    try:
        await _init_connection(conn)
        applied = await migrate(conn, settings.db_app_role, settings.db_app_password)
        if applied:
            print(f"applied migrations: {', '.join(applied)}", flush=True)
        if seed and not await demo_hall.is_seeded(conn):
            summary = await demo_hall.seed_demo(conn)
            print(f"seeded the demo hall: {summary.get('counts', summary)}", flush=True)
    finally:
        await conn.close()


def print_banner(settings: Settings) -> None:
    from server import demo_hall

    base = f"http://{settings.host}:{settings.port}"
    print(f"\nhallops is serving on {base}\n", flush=True)
    print("Screens:")
    for path, what in [
        ("/", "start page"),
        ("/kiosk", "self-service kiosk"),
        ("/window", "window terminal"),
        ("/display", "lobby display"),
        ("/leader", "leader on duty"),
        ("/supervision", "supervision office"),
        ("/queue", "public queue status"),
        ("/track", "case tracking"),
        ("/reports", "reports"),
        ("/healthz", "health"),
        ("/api/openapi.json", "HTTP API (OpenAPI 3)"),
        ("/ws/display", "LED feed (WebSocket)"),
    ]:
        print(f"  {base}{path:<20} {what}")
    print("\nDemo logins (demo only; never use these passwords elsewhere):")
    for login in demo_hall.demo_logins():
        extra = login.get("note", "")
        print(f"  {login['role']:<11} {login['username']:<22} {login['password']:<16} {extra}")
    print("\nCtrl-C stops the server.", flush=True)


def server_dsn(settings: Settings, owner_dsn: str) -> str:
    """The server's DSN: it connects as the app role, which cannot alter the tables nor change
    the audit trail or the event log, never as their owner."""
    from db.pool import app_dsn

    if settings.app_database_url:
        return settings.app_database_url
    return app_dsn(owner_dsn, settings.db_app_role, settings.db_app_password)


async def serve(settings: Settings, dsn: str, seed: bool = True, worker: bool = False) -> None:
    """One server process. A worker of `serve --workers N` shares the port with its siblings
    (SO_REUSEPORT: the kernel spreads the connections) and leaves the database's preparation,
    the warnings and the banner to the supervisor."""
    from aiohttp import web

    from server.app import create_app

    if not worker:
        await prepare_database(dsn, settings, seed=seed)
    app = create_app(settings, server_dsn(settings, dsn))
    # Open connections are closed at shutdown; 5 s is what a straggler gets, not aiohttp's 60.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    if not worker:
        await warn_calendar_gaps(app)
        warn_public_url(settings)
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=worker or None)
    await site.start()
    if worker:
        log.info("worker %d serving on %s:%d", os.getpid(), settings.host, settings.port)
    else:
        print_banner(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("\nstopping ...", flush=True)
        await runner.cleanup()


RESTART_BACKOFF = (1.0, 30.0)  # a worker that died is started again after 1 s, at most 30 s


def supervise(settings: Settings, dsn: str, workers: int, seed: bool) -> int:
    """`serve --workers N`: prepares the database once, then runs N worker processes on one
    port, sharing PostgreSQL and Redis (events between them travel through Redis; each hall's
    timers are owned by exactly one of them through an advisory lock). A worker that dies is
    started again; SIGINT or SIGTERM stops them all."""
    import shutil
    import subprocess
    import tempfile
    import time

    from server import metrics

    if not settings.redis_url:
        log.error(
            "serve --workers %d needs REDIS_URL: events travel between them through Redis", workers
        )
        return 2
    _run(prepare_database(dsn, settings, seed=seed))
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "REDIS_URL": settings.redis_url,
        "HALLOPS_SECRET": settings.secret,  # one secret for the deployment's socket tickets
        "HALLOPS_HOST": settings.host,
        "HALLOPS_PORT": str(settings.port),
    }
    # /metrics answers for every worker, whichever the kernel hands the scrape to: the workers
    # keep their values in files of one directory (server/metrics.py), fresh for this start
    metrics_dir = os.environ.get(metrics.MULTIPROC_ENV)
    temporary = not metrics_dir
    if metrics_dir:
        os.makedirs(metrics_dir, exist_ok=True)
        metrics.clear_dir(metrics_dir)
    else:
        metrics_dir = tempfile.mkdtemp(prefix="hallops-metrics-")
    env[metrics.MULTIPROC_ENV] = metrics_dir
    argv = [sys.executable, os.path.abspath(__file__), "serve", "--worker", "--no-seed"]
    procs: list[subprocess.Popen] = [subprocess.Popen(argv, env=env) for _ in range(workers)]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print_banner(settings)
    print(f"{workers} worker processes: {', '.join(str(p.pid) for p in procs)}", flush=True)
    backoff = RESTART_BACKOFF[0]
    while not stopping:
        time.sleep(0.2)
        for i, p in enumerate(procs):
            if p.poll() is not None and not stopping:
                log.error(
                    "worker %d exited with %s; starting another in %.0f s",
                    p.pid,
                    p.returncode,
                    backoff,
                )
                metrics.worker_dead(p.pid, metrics_dir)  # its screens are no longer connected
                time.sleep(backoff)
                backoff = min(backoff * 2, RESTART_BACKOFF[1])
                procs[i] = subprocess.Popen(argv, env=env)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if temporary:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def warn_public_url(settings: Settings) -> None:
    """Citizens' phones open the QR code on the acceptance notice: it must name an address they
    can reach. Unset, it is this machine's LAN address, which is right only on a flat LAN."""
    from server.settings import public_base_url

    if not settings.public_url:
        log.warning(
            "HALLOPS_PUBLIC_URL is not set: QR codes and SMS links use %s; set it to the "
            "address citizens reach the hall at (e.g. https://zwfw.example.gov.cn)",
            public_base_url(settings),
        )


async def warn_calendar_gaps(app) -> None:
    """A WARNING line per hall whose calendar has no official holiday data within the next 60
    days (the hall's today from the server's clock): its deadlines would count those holidays
    as working days. /healthz lists the same warnings."""
    from server.domain.calendar_service import coverage_warnings
    from server.domain.holiday_notice import HORIZON_DAYS
    from server.domain.queueing import service_day
    from server.keys import CONTEXT, POOL

    try:
        async with app[POOL].acquire() as conn:
            warnings = await coverage_warnings(conn, service_day(app[CONTEXT].clock()))
    except Exception:  # a warning that cannot be computed must not stop the server
        log.exception("calendar: could not check the halls' calendars")
        return
    for w in warnings:
        log.warning(
            "calendar: hall %s has no official holiday data for %s, needed within %d days; "
            "load the State Council's notice: run.py calendar-import --hall %s FILE (%s)",
            w["hall"],
            ", ".join(w["years"]),
            HORIZON_DAYS,
            w["hall"],
            w["message"],
        )


async def calendar_import(
    settings: Settings, dsn: str, hall_code: str, path: str, now: datetime | None = None
) -> int:
    """Loads a holiday notice file into a hall's calendar as the system actor, through the same
    checks and the same write as the HTTP command calendar.import (audited under that name, one
    calendar.year_loaded event). Connects as the server does (the app role). With REDIS_URL the
    event is published to the running servers; without, they read it from the log at their
    next poll. Returns the exit status."""
    import json

    import orjson

    from db.pool import create_pool
    from realtime.bus import create_bus
    from server.domain import calendar_service
    from server.domain.actor import system_actor
    from server.domain.errors import DomainError
    from server.domain.hall import get_hall
    from server.domain.holiday_notice import parse_notice
    from server.domain.queueing import TZ
    from server.domain.store import Store

    try:
        raw = orjson.loads(await asyncio.to_thread(_read_bytes, path))
    except (OSError, orjson.JSONDecodeError) as exc:
        print(f"calendar-import: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    bus = create_bus(settings.redis_url, settings.redis_channel)
    pool = await create_pool(server_dsn(settings, dsn), 2)
    try:
        notice = parse_notice(raw)
        store = Store(pool, bus.publish)
        async with store.read() as conn:
            hall = await get_hall(conn, hall_code)
        async with store.command(system_actor(hall.id), "calendar.import") as tx:
            tx.detail.update(hall=hall.code, file=os.path.basename(path))
            data = await calendar_service.load_notice(tx, hall, notice, now or datetime.now(TZ))
    except DomainError as exc:
        print(
            f"calendar-import: refused, nothing written: {exc.code}"
            + (f" ({exc.field})" if exc.field else "")
            + f": {exc.message}",
            file=sys.stderr,
        )
        return 1
    finally:
        await pool.close()
        await bus.close()
    print(json.dumps({**data, "seq": [r.seq for r in tx.records]}, ensure_ascii=False, indent=2))
    return 0


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _run(coro) -> None:
    try:
        import uvloop  # ~25 % more durable commands per second than the default loop here

        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL DSN (env DATABASE_URL; default: embedded)"
    )
    parser.add_argument("--redis-url", help="Redis URL (env REDIS_URL; default: in-process bus)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve_p = sub.add_parser(
        "serve", help="serve the API, the screens and the live feeds (default)"
    )
    serve_p.add_argument("--host", help="listen address (env HALLOPS_HOST, default 127.0.0.1)")
    serve_p.add_argument("--port", type=int, help="port (env HALLOPS_PORT, default 8080)")
    serve_p.add_argument("--no-seed", action="store_true", help="do not seed the demo hall")
    serve_p.add_argument(
        "--workers",
        type=int,
        help="server processes on the one port, sharing PostgreSQL and Redis (env "
        "HALLOPS_WORKERS, default 1; more than 1 needs REDIS_URL)",
    )
    serve_p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("seed-demo", help="migrate and load the demo hall if the database is empty")
    import_p = sub.add_parser(
        "calendar-import",
        help="load a year's holiday notice (JSON file, docs/calendar.md) into a hall's calendar",
    )
    import_p.add_argument("--hall", required=True, help="hall code, e.g. rizhao")
    import_p.add_argument(
        "file", help="the notice as JSON, e.g. docs/examples/holiday-notice-2027.json"
    )
    sim_p = sub.add_parser("simulate", help="play a realistic day against a running server")
    from server import simulate

    simulate.add_arguments(sim_p)
    bench_p = sub.add_parser("bench", help="measure the server under load (own server by default)")
    from server.bench import cli as bench_cli

    bench_cli.add_arguments(bench_p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate" and not args.fast:
        from server import simulate

        return simulate.main(args)
    if args.command == "bench":
        from server.bench import cli as bench_cli

        return bench_cli.main(args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from server import logmask

    logmask.install()  # phone and ID numbers never reach the log, from any module
    settings = from_env()
    overrides = {
        k: v
        for k, v in {
            "database_url": args.database_url,
            "redis_url": args.redis_url,
            "host": getattr(args, "host", None),
            "port": getattr(args, "port", None),
        }.items()
        if v
    }
    settings = ensure_secret(settings.with_(**overrides))
    command = args.command or "serve"
    with database(settings) as dsn:
        if command == "serve":
            seed = not getattr(args, "no_seed", False)
            workers = getattr(args, "workers", None) or int(os.environ.get("HALLOPS_WORKERS") or 1)
            if workers > 1 and not getattr(args, "worker", False):
                return supervise(settings, dsn, workers, seed)
            _run(serve(settings, dsn, seed=seed, worker=getattr(args, "worker", False)))
        elif command == "migrate":
            _run(prepare_database(dsn, settings, seed=False))
        elif command == "seed-demo":
            _run(prepare_database(dsn, settings, seed=True))
        elif command == "simulate":  # --fast: in-process, on the database itself
            from server import simulate_fast

            _run(prepare_database(dsn, settings, seed=True))
            return simulate_fast.main(args, server_dsn(settings, dsn))
        elif command == "calendar-import":
            return asyncio.run(calendar_import(settings, dsn, args.hall, args.file))
        else:
            parser.error(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
