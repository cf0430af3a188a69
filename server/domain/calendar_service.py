"""Commands and reads on a hall's calendar, and the promised deadline of an item.

`apply_days` is the one path by which a hall's calendar days change while the server runs: a
day set by hand (calendar.edit), a year's holiday notice (calendar.import, the HTTP command and
`run.py calendar-import`). Whatever must follow a change of the calendar (open cases' deadlines)
belongs there. The only other writer of calendar_day is the demo seed, which fills a new hall's
calendar before it has any case."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import calendar as cq
from db.queries import hall as hq
from server.domain.calendar import WORKING_UNITS
from server.domain.cases import reprice_open_cases
from server.domain.errors import Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.holiday_notice import (
    HORIZON_DAYS,
    HolidayNotice,
    calendar_coverage,
    missing_message,
    parse_notice,
)
from server.domain.store import Store, Tx
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

# Limits run to a few hundred working days at most: load the overrides of ~2.5 years.
_HORIZON = timedelta(days=900)

CALENDAR_SOURCES = ("library", "notice", "manual")
YEAR_LOADED = "calendar.year_loaded"


async def apply_days(
    tx: Tx,
    hall_id: int,
    days: Mapping[date, tuple[bool, str] | None],
    *,
    source: str = "manual",
) -> list[date]:
    """Writes calendar days of a hall inside the command's transaction: day -> (is_working,
    note) sets the day (recorded as coming from `source`: 'manual' for a day set by hand,
    'notice' for a loaded notice), day -> None removes its row (the day follows the default
    Monday–Friday rule again). Returns the days whose working status changed, in order: what
    an open case's deadline depends on.

    Calendar writes of one hall are serialised (a transaction-level advisory lock), so two
    loads of the same year cannot interleave their reads and writes."""
    if source not in CALENDAR_SOURCES:
        raise ValueError(f"unknown calendar source {source!r}")
    await cq.lock_hall_calendar(tx.conn, hall_id)
    if not days:
        return []
    before = await cq.working_of_days(tx.conn, hall_id, list(days))
    removed = [d for d, v in days.items() if v is None]
    written = {d: v for d, v in days.items() if v is not None}
    await cq.delete_calendar_days(tx.conn, hall_id, removed)
    await cq.upsert_calendar_days(tx.conn, hall_id, written, source)

    def working(day: date, row: bool | None) -> bool:
        return row if row is not None else day.weekday() < 5

    changed = sorted(
        d
        for d, v in days.items()
        if working(d, before.get(d)) != working(d, v[0] if v is not None else None)
    )
    if changed:
        # open cases' deadlines follow the calendar: recomputed from their histories here, in
        # the same transaction, so no screen ever sees a deadline of the old calendar after it
        tx.detail["repriced_cases"] = await reprice_open_cases(tx.conn, hall_id, changed[0])
    return changed


async def set_day(
    call: Call, hall_code: str, day: date, is_working: bool, note: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, day=day.isoformat(), is_working=is_working)
        call.check(hall.target())
        await apply_days(tx, hall.id, {day: (is_working, note or "")})
        tx.emit(
            "calendar.day_set",
            {"day": day.isoformat(), "is_working": is_working, "note": note},
            hall_id=hall.id,
        )
    return {"day": day.isoformat(), "is_working": is_working, "note": note}, tx.records


async def import_notice(
    call: Call, hall_code: str, raw: Any
) -> tuple[dict[str, Any], list[EventRecord]]:
    """calendar.import over HTTP: the hall's admin loads a year's holiday notice."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code)
        call.check(hall.target())
        # checked whole before anything is written; a refusal rolls the transaction back
        notice = parse_notice(raw)
        data = await load_notice(tx, hall, notice, call.ctx.clock())
    return data, tx.records


async def load_notice(
    tx: Tx, hall: HallRef, notice: HolidayNotice, now: datetime
) -> dict[str, Any]:
    """Puts a checked notice into the hall's calendar, in the command's transaction (whoever
    `tx.actor` is: the hall's admin, or the system for a file import), and emits ONE
    calendar.year_loaded event.

    What it replaces (docs/calendar.md): the days the notice lists are written whatever was
    there, a hand edit included (the notice is the official word on those days); the rows of
    that year that came from a notice or from the library and that the new notice no longer
    lists are removed (a corrected notice replaces the year); the days of that year set by
    hand that the notice does not list stay, and the answer names them (`kept_manual`) for the
    admin to review."""
    year = notice.year
    await cq.lock_hall_calendar(tx.conn, hall.id)
    rows = await cq.sources_of_days(tx.conn, hall.id, date(year, 1, 1), date(year, 12, 31))
    days = notice.days()
    stale = sorted(d for d, src in rows.items() if src != "manual" and d not in days)
    kept = sorted(d for d, src in rows.items() if src == "manual" and d not in days)
    changes: dict[date, tuple[bool, str] | None] = dict.fromkeys(stale)
    changes.update(days)
    changed = await apply_days(tx, hall.id, changes, source="notice")
    loaded_by = tx.actor.id if tx.actor.kind == "staff" else None
    await cq.record_calendar_year(tx.conn, hall.id, year, "notice", notice.title, now, loaded_by)
    days_off = [d.isoformat() for d in notice.days_off()]
    working_days = [d.isoformat() for d in notice.working_days()]
    tx.detail.update(
        year=year,
        title=notice.title,
        days_off=len(days_off),
        working_days=len(working_days),
        removed=[d.isoformat() for d in stale],
        changed=len(changed),
    )
    tx.emit(
        YEAR_LOADED,
        {"year": year, "title": notice.title, "days_off": days_off, "working_days": working_days},
        hall_id=hall.id,
    )
    return {
        "hall": hall.code,
        "year": year,
        "title": notice.title,
        "days_off": days_off,
        "working_days": working_days,
        "removed": [d.isoformat() for d in stale],
        "kept_manual": [d.isoformat() for d in kept],
        "changed": [d.isoformat() for d in changed],
    }


async def list_years(conn: Conn, hall: HallRef, today: date) -> dict[str, Any]:
    """calendar.years: the years of the hall's calendar that hold official data, and the
    years within the horizon that do not."""
    rows = await cq.calendar_years(conn, hall.id)
    missing = calendar_coverage([r["year"] for r in rows], today)
    return {
        "years": [{**r, "loaded_at": instant(r["loaded_at"])} for r in rows],
        "today": today.isoformat(),
        "horizon_days": HORIZON_DAYS,
        "missing": missing,
        "message": missing_message(hall.name, missing) if missing else "",
    }


async def coverage_warnings(conn: Conn, today: date) -> list[dict[str, Any]]:
    """One warning per hall whose calendar lacks official data within the horizon: what
    /healthz lists and `run.py serve` logs at start-up."""
    out = []
    for hall in await cq.years_of_every_hall(conn):
        missing = calendar_coverage(hall["years"], today)
        if missing:
            out.append(
                {
                    "code": "calendar_missing",
                    "hall": hall["code"],
                    "years": missing,
                    "message": missing_message(hall["name"], missing),
                }
            )
    return out


async def deadline(
    store: Store,
    hall: HallRef,
    start: datetime,
    *,
    amount: int | None = None,
    unit: str | None = None,
    item_code: str | None = None,
) -> dict[str, Any]:
    """When a limit that starts at `start` runs out: from an item's promised limit, or a given
    amount and unit."""
    async with store.read() as conn:
        if item_code is not None:
            item = await conn.fetchrow(hq.ITEM, hall.id, item_code)
            if item is None:
                raise NotFound(f"事项 {item_code} 不存在", code="unknown_item", field="item")
            amount, unit = item["promised_limit"], item["limit_unit"]
        if amount is None or unit not in WORKING_UNITS:
            raise Invalid("请给出事项，或时限数值与单位", code="invalid_query", field="unit")
        day = start.date()
        cal = await cq.load_hall_calendar(conn, hall.id, day - timedelta(days=7), day + _HORIZON)
    due = cal.add_working_time(start, amount, unit)  # type: ignore[arg-type]
    return {"start": instant(start), "amount": amount, "unit": unit, "due": instant(due)}
