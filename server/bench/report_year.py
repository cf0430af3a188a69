"""`python run.py bench reports`: how fast the reports answer with a year of a hall's data in the
database (issue 11's targets: the whole hall's month report in 2 s, the year's in 10 s, a month's
export in 5 s).

The year is made in two steps, because generating 650,000 cases through the product takes hours
on this machine (docs/bench.md):

1. `simulate --fast` plays four weeks of the hall (20 working days from the year's first
   Monday) through the product's own commands: tickets, cases, ratings, rectifications, alarms,
   idle spells, as the reports read them.
2. Those four weeks are copied twelve times, each copy four weeks later (so weekdays stay
   weekdays): every row of the tables the reports read (ticket, service_case, rating,
   rectification, window_idle, alarm), its instants and days moved, its ids and the ids it
   refers to moved by a fixed offset, its unique numbers made unique. Thirteen times four weeks
   is 52 weeks. The year's volume and its distributions are the simulated month's; what it does
   not have is a year's seasons.

Then every report is asked `--repeat` times in-process, through the catalogue's operations with
a supervisor's Call (the handler, the domain and the SQL, without HTTP): the month and the year
grouped by hall, department, window and clerk, and the month's export as .xlsx (every table)
and as CSV. The figure is the median; the first answer (a cold cache) is reported beside it."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from server.domain.queueing import TZ
from server.simulate_fast import SIM_NOW, FastOptions, FastSimulation, simulate_fast

WEEKS_SIMULATED = 4
COPIES = 12  # 13 × 4 weeks = 52 weeks
TARGETS = {"month": 2.0, "year": 10.0, "export": 5.0}

# The tables copied, how each picks the hall's original rows ($2: the largest id, or day, the
# table held before the copies), and the columns a copy rewrites (beyond moving every date and
# timestamptz by the copy's shift). `{k}` is the copy's number; `{t}`, `{c}`, `{r}` the id
# offsets of ticket, service_case and rating for this copy. A copy's id of None: a fresh one.
_COPIES: dict[str, tuple[str, dict[str, str | None]]] = {
    "ticket": (
        "hall_id = $1 and id <= $2 order by id",  # a successor after its predecessor
        {
            "id": "id + {t}",
            "previous_id": "previous_id + {t}",
            "visit_id": "visit_id + {t}",
            "registration_id": "null",
        },
    ),
    "service_case": (
        "hall_id = $1 and id <= $2",
        {
            "id": "id + {c}",
            "parent_id": "parent_id + {c}",
            "ticket_id": "ticket_id + {t}",
            "registration_id": "null",
            "project_id": "null",
            "case_no": "case_no || '-{k}'",
            "query_code": "upper(left(md5(query_code || '{k}'), 10))",
        },
    ),
    "rating": (
        "hall_id = $1 and id <= $2",
        {
            "id": "id + {r}",
            "case_id": "case_id + {c}",
            "ticket_id": "ticket_id + {t}",
            "subject": "case when case_id is not null then 'case:' || (case_id + {c}) "
            "else 'ticket:' || (ticket_id + {t}) end",
            "slip_no": "slip_no || '-{k}'",
        },
    ),
    "rectification": ("hall_id = $1 and id <= $2", {"id": None, "rating_id": "rating_id + {r}"}),
    "window_idle": (
        "window_id in (select id from service_window where hall_id = $1) and service_day <= $2",
        {},
    ),
    "alarm": (
        "hall_id = $1 and id <= $2",
        {
            "id": None,
            "case_id": "case_id + {c}",
            "ticket_id": "ticket_id + {t}",
            "subject": "subject || '#{k}'",
        },
    ),
}
_SEQUENCES = ("ticket", "service_case", "rating", "rectification", "alarm")


@dataclass
class ReportBenchOptions:
    database_url: str
    hall: str = "rizhao"
    year: int = 2026
    month: str | None = None  # YYYY-MM, default the year's June
    repeat: int = 3
    seed: int = 1
    quiet: bool = False


def _say(o: ReportBenchOptions, text: str) -> None:
    if not o.quiet:
        print(text, file=sys.stderr, flush=True)


def first_monday(year: int) -> date:
    d = date(year, 1, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


async def _columns(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'public' and table_name = $1 and is_generated = 'NEVER' "
        "order by ordinal_position",
        table,
    )
    return [(r["column_name"], r["data_type"]) for r in rows]


async def replicate(conn: asyncpg.Connection, hall_id: int, copies: int, shift_days: int) -> int:
    """Copies every row of the hall in the report's tables `copies` times, copy k moved by
    k × shift_days (one transaction). Returns the rows written."""
    bounds: dict[str, Any] = {
        t: int(await conn.fetchval(f"select coalesce(max(id), 0) from {t}")) for t in _SEQUENCES
    }
    bounds["window_idle"] = await conn.fetchval("select max(service_day) from window_idle")
    offsets = {t: bounds[t] + 1 for t in ("ticket", "service_case", "rating")}
    written = 0
    async with conn.transaction():
        for k in range(1, copies + 1):
            shift = k * shift_days
            fmt = {
                "k": k,
                "t": k * offsets["ticket"],
                "c": k * offsets["service_case"],
                "r": k * offsets["rating"],
            }
            for table, (where, rewrites) in _COPIES.items():
                cols, exprs = [], []
                for name, kind in await _columns(conn, table):
                    if name in rewrites:
                        expr = rewrites[name]
                        if expr is None:
                            continue  # a fresh id from the table's sequence
                        exprs.append(expr.format(**fmt))
                    elif kind == "date":
                        exprs.append(f"{name} + {shift}")
                    elif kind.startswith("timestamp"):
                        exprs.append(f"{name} + interval '{shift} days'")
                    else:
                        exprs.append(name)
                    cols.append(name)
                status = await conn.execute(
                    f"insert into {table} ({', '.join(cols)}) "
                    f"select {', '.join(exprs)} from {table} where {where}",
                    hall_id,
                    bounds[table],
                )
                written += int(status.split()[-1])
        for t in _SEQUENCES:
            await conn.execute(
                f"select setval(pg_get_serial_sequence('{t}', 'id'), "
                f"(select coalesce(max(id), 1) from {t}))"
            )
    await conn.execute("analyze ticket, service_case, rating, rectification, window_idle, alarm")
    return written


async def fill_year(o: ReportBenchOptions) -> dict[str, Any]:
    """The year of data: what the database holds if it already has the year, else four
    simulated weeks and their copies."""
    conn = await asyncpg.connect(o.database_url)
    try:
        hall_id = await conn.fetchval("select id from hall where code = $1", o.hall)
        if hall_id is None:
            raise SystemExit(f"hall {o.hall} is not in the database: seed the demo first")
        first = first_monday(o.year)
        days = await conn.fetchval(
            "select count(distinct service_day) from ticket where hall_id = $1 "
            "and service_day between $2 and $3",
            hall_id,
            date(o.year, 1, 1),
            date(o.year, 12, 31),
        )
        made: dict[str, Any] = {"simulated_days": 0, "copied_rows": 0}
        if days < 200:
            if days == 0:
                _say(o, f"simulating {WEEKS_SIMULATED} weeks from {first} (simulate --fast) ...")
                t0 = time.perf_counter()
                stats, _ = await simulate_fast(
                    FastOptions(
                        hall=o.hall,
                        days=WEEKS_SIMULATED * 7,
                        date=first.isoformat(),
                        seed=o.seed,
                        quiet=o.quiet,
                    ),
                    o.database_url,
                )
                made.update(
                    simulated_days=stats.days,
                    simulated_cases=stats.cases,
                    simulate_s=round(time.perf_counter() - t0, 1),
                )
            _say(o, f"copying the weeks {COPIES} times, 4 weeks apart ...")
            t0 = time.perf_counter()
            made["copied_rows"] = await replicate(conn, hall_id, COPIES, 7 * WEEKS_SIMULATED)
            made["copy_s"] = round(time.perf_counter() - t0, 1)
        volume = await conn.fetchrow(
            "select (select count(*) from service_case where hall_id = $1 "
            "  and accepted_at >= $2::date and accepted_at < $3::date) as cases, "
            "(select count(*) from ticket where hall_id = $1 "
            "  and service_day >= $2::date and service_day < $3::date) as tickets, "
            "(select count(*) from rating where hall_id = $1 "
            "  and rated_at >= $2::date and rated_at < $3::date) as ratings",
            hall_id,
            date(o.year, 1, 1),
            date(o.year + 1, 1, 1),
        )
        made["volume"] = dict(volume) if volume is not None else {}
        return made
    finally:
        await conn.close()


async def measure(o: ReportBenchOptions) -> dict[str, Any]:
    sim = FastSimulation(FastOptions(hall=o.hall, quiet=True), o.database_url)
    SIM_NOW.set(datetime.now(TZ))  # the reports are asked now
    await sim.open()
    try:
        await sim.setup()
        actor = sim.supervisor
        month = o.month or f"{o.year}-06"
        m_first = date.fromisoformat(f"{month}-01")
        m_last = (m_first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        ranges = {
            "month": (m_first, m_last),
            "year": (date(o.year, 1, 1), date(o.year, 12, 31)),
        }
        results: dict[str, Any] = {}

        async def timed(name: str, op: str, params: dict[str, Any]) -> None:
            times, size = [], 0
            for _ in range(o.repeat):
                t0 = time.perf_counter()
                data = await sim.op(op, actor, params)
                times.append(time.perf_counter() - t0)
                size = len(data) if isinstance(data, bytes) else len(orjson.dumps(data))
            results[name] = {
                "median_s": round(statistics.median(times), 3),
                "first_s": round(times[0], 3),
                "bytes": size,
            }
            _say(o, f"  {name:<24} {statistics.median(times):6.2f} s  (first {times[0]:.2f} s)")

        for span, (lo, hi) in ranges.items():
            for by in ("hall", "department", "window", "clerk"):
                await timed(
                    f"{span} by {by}",
                    "report.figures",
                    {"hall": o.hall, "from": lo.isoformat(), "to": hi.isoformat(), "by": by},
                )
        lo, hi = ranges["month"]
        span_params = {"hall": o.hall, "from": lo.isoformat(), "to": hi.isoformat()}
        await timed("month export xlsx", "report.export", {**span_params, "by": "window"})
        await timed(
            "month export csv", "report.export", {**span_params, "by": "window", "format": "csv"}
        )
        return results
    finally:
        await sim.close()


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    def worst(prefix: str) -> float:
        return max(v["median_s"] for k, v in results.items() if k.startswith(prefix))

    got = {"month": worst("month by"), "year": worst("year by"), "export": worst("month export")}
    return {
        k: {"worst_median_s": got[k], "target_s": TARGETS[k], "met": got[k] <= TARGETS[k]}
        for k in TARGETS
    }


def main(o: ReportBenchOptions, as_json: bool = False) -> int:
    async def run() -> dict[str, Any]:
        made = await fill_year(o)
        _say(o, "asking the reports ...")
        results = await measure(o)
        return {"data": made, "results": results, "targets": verdict(results)}

    try:
        import uvloop

        out = uvloop.run(run())
    except ImportError:  # pragma: no cover
        out = asyncio.run(run())
    if as_json:
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    else:
        v = out["data"]["volume"]
        print(
            f"data for {o.year}: {v['cases']:,} cases, {v['tickets']:,} tickets, "
            f"{v['ratings']:,} ratings"
        )
        for name, r in out["results"].items():
            print(f"{name:<24} {r['median_s']:6.2f} s  (first {r['first_s']:.2f} s)")
        for k, t in out["targets"].items():
            mark = "met" if t["met"] else "NOT met"
            print(
                f"target {k:<7} ≤ {t['target_s']:.0f} s: worst {t['worst_median_s']:.2f} s, {mark}"
            )
    return 0
