"""Supervision alarms from the case clocks (电子监察, first trigger: a case's 预警 / 黄牌 / 红牌).

Every command that moves a case's clock schedules its next rung (`schedule`: the case row's
next_alarm_at); the hall timers' job `alarm.fire_case` takes the due cases by one index range,
recomputes each ladder from the clock and the calendar as they are now (so a calendar change or
a pause never makes one fire early), raises the rungs that are due (one row per case and level:
a retry, a second process or a restart after kill -9 raises none twice) and schedules the next.
The alarm, its event and the next rung are one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import alarms as q
from db.queries import calendar as cq
from server.domain import alarm_ladder as ladder
from server.domain.actor import system_actor
from server.domain.calendar import HallCalendar
from server.domain.case_clock import ClockState
from server.domain.events import EventRecord
from server.domain.queueing import TZ

if TYPE_CHECKING:
    from server.catalogue.spine import TimerContext

KIND = "case_deadline"
BATCH = 500  # cases per transaction; a backlog (a server down for a day) takes a few ticks


async def hall_rules(conn: Conn, hall_id: int) -> ladder.SupervisionRules:
    """The hall's latest rule set; version 0 is the built-in defaults."""
    row = await conn.fetchrow(q.LATEST_RULES, hall_id)
    if row is None:
        return ladder.SupervisionRules(version=0)
    return ladder.parse_rules({**row["rules"], "version": row["version"]})


async def schedule(
    conn: Conn,
    case_id: int,
    hall_id: int,
    state: ClockState,
    cal: HallCalendar,
    rules: ladder.SupervisionRules | None = None,
) -> None:
    """Keeps the case's next unfired rung on its row (none while paused or stopped)."""
    rules = rules or await hall_rules(conn, hall_id)
    fired = set(await conn.fetchval(q.FIRED_LEVELS, case_id))
    rung = ladder.next_rung(ladder.case_ladder(state, rules, cal), fired)
    await conn.execute(
        q.SET_NEXT_ALARM, case_id, rung.due if rung else None, rung.level if rung else None
    )


async def fire_case_alarms(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    async with ctx.store.read() as conn:
        if not await conn.fetchval(q.ANY_DUE, hall["id"], now):
            return []  # the common tick: one index probe, no transaction
    async with ctx.store.command(system_actor(hall["id"]), "alarm.fire_case") as tx:
        rows = await tx.conn.fetch(q.DUE_CASES, hall["id"], now, BATCH)
        if not rows:
            return []
        rules = await hall_rules(tx.conn, hall["id"])
        first = min(r["accepted_at"] for r in rows).astimezone(TZ).date()
        cal = await cq.load_hall_calendar(
            tx.conn, hall["id"], first - timedelta(days=30), first + timedelta(days=900)
        )
        raised = []
        for r in rows:
            state = ClockState.from_json(r["clock"])
            rungs = ladder.case_ladder(state, rules, cal)
            fired = set(r["fired"])
            for rung in ladder.due_rungs(rungs, fired, now):
                alarm_id = await tx.conn.fetchval(
                    q.INSERT_ALARM,
                    hall["id"],
                    KIND,
                    rung.level,
                    r["id"],
                    r["department_id"],
                    r["window_id"],
                    rules.version,
                    rung.due,
                    now,
                    {"deadline": state.deadline.isoformat() if state.deadline else None},
                )
                fired.add(rung.level)
                if alarm_id is None:
                    continue  # raised already
                raised.append(alarm_id)
                tx.emit(
                    "alarm.issued",
                    {
                        "alarm_id": alarm_id,
                        "kind": KIND,
                        "level": rung.level,
                        "level_name": ladder.LEVEL_NAMES[rung.level],
                        "case_id": r["id"],
                        "case_no": r["case_no"],
                        "item_name": r["item_name"],
                        "department": r["department_code"],
                        "window_no": r["window_no"],
                        "due_at": rung.due.isoformat(),
                        "issued_at": now.isoformat(),
                        "rule_version": rules.version,
                    },
                    hall_id=hall["id"],
                    window_id=r["window_id"],
                )
            nxt = ladder.next_rung(rungs, fired)
            await tx.conn.execute(
                q.SET_NEXT_ALARM, r["id"], nxt.due if nxt else None, nxt.level if nxt else None
            )
        tx.detail["alarms"] = raised
    return tx.records
