"""Supervision alarms from the case clocks (电子监察, first trigger: a case's 预警 / 黄牌 / 红牌).

Every command that moves a case's clock schedules its next rung (`schedule`: the case row's
next_alarm_at); the hall timers' job `alarm.fire_case` takes the due cases by one index range,
recomputes each ladder from the clock and the calendar as they are now (so a calendar change or
a pause never makes one fire early), raises the rungs that are due (one row per case and level:
a retry, a second process or a restart after kill -9 raises none twice) and schedules the next.
The alarm, its event and the next rung are one transaction.

`raise_alarm` is the one way any trigger raises an alarm: its row (once per hall, kind, level and
subject), its alarm.issued event and the SMS to the handling clerk through the outbox, inside
the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import alarms as q
from db.queries import calendar as cq
from db.queries import cases as cq_cases
from server.domain import alarm_ladder as ladder
from server.domain.actor import system_actor
from server.domain.alarm_kinds import KIND_NAMES, AlarmKind
from server.domain.calendar import HallCalendar
from server.domain.case_clock import ClockState
from server.domain.events import EventRecord
from server.domain.queueing import TZ
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import TimerContext

KIND: AlarmKind = "case_deadline"
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


@dataclass(frozen=True)
class Alarm:
    """An alarm to raise: what, on which subject, whose (department, window, handling clerk),
    and the words of its event and SMS."""

    kind: AlarmKind
    level: ladder.Level
    subject: str  # what it is raised on, its once-key: 'case:17', 'ticket:88', ...
    due_at: datetime
    summary: str  # one line people read: the wall, the terminal, the SMS
    department_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    case_id: int | None = None
    case_no: str | None = None
    item_name: str | None = None
    ticket_id: int | None = None
    ticket_no: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


async def raise_alarm(
    tx: Tx,
    hall_id: int,
    alarm: Alarm,
    rule_version: int,
    now: datetime,
    *,
    raised_by_hall: int | None = None,
) -> int | None:
    """Raises the alarm inside the caller's transaction: its row, its alarm.issued event and
    the SMS to the handling clerk, all or nothing. None when it was raised already (a retry, a
    second process, a restart after kill -9): no second event, no second SMS."""
    row = await tx.conn.fetchrow(
        q.INSERT_ALARM,
        hall_id,
        alarm.kind,
        alarm.level,
        alarm.subject,
        alarm.case_id,
        alarm.ticket_id,
        alarm.department_id,
        alarm.window_id,
        alarm.staff_id,
        rule_version,
        alarm.due_at,
        now,
        raised_by_hall,
        dict(alarm.detail),
    )
    if row is None:
        return None
    tx.emit(
        "alarm.issued",
        {
            "alarm_id": row["id"],
            "kind": alarm.kind,
            "kind_name": KIND_NAMES[alarm.kind],
            "level": alarm.level,
            "level_name": ladder.LEVEL_NAMES[alarm.level],
            "subject": alarm.subject,
            "summary": alarm.summary,
            "case_id": alarm.case_id,
            "case_no": alarm.case_no,
            "item_name": alarm.item_name,
            "ticket_no": alarm.ticket_no,
            "department": row["department_code"],
            "window_no": row["window_no"],
            "due_at": alarm.due_at.isoformat(),
            "issued_at": now.isoformat(),
            "rule_version": rule_version,
        },
        hall_id=hall_id,
        window_id=alarm.window_id,
    )
    if row["staff_phone"]:
        body = f"【电子监察】{ladder.LEVEL_NAMES[alarm.level]}：{alarm.summary}，请及时处理。"
        await tx.conn.execute(
            cq_cases.INSERT_SMS, hall_id, f"alarm:{row['id']}", row["staff_phone"], body
        )
    return int(row["id"])


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
            deadline = state.deadline.astimezone(TZ) if state.deadline else None
            for rung in ladder.due_rungs(rungs, fired, now):
                fired.add(rung.level)
                alarm_id = await raise_alarm(
                    tx,
                    hall["id"],
                    Alarm(
                        kind=KIND,
                        level=rung.level,
                        subject=f"case:{r['id']}",
                        due_at=rung.due,
                        summary=_deadline_summary(
                            rung.level, r["case_no"], r["item_name"], deadline
                        ),
                        department_id=r["department_id"],
                        window_id=r["window_id"],
                        staff_id=r["clerk_id"],
                        case_id=r["id"],
                        case_no=r["case_no"],
                        item_name=r["item_name"],
                        detail={"deadline": deadline.isoformat() if deadline else None},
                    ),
                    rules.version,
                    now,
                )
                if alarm_id is not None:
                    raised.append(alarm_id)
            nxt = ladder.next_rung(rungs, fired)
            await tx.conn.execute(
                q.SET_NEXT_ALARM, r["id"], nxt.due if nxt else None, nxt.level if nxt else None
            )
        tx.detail["alarms"] = raised
    return tx.records


def _deadline_summary(level: str, case_no: str, item: str, deadline: datetime | None) -> str:
    due = deadline.strftime("%m月%d日 %H:%M") if deadline else ""
    what = {"warning": "临近办结时限", "yellow": "已超过办结时限", "red": "超期督办期满仍未办结"}
    return f"办件 {case_no}（{item}）{what[level]}（时限 {due}）"
