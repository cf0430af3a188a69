"""`python run.py bench alarms`: the supervision timers at scale (issue 9).

    python run.py bench alarms --open-cases 100000 --duration 60

Targets: with 100,000 open cases in the database, an alarm is raised within 1 s of its instant
(p99 of due_at -> issued_at), and the timers cost at most 5 % of a core while nothing is due.

Set-up (not measured): the bench's own server (`run.py serve`, timers on, real clock) on a
throwaway database. Its city hall works around the clock (every day 00:00-23:59) so that working
time, and with it the alarm ladder, moves whenever the bench runs: on the demo's calendar nothing
falls due at night or on a Sunday. The open cases are bulk-loaded (server/bench/caseload.py) and
each gets its next rung the way a command schedules it (the ladder of its clock, as
server.domain.alarms.schedule does, in bulk).

Phases:
    catch-up   the rungs that are already past when the cases are loaded (a server that was
               down): how many and how long the timers take to raise them all
    rest       --rest seconds in which nothing the bench added falls due: the CPU of the server
               process and of the database's backends, as % of one core
    stream     --rate accepted cases per second whose first rung (预警) falls due one after the
               other for --duration seconds, beside the 100,000: each alarm's lag from its
               instant to issued_at (the tick that raised it), and to the alarm.issued event
               received by a supervisor's live feed; the CPU meanwhile

Stream cases are made like the loaded ones (an accepted case: its row, materials, the
acceptance in its history and the clock of that one event); their acceptance instant is chosen
by bisection so that the ladder of the resulting clock puts the warning where the bench wants
it. Nothing writes an alarm row: every alarm is the timer job's."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from db.queries.calendar import load_hall_calendar
from server.domain import alarm_ladder as ladder
from server.domain import case_clock as clock
from server.domain.alarms import hall_rules
from server.domain.calendar import HallCalendar
from server.domain.queueing import TZ

TARGET_P99_S = 1.0
TARGET_REST_CPU_PCT = 5.0
SCHEDULE_BATCH = 5_000

# The open cases whose clock runs, with the levels fired already: what `schedule` reads, for
# all of a hall's cases at once.
RUNNING_CASES = """
select c.id, c.clock,
       coalesce(array(select a.level from alarm a where a.case_id = c.id
                      and a.kind = 'case_deadline'), '{}') as fired
from service_case c
where c.hall_id = $1 and c.clock_status = 'running'
  and c.state not in ('completed', 'delivered', 'not_accepted', 'withdrawn')
"""
SET_NEXT_ALARMS = """
update service_case c set next_alarm_at = t.due, next_alarm_level = t.level
from unnest($1::bigint[], $2::timestamptz[], $3::text[]) as t(id, due, level)
where c.id = t.id
"""


async def hall_calendar(conn: asyncpg.Connection, hall_id: int, around: datetime) -> HallCalendar:
    day = around.astimezone(TZ).date()
    return await load_hall_calendar(
        conn, hall_id, day - timedelta(days=200), day + timedelta(days=900)
    )


async def open_ladders(
    conn: asyncpg.Connection, hall_id: int, around: datetime
) -> list[tuple[int, list[ladder.Rung], set[str]]]:
    """Every running case of the hall: (id, its ladder now, the levels fired)."""
    rules = await hall_rules(conn, hall_id)
    cal = await hall_calendar(conn, hall_id, around)
    return [
        (
            r["id"],
            ladder.case_ladder(clock.ClockState.from_json(r["clock"]), rules, cal),
            set(r["fired"]),
        )
        for r in await conn.fetch(RUNNING_CASES, hall_id)
    ]


async def schedule_open_cases(conn: asyncpg.Connection, hall_id: int) -> int:
    """Keeps each running case's next unfired rung on its row, as `alarms.schedule` does after
    a command (bulk-loaded cases were written without it). Returns how many have one."""
    ids: list[int] = []
    dues: list[datetime | None] = []
    levels: list[str | None] = []
    for cid, rungs, fired in await open_ladders(conn, hall_id, datetime.now(TZ)):
        rung = ladder.next_rung(rungs, fired)
        ids.append(cid)
        dues.append(rung.due if rung else None)
        levels.append(rung.level if rung else None)
    for k in range(0, len(ids), SCHEDULE_BATCH):
        s = slice(k, k + SCHEDULE_BATCH)
        await conn.execute(SET_NEXT_ALARMS, ids[s], dues[s], levels[s])
    return sum(d is not None for d in dues)


async def due_rungs(
    conn: asyncpg.Connection, hall_id: int, now: datetime
) -> dict[tuple[int, str], datetime]:
    """Every (case id, level) whose rung is due at `now` by the ladder, fired or not: what the
    alarm table must hold once the timers have caught up."""
    out = {}
    for cid, rungs, _ in await open_ladders(conn, hall_id, now):
        for rung in rungs:
            if rung.due <= now:
                out[(cid, rung.level)] = rung.due
    return out


async def work_around_the_clock(
    conn: asyncpg.Connection, hall_id: int, first: date, last: date
) -> None:
    """The hall works 00:00-23:59 on every day in [first, last] (set before loading cases:
    their clocks are computed with the calendar as it is then)."""
    await conn.execute(
        """update hall set work_periods = '[["00:00", "23:59"]]'::jsonb where id = $1""", hall_id
    )
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    await conn.execute(
        """insert into calendar_day (hall_id, day, is_working, note, source)
           select $1, d, true, '压测：全天办公', 'manual' from unnest($2::date[]) as d
           on conflict (hall_id, day) do update set is_working = true""",
        hall_id,
        days,
    )
