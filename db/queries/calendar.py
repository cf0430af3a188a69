"""Hall calendar queries: calendar_day overrides and the hall's work periods.

Each function takes an asyncpg connection first. jsonb arrives decoded (the pool registers an
orjson codec), so hall.work_periods is a Python list here."""

from __future__ import annotations

from datetime import date

from db.pool import Conn
from server.domain.calendar import HallCalendar, parse_work_periods
from server.domain.errors import NotFound

SELECT_WORK_PERIODS = "select work_periods from hall where id = $1"

SELECT_OVERRIDES = """
select day, is_working
from calendar_day
where hall_id = $1 and day between $2 and $3
"""

UPSERT_CALENDAR_DAY = """
insert into calendar_day (hall_id, day, is_working, note)
values ($1, $2, $3, $4)
on conflict (hall_id, day) do update
    set is_working = excluded.is_working, note = excluded.note
"""

SELECT_CALENDAR_DAYS = """
select day, is_working, note
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


async def set_calendar_day(
    conn: Conn, hall_id: int, day: date, is_working: bool, note: str
) -> None:
    await conn.execute(UPSERT_CALENDAR_DAY, hall_id, day, is_working, note or "")


async def list_calendar_days(conn: Conn, hall_id: int, start: date, end: date) -> list[dict]:
    rows = await conn.fetch(SELECT_CALENDAR_DAYS, hall_id, start, end)
    return [dict(r) for r in rows]
