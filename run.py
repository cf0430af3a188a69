#!/usr/bin/env python3
"""hallops — the one entry point.

  python run.py [serve]      migrate, seed the demo hall if the database is empty, serve
  python run.py migrate      apply pending database migrations
  python run.py seed-demo    load the demo hall into an empty database
  python run.py init-hall --code CODE --name NAME [--county CODE:NAME ...]
                             create a real hall and its first admin (one-time password)
  python run.py calendar-import --hall CODE FILE
                             load a year's holiday notice (JSON, docs/calendar.md) into a hall
  python run.py simulate     play a realistic day against a running server (--speed 60)
  python run.py backup       pg_dump the database into var/backups/ (docs/deploy.md)
  python run.py restore FILE restore a backup into an empty database, then migrate
  python run.py archive      move the event log's and audit trail's days older than the
                             retention (HALLOPS_RETENTION_MONTHS, 13) into their archive tables
  python run.py bench        measure: durable commands/s, fan-out, latency (own server)
  python run.py faults {redis,postgres,storm,soak,all}
                             Redis or PostgreSQL failing, a reconnect storm, a soak (own
                             servers); prints what it measured and checked

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

from server.settings import Settings, SettingsError, ensure_secret, from_env

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
        # a production database gets the demo only when asked: a real hall starts from init-hall
        seed = seed and (not settings.production or settings.demo)
        if seed and not await demo_hall.is_seeded(conn):
            summary = await demo_hall.seed_demo(conn)
            print(f"seeded the demo hall: {summary.get('counts', summary)}", flush=True)
    finally:
        await conn.close()


async def check_installation(dsn: str, settings: Settings) -> tuple[str | None, bool]:
    """(why a production server must not start, or None; whether the database holds the demo
    halls). A production server refuses while accounts or devices still use the demo's
    published passwords (the README prints them)."""
    import asyncpg

    from db.queries import admin as q

    conn = await asyncpg.connect(dsn)
    try:
        demo = bool(await conn.fetchval(q.DEMO_HALLS))
        live = await conn.fetchval(q.DEMO_CREDENTIALS)
        halls = await conn.fetchval(q.HALL_COUNT)
    finally:
        await conn.close()
    if not settings.production or settings.demo:
        return None, demo
    if live:
        return (
            f"refusing to start: {live} accounts or devices still use the demo's published "
            "passwords. Reset them in /admin (or start a real hall with `run.py init-hall` on an "
            "empty database), or set HALLOPS_DEMO=1 to run the demo on this database."
        ), demo
    if not halls:
        print(
            "this database holds no hall yet: create one with "
            "`python run.py init-hall --code CODE --name NAME`",
            flush=True,
        )
    return None, demo


async def init_hall(settings: Settings, dsn: str, args: argparse.Namespace) -> int:
    """`run.py init-hall`: a real hall from nothing, and its first admin(s), whose one-time
    passwords are printed once here and nowhere else."""
    import asyncpg

    from db.pool import _init_connection
    from db.queries import hall as hall_sql
    from server.demo_hall import seed_calendar
    from server.domain.errors import DomainError
    from server.domain.hall_setup import NewHall
    from server.domain.hall_setup import init_hall as create

    await prepare_database(dsn, settings, seed=False)
    counties = []
    for raw in args.county:
        code, sep, name = raw.partition(":")
        if not sep:
            print(f"--county takes CODE:NAME, not {raw!r}", file=sys.stderr)
            return 2
        counties.append(NewHall(code.strip(), name.strip()))
    conn = await asyncpg.connect(dsn)
    try:
        await _init_connection(conn)
        try:
            created = await create(conn, NewHall(args.code, args.name), counties, args.admin)
        except DomainError as exc:
            print(f"init-hall: {exc.message} ({exc.code})", file=sys.stderr)
            return 1
        year = datetime.now().year
        for c in created:
            hall = await conn.fetchrow(hall_sql.HALL_BY_CODE, c["hall"])
            await seed_calendar(conn, hall["id"], (year, year + 1))
    finally:
        await conn.close()
    print("\nCreated (each password is shown this once; it must be changed at the first login):")
    for c in created:
        print(f"  {c['hall']:<16} {c['name']:<20} admin {c['username']:<20} {c['password']}")
    print(
        "\nNext: `python run.py serve`, log in at /login as the admin, then set up departments,"
        "\nqueues, windows, staff and items in /admin (or import them from spreadsheets).",
        flush=True,
    )
    return 0


def print_banner(settings: Settings, demo: bool) -> None:
    from server import demo_hall, screens

    base = f"http://{settings.host}:{settings.port}"
    print(f"\nhallops is serving on {base}\n", flush=True)
    print("Screens (server/screens.py):")
    for line in screens.banner_lines(base):
        print(line)
    if demo:
        print(
            "\nThis is the DEMO (演示): invented halls, people and cases, whose passwords are"
            "\npublished below. A real hall starts with `run.py init-hall` on a database of its own."
        )
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

    demo = False
    if not worker:
        await prepare_database(dsn, settings, seed=seed)
        refusal, demo = await check_installation(dsn, settings)
        if refusal:
            log.error(refusal)
            raise SystemExit(3)
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
        print_banner(settings, demo)
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
    refusal, demo = _run(check_installation(dsn, settings))
    if refusal:
        log.error(refusal)
        return 3
    _run(warn_at_start(settings, dsn))
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
    print_banner(settings, demo)
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
    can reach. Unset, it is this machine's LAN address, which is right only on a flat LAN, and
    never right when the machine has none (then the links are loopback: said as an error). A
    loopback HALLOPS_PUBLIC_URL got past the settings only with HALLOPS_DEMO=1."""
    from urllib.parse import urlsplit

    from server.settings import is_loopback_host, public_base_url

    base = public_base_url(settings)
    loopback = is_loopback_host(urlsplit(base).hostname or "")
    if settings.public_url and loopback:
        log.warning(
            "HALLOPS_PUBLIC_URL=%s is a loopback address (allowed by HALLOPS_DEMO=1): QR codes "
            "and SMS links open only on this machine, on no citizen's phone",
            base,
        )
    elif not settings.public_url and loopback:
        log.error(
            "HALLOPS_PUBLIC_URL is not set and this machine has no LAN address: QR codes and "
            "SMS links would use %s, which no citizen's phone can open; set HALLOPS_PUBLIC_URL "
            "to the address citizens reach the hall at (e.g. https://zwfw.example.gov.cn)",
            base,
        )
    elif not settings.public_url:
        log.warning(
            "HALLOPS_PUBLIC_URL is not set: QR codes and SMS links use %s; set it to the "
            "address citizens reach the hall at (e.g. https://zwfw.example.gov.cn)",
            base,
        )


async def warn_calendar_gaps(app) -> None:
    """A WARNING line per hall whose calendar has no official holiday data within the next 60
    days (the hall's today from the server's clock): its deadlines would count those holidays
    as working days. /healthz lists the same warnings."""
    from server.keys import CONTEXT, POOL

    async with app[POOL].acquire() as conn:
        await _log_calendar_gaps(conn, app[CONTEXT].clock())


async def warn_at_start(settings: Settings, dsn: str) -> None:
    """`serve --workers N`: the supervisor logs the start-up warnings a single server logs (its
    workers leave them to it), on a connection of its own."""
    import asyncpg

    from server.domain.queueing import TZ

    warn_public_url(settings)
    try:
        conn = await asyncpg.connect(dsn)
    except Exception:  # a warning that cannot be computed must not stop the server
        log.exception("calendar: could not check the halls' calendars")
        return
    try:
        await _log_calendar_gaps(conn, datetime.now(TZ))
    finally:
        await conn.close()


async def _log_calendar_gaps(conn, now: datetime) -> None:
    from server.domain.calendar_service import coverage_warnings
    from server.domain.holiday_notice import HORIZON_DAYS
    from server.domain.queueing import service_day

    try:
        warnings = await coverage_warnings(conn, service_day(now))
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


async def backup_database(settings: Settings, dsn: str, out: str | None, keep: int | None) -> int:
    """run.py backup: the whole database, one consistent pg_dump -Fc, into a file named with
    the time. Returns the exit status (db/backup.py: 0, 1 failed, 2 usage, 3 refused)."""
    import json

    from db.backup import OpsError, backup

    try:
        info = await backup(
            dsn, out, settings.data_dir / "backups", keep=keep, bindir=settings.pg_bindir
        )
    except OpsError as exc:
        print(f"backup: {exc.message}", file=sys.stderr)
        return exc.status
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return 0


async def restore_database(settings: Settings, dsn: str, file: str, force: bool) -> int:
    """run.py restore: the backup into the target database (as its owner), then migrate it
    (the app role and its grants, any migration newer than the backup). Returns the exit
    status."""
    import json

    from db.backup import OpsError, restore, restored_halls
    from db.migrate import AppRoleError, MigrationChanged

    try:
        info = await restore(dsn, file, force=force, bindir=settings.pg_bindir)
    except OpsError as exc:
        print(f"restore: {exc.message}", file=sys.stderr)
        return exc.status
    try:
        await prepare_database(dsn, settings, seed=False)
    except (MigrationChanged, AppRoleError) as exc:
        print(
            f"restore: the data is restored, but migrating it failed: {exc} (a backup made by a "
            f"newer hallops needs that version's code)",
            file=sys.stderr,
        )
        return 1
    print(json.dumps({**info, "halls": await restored_halls(dsn)}, ensure_ascii=False, indent=2))
    return 0


async def archive_logs(settings: Settings, dsn: str, months: int | None) -> int:
    """run.py archive: every hall's events, and the audit lines, of the days before the
    retention move into their archive tables (what the hourly timer job does, all of it at
    once). Connects as the server does. Returns the exit status."""
    import json

    import asyncpg

    from db.backup import OpsError, connect
    from db.pool import _init_connection
    from db.queries import archive as aq
    from server.domain import retention
    from server.domain.queueing import TZ
    from server.settings import MIN_RETENTION_MONTHS

    months = settings.retention_months if months is None else months
    if months < MIN_RETENTION_MONTHS:
        print(
            f"archive: --months {months}: at least {MIN_RETENTION_MONTHS} are kept", file=sys.stderr
        )
        return 2
    before = retention.cutoff(datetime.now(TZ), months)
    try:
        conn = await connect(server_dsn(settings, dsn))
    except OpsError as exc:
        print(f"archive: {exc.message}", file=sys.stderr)
        return exc.status
    try:
        await _init_connection(conn)
        out: dict = {"kept_months": months, "before": before.isoformat(), "halls": [], "audit": 0}
        for hall in await conn.fetch(aq.HALLS):
            moved = await retention.archive(conn, hall["id"], before)
            out["audit"] += moved.audit
            out["halls"].append(
                {
                    "code": hall["code"],
                    "events": moved.events,
                    **await retention.kept(conn, hall["id"]),
                }
            )
    except (OSError, asyncpg.PostgresError) as exc:
        print(
            f"archive: failed, each batch moved is committed, the rest stays: {exc}",
            file=sys.stderr,
        )
        return 1
    finally:
        await conn.close()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _run(coro):
    try:
        import uvloop  # ~25 % more durable commands per second than the default loop here
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


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
    init_p = sub.add_parser(
        "init-hall",
        help="create a real hall (and its county halls) with a first admin each; prints their "
        "one-time passwords once",
    )
    init_p.add_argument("--code", required=True, help="the hall's code, e.g. linyi")
    init_p.add_argument("--name", required=True, help="e.g. 临沂市政务服务中心")
    init_p.add_argument(
        "--county",
        action="append",
        default=[],
        metavar="CODE:NAME",
        help="a county hall of the city (repeat for each)",
    )
    init_p.add_argument("--admin", default="admin", help="the first admin's username")
    import_p = sub.add_parser(
        "calendar-import",
        help="load a year's holiday notice (JSON file, docs/calendar.md) into a hall's calendar",
    )
    import_p.add_argument("--hall", required=True, help="hall code, e.g. rizhao")
    import_p.add_argument(
        "file", help="the notice as JSON, e.g. docs/examples/holiday-notice-2027.json"
    )
    backup_p = sub.add_parser(
        "backup", help="pg_dump -Fc the database into a file named with the time (var/backups/)"
    )
    backup_p.add_argument(
        "--out",
        help="a .dump file, or a directory for the file named with the time (default "
        "HALLOPS_DATA_DIR/backups)",
    )
    backup_p.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="then delete all but the newest N backups in that directory",
    )
    restore_p = sub.add_parser(
        "restore", help="restore a backup into an empty database (refuses one holding a hall)"
    )
    restore_p.add_argument("file", help="a file written by run.py backup")
    restore_p.add_argument(
        "--target",
        metavar="DSN",
        help="the database to restore into, as its owner (default DATABASE_URL / embedded)",
    )
    restore_p.add_argument(
        "--force", action="store_true", help="replace a database that already holds a hall"
    )
    archive_p = sub.add_parser(
        "archive",
        help="move the event log's and the audit trail's days older than the retention into "
        "their archive tables",
    )
    archive_p.add_argument(
        "--months",
        type=int,
        help="months kept (default HALLOPS_RETENTION_MONTHS, 13; at least 6)",
    )
    sim_p = sub.add_parser("simulate", help="play a realistic day against a running server")
    from server import simulate

    simulate.add_arguments(sim_p)
    bench_p = sub.add_parser("bench", help="measure the server under load (own server by default)")
    from server.bench import cli as bench_cli

    bench_cli.add_arguments(bench_p)
    faults_p = sub.add_parser(
        "faults", help="dependencies failing, a reconnect storm, a soak (own servers)"
    )
    from server.faults import cli as faults_cli

    faults_cli.add_arguments(faults_p)
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
    if args.command == "faults":
        from server.faults import cli as faults_cli

        return faults_cli.main(args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from server import logmask

    logmask.install()  # phone and ID numbers never reach the log, from any module
    try:
        settings = from_env()
    except SettingsError as exc:
        print(f"hallops: {exc}", file=sys.stderr)
        return 2
    if args.command == "backup" and args.keep is not None and args.keep < 1:
        parser.error("--keep must be at least 1")
    overrides = {
        k: v
        for k, v in {
            "database_url": getattr(args, "target", None) or args.database_url,
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
        elif command == "init-hall":
            return asyncio.run(init_hall(settings, dsn, args))
        elif command == "calendar-import":
            return asyncio.run(calendar_import(settings, dsn, args.hall, args.file))
        elif command == "backup":
            return asyncio.run(backup_database(settings, dsn, args.out, args.keep))
        elif command == "restore":
            return asyncio.run(restore_database(settings, dsn, args.file, args.force))
        elif command == "archive":
            return asyncio.run(archive_logs(settings, dsn, args.months))
        else:
            parser.error(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
