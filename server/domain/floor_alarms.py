"""Electronic supervision on the hall floor (电子监察, issue 9): the triggers that watch the
queue, the services, the sign-offs and the windows, as the hall timers' jobs.

    alarm.fire_ticket_wait       a ticket waiting longer than rules.ticket_wait_minutes
    alarm.fire_service_overlong  a service longer than rules.service_norm_factor x its norm
    alarm.fire_signoff_wait      a sign-off request waiting longer than hall.signoff_wait_minutes
    alarm.fire_window_unattended an open window with nobody at it for rules.unattended_minutes
    alarm.fire_pause_overlong    a window paused (暂停服务) longer than rules.window_pause_minutes

Nothing of this is scheduled ahead: each instant is a timestamp the floor keeps anyway (a
ticket's wait start, a service's start, a request's time, a window's last change), so a job
looks twice a second with one small probe (db/queries/floor_alarms.py) and opens a transaction
only when something is due and not raised yet. Each alarm is raised through alarms.raise_alarm,
once per subject (its unique key: a retry, a second process or a restart after kill -9 raises
none twice), never before its instant.

Every floor alarm is a 预警 (level 'warning'): these are breaches of conduct norms to be seen and
acted on now, not the rungs of a case's deadline (黄牌/红牌 belong to the case ladder and to 督办)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import floor_alarms as q
from db.queries.calendar import load_hall_calendar
from server.domain import alarms
from server.domain.actor import system_actor
from server.domain.alarm_kinds import AlarmKind
from server.domain.alarm_ladder import SupervisionRules
from server.domain.calendar import HallCalendar, parse_work_periods
from server.domain.events import EventRecord
from server.domain.queueing import TZ, service_day
from server.domain.store import Tx
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import TimerContext

BATCH = 200  # alarms per transaction; a backlog (a server down for an hour) takes a few ticks
_DEFAULTS = SupervisionRules()
# A ticket's wait and a window's pause and absence count in service hours only (the published
# lunch break is no breach); a due instant at a period's end is still seen by the looks just
# after it.
_PERIOD_GRACE = timedelta(seconds=5)


def _in_service_hours(hall: Any, now: datetime) -> bool:
    """Whether `now` is inside one of the hall's work periods (or just past its end)."""
    local = now.astimezone(TZ)
    for begin, end in parse_work_periods(hall["work_periods"]):
        start = datetime.combine(local.date(), begin, tzinfo=TZ)
        if start <= local <= datetime.combine(local.date(), end, tzinfo=TZ) + _PERIOD_GRACE:
            return True
    return False


async def _service_calendar(conn: Conn, hall_id: int, now: datetime) -> HallCalendar:
    """The hall's calendar around `now`, loaded once per look, for instants in service hours."""
    day = now.astimezone(TZ).date()
    return await load_hall_calendar(
        conn, hall_id, day - timedelta(days=31), day + timedelta(days=31)
    )


def _service_time_due(cal: HallCalendar, since: datetime, minutes: int) -> datetime:
    """The instant `minutes` of the hall's service hours have passed since `since`."""
    return cal.add_working_seconds(since, minutes * 60)


def _hm(at: datetime) -> str:
    return at.astimezone(TZ).strftime("%H:%M")


def _minutes(value: float) -> str:
    return f"{value:g}"


async def _raise_due(
    tx: Tx,
    hall_id: int,
    now: datetime,
    due: Callable[[Conn, SupervisionRules], Awaitable[list[alarms.Alarm]]],
) -> None:
    rules = await alarms.hall_rules(tx.conn, hall_id)
    raised = []
    for alarm in await due(tx.conn, rules):
        if alarm.due_at > now:  # the rows were chosen so; never early all the same
            continue
        alarm = replace(alarm, due_at=alarm.due_at.astimezone(TZ))  # as people read it
        alarm_id = await alarms.raise_alarm(tx, hall_id, alarm, rules.version, now)
        if alarm_id is not None:
            raised.append(alarm_id)
    tx.detail["alarms"] = raised


async def fire_ticket_wait(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """A citizen waiting too long: counted from the start of the visit's wait (a transferred or
    requeued ticket carries the waits before), in the hall's service hours (a wait over the
    published lunch break is no breach of the windows), one alarm per visit. Today's tickets
    only."""
    hall_id, day = hall["id"], service_day(now)

    async def any_due(conn: Conn) -> bool:
        return bool(
            await conn.fetchval(q.ANY_TICKET_WAIT, hall_id, day, now, _DEFAULTS.ticket_wait_minutes)
        )

    async def due(conn: Conn, rules: SupervisionRules) -> list[alarms.Alarm]:
        limit = rules.ticket_wait_minutes
        rows = await conn.fetch(q.DUE_TICKET_WAITS, hall_id, day, now, limit, BATCH)
        cal = await _service_calendar(conn, hall_id, now)
        return [
            alarms.Alarm(
                kind="ticket_wait",
                level="warning",
                subject=r["subject"],
                due_at=_service_time_due(cal, r["wait_start_at"], limit),
                summary=f"{r['ticket_no']} 号（{r['queue_name']}）排队等候已超过 {limit} 分钟",
                department_id=r["department_id"],
                ticket_id=r["id"],
                ticket_no=r["ticket_no"],
                detail={
                    "limit_minutes": limit,
                    "wait_start_at": instant(r["wait_start_at"]),
                    "queued_at": instant(r["queued_at"]),
                },
            )
            for r in rows
        ]

    if not _in_service_hours(hall, now):
        return []  # its limit counts in service hours: nothing falls due outside them
    async with ctx.store.read() as conn:
        if not await any_due(conn):
            return []  # the common tick: one small probe, no transaction
    async with ctx.store.command(system_actor(hall_id), "alarm.fire_ticket_wait") as tx:
        await _raise_due(tx, hall_id, now, due)
    return tx.records


async def fire_service_overlong(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """A service running far beyond its norm (the item's, else the queue's): the serving window
    and its clerk (who gets the SMS). Today's tickets only."""
    hall_id, day = hall["id"], service_day(now)

    async def any_due(conn: Conn) -> bool:
        return bool(
            await conn.fetchval(
                q.ANY_SERVICE_OVERLONG, hall_id, day, now, _DEFAULTS.service_norm_factor
            )
        )

    async def due(conn: Conn, rules: SupervisionRules) -> list[alarms.Alarm]:
        factor = rules.service_norm_factor
        rows = await conn.fetch(q.DUE_SERVICES, hall_id, day, now, factor, BATCH)
        out = []
        for r in rows:
            allowed = factor * r["norm_minutes"]
            what = r["item_name"] or r["queue_name"]
            out.append(
                alarms.Alarm(
                    kind="service_overlong",
                    level="warning",
                    subject=r["subject"],
                    due_at=r["service_started_at"] + timedelta(minutes=allowed),
                    summary=(
                        f"{r['window_no']} 号窗口办理 {r['ticket_no']} 号（{what}）已超过"
                        f" {_minutes(allowed)} 分钟（定额 {r['norm_minutes']} 分钟）"
                    ),
                    department_id=r["department_id"],
                    window_id=r["window_id"],
                    staff_id=r["clerk_id"],
                    ticket_id=r["id"],
                    ticket_no=r["ticket_no"],
                    item_name=r["item_name"],
                    detail={
                        "norm_minutes": r["norm_minutes"],
                        "factor": factor,
                        "service_started_at": instant(r["service_started_at"]),
                    },
                )
            )
        return out

    async with ctx.store.read() as conn:
        if not await any_due(conn):
            return []  # the common tick: one small probe, no transaction
    async with ctx.store.command(system_actor(hall_id), "alarm.fire_service_overlong") as tx:
        await _raise_due(tx, hall_id, now, due)
    return tx.records


async def fire_signoff_wait(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """A leader's sign-off waited for too long (the hall's signoff_wait_minutes): the request's
    department and window; the department's leader on duty that day gets the SMS."""
    hall_id = hall["id"]

    async def any_due(conn: Conn) -> bool:
        return bool(await conn.fetchval(q.ANY_SIGNOFF_WAIT, hall_id, now))

    async def due(conn: Conn, rules: SupervisionRules) -> list[alarms.Alarm]:
        rows = await conn.fetch(q.DUE_SIGNOFFS, hall_id, now, BATCH)
        await conn.execute(q.MARK_SIGNOFFS_ALARMED, [r["id"] for r in rows])
        return [
            alarms.Alarm(
                kind="signoff_wait",
                level="warning",
                subject=r["subject"],
                due_at=r["requested_at"] + timedelta(minutes=r["wait_minutes"]),
                summary=(
                    f"{r['window_no']} 号窗口 {_hm(r['requested_at'])} 提请的"
                    f"{'延期' if r['purpose'] == 'extension' else ''}签批（办件 {r['case_no']}，"
                    f"{r['item_name']}）等候已超过 {r['wait_minutes']} 分钟"
                ),
                department_id=r["department_id"],
                window_id=r["window_id"],
                staff_id=r["leader_id"],  # the leader on duty: the one who must sign
                case_id=r["case_id"],
                case_no=r["case_no"],
                item_name=r["item_name"],
                detail={
                    "signoff_id": r["id"],
                    "purpose": r["purpose"],
                    "limit_minutes": r["wait_minutes"],
                    "requested_at": instant(r["requested_at"]),
                },
            )
            for r in rows
        ]

    async with ctx.store.read() as conn:
        if not await any_due(conn):
            return []  # the common tick: one small probe, no transaction
    async with ctx.store.command(system_actor(hall_id), "alarm.fire_signoff_wait") as tx:
        await _raise_due(tx, hall_id, now, due)
    return tx.records


def _window_alarm(
    cal: HallCalendar, r: Any, kind: AlarmKind, limit: int, summary: str
) -> alarms.Alarm:
    """A window's episode (absent, paused) past `limit` minutes of service hours since
    r["since"]: its window, department and clerk."""
    return alarms.Alarm(
        kind=kind,
        level="warning",
        subject=r["subject"],
        due_at=_service_time_due(cal, r["since"], limit),
        summary=summary,
        department_id=r["department_id"],
        window_id=r["id"],
        staff_id=r["staff_id"],
        detail={"limit_minutes": limit, "since": instant(r["since"])},
    )


async def fire_window_unattended(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """An open window with nobody at it: no clerk signed in, or the clerk signed in has no live
    session (left without signing out). One alarm per episode; the clerk who left gets the SMS."""
    hall_id = hall["id"]

    async def any_due(conn: Conn) -> bool:
        return bool(
            await conn.fetchval(q.ANY_UNATTENDED, hall_id, now, _DEFAULTS.unattended_minutes)
        )

    async def due(conn: Conn, rules: SupervisionRules) -> list[alarms.Alarm]:
        limit = rules.unattended_minutes
        rows = await conn.fetch(q.DUE_UNATTENDED, hall_id, now, limit, BATCH)
        cal = await _service_calendar(conn, hall_id, now)
        return [
            _window_alarm(
                cal,
                r,
                "window_unattended",
                limit,
                f"{r['window_no']} 号窗口开放中但无人值守，"
                f"自 {_hm(r['since'])} 起已超过 {limit} 分钟",
            )
            for r in rows
        ]

    if not _in_service_hours(hall, now):
        return []  # its limit counts in service hours: nothing falls due outside them
    async with ctx.store.read() as conn:
        if not await any_due(conn):
            return []  # the common tick: one small probe, no transaction
    async with ctx.store.command(system_actor(hall_id), "alarm.fire_window_unattended") as tx:
        await _raise_due(tx, hall_id, now, due)
    return tx.records


async def fire_pause_overlong(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """A window paused (暂停服务) too long: one alarm per pause; its clerk gets the SMS."""
    hall_id = hall["id"]

    async def any_due(conn: Conn) -> bool:
        return bool(
            await conn.fetchval(q.ANY_PAUSE_OVERLONG, hall_id, now, _DEFAULTS.window_pause_minutes)
        )

    async def due(conn: Conn, rules: SupervisionRules) -> list[alarms.Alarm]:
        limit = rules.window_pause_minutes
        rows = await conn.fetch(q.DUE_PAUSES, hall_id, now, limit, BATCH)
        cal = await _service_calendar(conn, hall_id, now)
        return [
            _window_alarm(
                cal,
                r,
                "pause_overlong",
                limit,
                f"{r['window_no']} 号窗口自 {_hm(r['since'])} 起暂停服务已超过 {limit} 分钟",
            )
            for r in rows
        ]

    if not _in_service_hours(hall, now):
        return []  # its limit counts in service hours: nothing falls due outside them
    async with ctx.store.read() as conn:
        if not await any_due(conn):
            return []  # the common tick: one small probe, no transaction
    async with ctx.store.command(system_actor(hall_id), "alarm.fire_pause_overlong") as tx:
        await _raise_due(tx, hall_id, now, due)
    return tx.records
