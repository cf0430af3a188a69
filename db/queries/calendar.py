"""Hall calendar queries: calendar_day overrides, the years that hold official data
(calendar_year) and the hall's work periods.

Each function takes an asyncpg connection first. jsonb arrives decoded (the pool registers an
orjson codec), so hall.work_periods is a Python list here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from db.pool import Conn
from server.domain.calendar import HallCalendar, parse_work_periods
from server.domain.errors import NotFound

SELECT_WORK_PERIODS = "select work_periods from hall where id = $1"

SELECT_OVERRIDES = """
select day, is_working
from calendar_day
where hall_id = $1 and day between $2 and $3
"""

# calendar writes of one hall, serialised per hall: (class, hall id)
_CALENDAR_LOCK = 0x4A13
LOCK_HALL_CALENDAR = "select pg_advisory_xact_lock($1, $2)"

SELECT_WORKING_OF_DAYS = """
select day, is_working from calendar_day where hall_id = $1 and day = any($2::date[])
"""

DELETE_CALENDAR_DAYS = "delete from calendar_day where hall_id = $1 and day = any($2::date[])"

UPSERT_CALENDAR_DAYS = """
insert into calendar_day (hall_id, day, is_working, note, source)
select $1, t.day, t.is_working, t.note, $5
from unnest($2::date[], $3::boolean[], $4::text[]) as t(day, is_working, note)
on conflict (hall_id, day) do update
    set is_working = excluded.is_working, note = excluded.note, source = excluded.source
"""

SELECT_SOURCES = """
select day, source from calendar_day where hall_id = $1 and day between $2 and $3
"""

UPSERT_CALENDAR_YEAR = """
insert into calendar_year (hall_id, year, source, title, loaded_at, loaded_by)
values ($1, $2, $3, $4, $5, $6)
on conflict (hall_id, year) do update
    set source = excluded.source, title = excluded.title, loaded_at = excluded.loaded_at,
        loaded_by = excluded.loaded_by
"""

SELECT_CALENDAR_YEARS = """
select y.year, y.source, y.title, y.loaded_at, y.loaded_by, s.display_name as loaded_by_name
from calendar_year y left join staff s on s.id = y.loaded_by
where y.hall_id = $1
order by y.year
"""

SELECT_YEARS_OF_EVERY_HALL = """
select h.code, h.name,
       coalesce(array_agg(y.year order by y.year) filter (where y.year is not null), '{}') as years
from hall h left join calendar_year y on y.hall_id = h.id
group by h.id
order by h.id
"""

SELECT_CALENDAR_DAYS = """
select day, is_working, note, source
from calendar_day
where hall_id = $1 and day between $2 and $3
order by day
"""


async def load_hall_calendar(conn: Conn, hall_id: int, start: date, end: date) -> HallCalendar:
    """The hall's calendar with the overrides in [start, end] (take `end` generously past the
    longest limit: days beyond it fall back to the default Mon–Fri rule)."""
    raw = await conn.fetchval(SELECT_WORK_PERIODS, hall_id)
    if raw is None:
        raise NotFound("大厅不存在", code="hall_not_found")
    rows = await conn.fetch(SELECT_OVERRIDES, hall_id, start, end)
    return HallCalendar(
        overrides={r["day"]: r["is_working"] for r in rows},
        work_periods=parse_work_periods(raw),
    )


async def lock_hall_calendar(conn: Conn, hall_id: int) -> None:
    await conn.execute(LOCK_HALL_CALENDAR, _CALENDAR_LOCK, hall_id)


async def working_of_days(conn: Conn, hall_id: int, days: list[date]) -> dict[date, bool]:
    """The rows present among `days`: day -> is_working (a day without a row is absent)."""
    rows = await conn.fetch(SELECT_WORKING_OF_DAYS, hall_id, days)
    return {r["day"]: r["is_working"] for r in rows}


async def delete_calendar_days(conn: Conn, hall_id: int, days: list[date]) -> None:
    if days:
        await conn.execute(DELETE_CALENDAR_DAYS, hall_id, days)


async def upsert_calendar_days(
    conn: Conn, hall_id: int, days: Mapping[date, tuple[bool, str]], source: str
) -> None:
    if not days:
        return
    ordered = sorted(days.items())
    await conn.execute(
        UPSERT_CALENDAR_DAYS,
        hall_id,
        [d for d, _ in ordered],
        [working for _, (working, _) in ordered],
        [note or "" for _, (_, note) in ordered],
        source,
    )


async def sources_of_days(conn: Conn, hall_id: int, start: date, end: date) -> dict[date, str]:
    rows = await conn.fetch(SELECT_SOURCES, hall_id, start, end)
    return {r["day"]: r["source"] for r in rows}


async def record_calendar_year(
    conn: Conn,
    hall_id: int,
    year: int,
    source: str,
    title: str,
    loaded_at: datetime,
    loaded_by: int | None,
) -> None:
    await conn.execute(UPSERT_CALENDAR_YEAR, hall_id, year, source, title, loaded_at, loaded_by)


async def calendar_years(conn: Conn, hall_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(SELECT_CALENDAR_YEARS, hall_id)]


async def years_of_every_hall(conn: Conn) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(SELECT_YEARS_OF_EVERY_HALL)]


async def list_calendar_days(conn: Conn, hall_id: int, start: date, end: date) -> list[dict]:
    rows = await conn.fetch(SELECT_CALENDAR_DAYS, hall_id, start, end)
    return [dict(r) for r in rows]
