"""The `bench` sub-command's arguments (kept import-light: run.py builds its parser at start)."""

from __future__ import annotations

import argparse
import os


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Measures one server: durable commands/s (without and with displays), the fan-out to N "
        "display subscribers, command -> display latency at a fixed rate, events lost or "
        "duplicated, server RSS; and in the same run the raw PostgreSQL write ceiling and a raw "
        "aiohttp broadcast to as many sockets. By default it starts its own server (run.py serve "
        "on a free port) on a throwaway database: a new database on DATABASE_URL's server, else an "
        "embedded PostgreSQL in a temp dir; dropped afterwards. `bench cases` measures the "
        "case commands and timeline reads with many open cases in the database instead "
        "(issue 8's targets). `bench reports` measures the reports with a year of a hall's data in "
        "the database (issue 11's targets; it makes the year first where the database has none). "
        "With --workers N it measures a province on one machine instead (issue 12): --halls "
        "city halls, --displays lobby displays spread over them, every hall at --hall-rate "
        "commands/s, served by `serve --workers N` (Redis bus: REDIS_URL), after the same with "
        "one worker for the scaling; e.g. --halls 16 --workers 2 (16 x 130 windows, 10,000 "
        "displays)."
    )
    p.add_argument(
        "mode",
        nargs="?",
        choices=("hall", "cases", "alarms", "reports"),
        default="hall",
        help="hall: the queue, the fan-out and the displays (default); cases: case commands "
        "and timeline reads with --open-cases open cases in the database; alarms: the "
        "supervision timers' lag and CPU with --open-cases open cases; reports: the month's and "
        "the year's reports and a month's export with a year of data (DATABASE_URL's database, "
        "filled first if it holds no year)",
    )
    p.add_argument(
        "--windows", type=int, default=130, help="window terminals per hall (default 130)"
    )
    p.add_argument(
        "--displays",
        type=int,
        default=None,
        help="display subscribers (default 1000; with --workers 10,000)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per phase (default 20; cases: seconds of the hall-load phase, default 60)",
    )
    p.add_argument(
        "--halls",
        type=int,
        default=1,
        help="halls: the demo city hall, then copies of it (bench02, ...) (default 1)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--url",
        help="measure a running server instead (it is modified: clerks sign in, "
        "queues are filled); with --database-url/DATABASE_URL naming its "
        "database the set-up is direct, else through the API",
    )
    p.add_argument(
        "--sio-share",
        type=float,
        default=None,
        help="share of displays on Socket.IO, the rest on the plain feed (default 0.10; with "
        "--workers 0: lobby displays take the plain feed)",
    )
    p.add_argument(
        "--display-procs",
        type=int,
        default=0,
        help="display client processes (default: one per 250 displays, at least 2)",
    )
    p.add_argument(
        "--command-procs",
        type=int,
        default=0,
        help="window terminal processes (default: one per hall, at most 4)",
    )
    p.add_argument(
        "--latency-rate",
        type=float,
        default=50.0,
        help="commands/s of the latency phase (default 50)",
    )
    p.add_argument(
        "--ceiling-seconds",
        type=float,
        default=0.0,
        help="seconds per PostgreSQL ceiling shape (default: min(duration, 10))",
    )
    p.add_argument("--no-ceiling", action="store_true", help="skip the PostgreSQL ceiling")
    p.add_argument("--no-raw", action="store_true", help="skip the raw broadcast baseline")
    p.add_argument(
        "--bench-redis",
        metavar="URL",
        help="run the own server with this Redis bus (default: in-process bus)",
    )
    p.add_argument(
        "--keep-server-log",
        action="store_true",
        help="keep the own server's temp dir (its log) for inspection",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="record py-spy profiles of the server per phase (collapsed stacks) in DIR",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    province = p.add_argument_group("a province (--workers; also --halls, --windows, --displays)")
    province.add_argument(
        "--workers",
        type=int,
        default=None,
        help="measure a province served by `serve --workers N` (needs REDIS_URL or "
        "--bench-redis when N > 1)",
    )
    province.add_argument(
        "--hall-rate",
        type=float,
        default=10.0,
        help="commands/s of each hall, open loop (default 10: a city hall's morning peak)",
    )
    province.add_argument(
        "--ramp",
        default="",
        help="after the hall rate, these multiples of it in turn (e.g. 1.5,2,3) until one misses "
        "a target: the most the deployment does",
    )
    province.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each phase wait up to this long until the rest of the machine is quiet "
        "(other processes under 15 %% of a core): for a shared machine",
    )
    province.add_argument(
        "--server-nice",
        type=int,
        default=0,
        help="run the server's processes and PostgreSQL backends at this nice value (e.g. -10: "
        "they get a core before the load generator; an experiment, needs root)",
    )
    province.add_argument(
        "--no-baseline",
        action="store_true",
        help="measure only N workers, not one worker first",
    )
    cases = p.add_argument_group("bench cases")
    cases.add_argument(
        "--open-cases",
        type=int,
        default=100_000,
        help="open cases bulk-loaded into the database (default 100,000)",
    )
    cases.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="case commands/s at hall load, open loop (default 10: a city hall's peak)",
    )
    cases.add_argument(
        "--read-rate",
        type=float,
        default=5.0,
        help="timeline reads (GET /api/cases/{id}) per second beside them (default 5)",
    )
    cases.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="clients of the closed-loop (maximum throughput) phase (default 8)",
    )
    cases.add_argument(
        "--max-duration",
        type=float,
        default=20.0,
        help="seconds of the closed-loop phase (default 20; 0 skips it)",
    )
    cases.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    reports = p.add_argument_group("bench reports (also --seed, --json)")
    reports.add_argument("--year", type=int, default=2026, help="the year of data (default 2026)")
    reports.add_argument(
        "--month", help="the month report's month, YYYY-MM (default the year's June)"
    )
    reports.add_argument(
        "--repeat", type=int, default=3, help="times each report is asked (default 3)"
    )
    reports.add_argument("--hall", default="rizhao", help="the hall (default rizhao)")
    alarms = p.add_argument_group("bench alarms (also --open-cases, --duration, --seed)")
    alarms.add_argument(
        "--alarm-rate",
        type=float,
        default=5.0,
        help="alarms per second falling due in the stream phase (default 5)",
    )
    alarms.add_argument(
        "--rest", type=float, default=30.0, help="seconds of the quiet period (default 30)"
    )


def main(args: argparse.Namespace) -> int:
    if args.mode == "reports":
        from server.bench.report_year import ReportBenchOptions
        from server.bench.report_year import main as reports_main

        url = args.database_url or os.environ.get("DATABASE_URL")
        if not url:
            raise SystemExit("bench reports needs DATABASE_URL (or --database-url): its year stays")
        return reports_main(
            ReportBenchOptions(
                database_url=url,
                hall=args.hall,
                year=args.year,
                month=args.month,
                repeat=args.repeat,
                seed=args.seed,
                quiet=args.quiet,
            ),
            as_json=args.json,
        )
    if args.mode == "alarms":
        from server.bench.alarms import AlarmOptions
        from server.bench.alarms import main as alarms_main

        return alarms_main(
            AlarmOptions(
                open_cases=args.open_cases,
                duration=args.duration if args.duration is not None else 60.0,
                rate=args.alarm_rate,
                rest=args.rest,
                database_url=args.database_url or os.environ.get("DATABASE_URL") or None,
                seed=args.seed,
                quiet=args.quiet,
                keep_server_log=args.keep_server_log,
            ),
            as_json=args.json,
        )
    if args.mode == "cases":
        from server.bench.cases import CaseOptions
        from server.bench.cases import main as cases_main

        return cases_main(
            CaseOptions(
                open_cases=args.open_cases,
                rate=args.rate,
                read_rate=args.read_rate,
                duration=args.duration if args.duration is not None else 60.0,
                max_duration=args.max_duration,
                concurrency=args.concurrency,
                url=args.url,
                database_url=args.database_url or os.environ.get("DATABASE_URL") or None,
                seed=args.seed,
                quiet=args.quiet,
                keep_server_log=args.keep_server_log,
            ),
            as_json=args.json,
        )
    if args.workers is not None:
        from server.bench.province import ProvinceOptions
        from server.bench.province import main as province_main

        return province_main(
            ProvinceOptions(
                halls=args.halls,
                windows=args.windows,
                displays=args.displays if args.displays is not None else 10_000,
                hall_rate=args.hall_rate,
                duration=args.duration if args.duration is not None else 30.0,
                workers=args.workers,
                baseline=not args.no_baseline,
                wait_quiet=args.wait_quiet,
                server_nice=args.server_nice,
                ramp=tuple(float(x) for x in args.ramp.split(",") if x.strip()),
                database_url=args.database_url or os.environ.get("DATABASE_URL") or None,
                redis_url=args.bench_redis or os.environ.get("REDIS_URL") or None,
                sio_share=args.sio_share if args.sio_share is not None else 0.0,
                display_procs=args.display_procs,
                command_procs=args.command_procs,
                quiet=args.quiet,
                keep_server_log=args.keep_server_log,
            ),
            as_json=args.json,
        )
    from server.bench.runner import Options
    from server.bench.runner import main as run_main

    opts = Options(
        windows=args.windows,
        displays=args.displays if args.displays is not None else 1000,
        duration=args.duration if args.duration is not None else 20.0,
        halls=args.halls,
        url=args.url,
        database_url=args.database_url or os.environ.get("DATABASE_URL") or None,
        redis_url=args.bench_redis,
        sio_share=args.sio_share if args.sio_share is not None else 0.10,
        display_procs=args.display_procs,
        command_procs=args.command_procs,
        latency_rate=args.latency_rate,
        ceiling_seconds=args.ceiling_seconds,
        raw=not args.no_raw,
        ceiling=not args.no_ceiling,
        quiet=args.quiet,
        keep_server_log=args.keep_server_log,
        profile=args.profile,
    )
    return run_main(opts, as_json=args.json)
