"""When the kiosk registers citizens: the hall's opening hours, and the admin's override.

Registration is open on the hall's working days (its calendar: weekends, statutory holidays
and 调休 as for every deadline) from `registration_lead_minutes` (30 by default) before the
first work period until the end of the last one: 08:30–17:00 with the default periods
09:00–12:00 and 13:00–17:00. The lead lets the citizens waiting at the door take their numbers
before the windows open at 09:00; the lunch break stays open (a ticket taken at 12:30 is
called from 13:00); registration ends with the last period, not at `hall.closes_at` (17:30),
when the tickets still open are closed unserved. Outside these hours the kiosk refuses with
409 `hall_closed` and the hours.

The hall's admin may open registration outside them until an instant
(`hall.registration_open_until`: an evening session, a Saturday of extra service), or withdraw
that again; the hours still apply besides. Every change is the command `registration.set_open`,
audited, with the event `registration.open_set`, which the kiosks receive live.

`state()` is pure: the hours, the override, the calendar and the instant in; whether
registration is open, why, until when (or from when) and the message out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from db.pool import Conn
from db.queries import calendar as cq
from db.queries import registration_hours as q
from server.domain.calendar import DEFAULT_TZ as TZ
from server.domain.calendar import HallCalendar, parse_work_periods
from server.domain.errors import Conflict, Invalid
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

OPEN_SET: Final = "registration.open_set"
# the admin opens registration for at most this long at a time: an override left behind must
# not keep the kiosks issuing tickets at night for weeks
MAX_OVERRIDE: Final = timedelta(days=7)
# how far ahead the next opening is looked for (a Spring Festival holiday is 8–9 days)
_HORIZON_DAYS: Final = 40
_WEEKDAYS: Final = "一二三四五六日"

OpenBy = Literal["hours", "admin", "unrestricted"]


@dataclass(frozen=True)
class Hours:
    """A hall's registration hours on its working days."""

    work_periods: tuple[tuple[time, time], ...]
    lead_minutes: int

    @property
    def opens(self) -> time:
        first = self.work_periods[0][0]
        minutes = max(0, first.hour * 60 + first.minute - self.lead_minutes)
        return time(minutes // 60, minutes % 60)

    @property
    def closes(self) -> time:
        return self.work_periods[-1][1]

    def text(self) -> str:
        """取号时间：工作日 08:30–17:00（办理时间 09:00–12:00、13:00–17:00）"""
        periods = "、".join(f"{b:%H:%M}–{e:%H:%M}" for b, e in self.work_periods)
        return f"取号时间：工作日 {self.opens:%H:%M}–{self.closes:%H:%M}（办理时间 {periods}）"

    def view(self) -> dict[str, Any]:
        return {
            "opens": f"{self.opens:%H:%M}",
            "closes": f"{self.closes:%H:%M}",
            "work_periods": [[f"{b:%H:%M}", f"{e:%H:%M}"] for b, e in self.work_periods],
            "lead_minutes": self.lead_minutes,
            "text": self.text(),
        }


@dataclass(frozen=True)
class State:
    open: bool
    by: OpenBy | None  # why it is open (the hours first); None when closed
    hours: Hours
    open_until: datetime | None  # the admin's override, while it lasts
    # the next instant `open` flips (closing, or the next opening); None: not within 40 days
    changes_at: datetime | None

    def message(self) -> str:
        if self.open:
            if self.by == "admin" and self.open_until is not None:
                return f"管理员已开放取号至 {_when(self.open_until)}"
            return "正在取号"
        nxt = f"，下次取号：{_when(self.changes_at)}" if self.changes_at else ""
        return f"现在不是取号时间。{self.hours.text()}{nxt}"

    def view(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "by": self.by,
            "hours": self.hours.view(),
            "open_until": instant(self.open_until) if self.open_until else None,
            "changes_at": instant(self.changes_at) if self.changes_at else None,
            "message": self.message(),
        }


def _when(t: datetime) -> str:
    """12月2日（星期三）08:30, in the hall's zone."""
    local = t.astimezone(TZ)
    return f"{local.month}月{local.day}日（星期{_WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def in_hours(cal: HallCalendar, hours: Hours, now: datetime) -> bool:
    local = now.astimezone(cal.tz)
    return cal.is_working_day(local.date()) and hours.opens <= local.time() < hours.closes


def is_open(
    cal: HallCalendar, hours: Hours, open_until: datetime | None, now: datetime
) -> OpenBy | None:
    if in_hours(cal, hours, now):
        return "hours"
    if open_until is not None and now < open_until:
        return "admin"
    return None


def state(
    cal: HallCalendar,
    hours: Hours,
    open_until: datetime | None,
    now: datetime,
    enforced: bool = True,
) -> State:
    """Registration at `now`; `cal` must hold the overrides of the next 40 days."""
    if not enforced:  # a server told to ignore the hours (tests on the real clock)
        return State(True, "unrestricted", hours, None, None)
    by = is_open(cal, hours, open_until, now)
    # the candidates for the next flip: every opening and closing ahead, and the override's end
    today = now.astimezone(cal.tz).date()
    candidates = [open_until] if open_until is not None and open_until > now else []
    for n in range(_HORIZON_DAYS + 1):
        day = today + timedelta(days=n)
        if cal.is_working_day(day):
            candidates += [
                datetime.combine(day, hours.opens, tzinfo=cal.tz),
                datetime.combine(day, hours.closes, tzinfo=cal.tz),
            ]
    flips = (
        t
        for t in sorted(c for c in candidates if c > now)
        if (is_open(cal, hours, open_until, t) is None) != (by is None)
    )
    changes_at = next(flips, None)
    live_override = open_until if open_until is not None and open_until > now else None
    return State(by is not None, by, hours, live_override, changes_at)


async def load(conn: Conn, hall_id: int, now: datetime, enforced: bool = True) -> State:
    row = await conn.fetchrow(q.HOURS_OF_HALL, hall_id)
    assert row is not None  # the hall was resolved by the caller; halls are never deleted
    hours = Hours(parse_work_periods(row["work_periods"]), row["registration_lead_minutes"])
    today = now.astimezone(TZ).date()
    cal = await cq.load_hall_calendar(
        conn, hall_id, today - timedelta(days=1), today + timedelta(days=_HORIZON_DAYS + 1)
    )
    return state(cal, hours, row["registration_open_until"], now, enforced)


async def ensure_open(conn: Conn, hall_id: int, now: datetime) -> None:
    """Refuses a registration outside the hours (409 hall_closed, with the hours and the next
    opening). The usual answer costs one statement: the hall's hours and today's calendar."""
    today = now.astimezone(TZ).date()
    row = await conn.fetchrow(q.TODAY_OF_HALL, hall_id, today)
    assert row is not None
    periods = parse_work_periods(row["work_periods"])
    hours = Hours(periods, row["registration_lead_minutes"])
    overrides = {} if row["is_working"] is None else {today: row["is_working"]}
    cal = HallCalendar(overrides=overrides, work_periods=periods, tz=TZ)
    if is_open(cal, hours, row["registration_open_until"], now) is not None:
        return
    raise Conflict((await load(conn, hall_id, now)).message(), code="hall_closed")


async def status(call: Call, hall_code: str) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        found = await load(conn, hall.id, call.ctx.clock(), call.ctx.registration_hours)
    return {"hall": {"code": hall.code, "name": hall.name}, **found.view()}


def _check_until(now: datetime, until: datetime) -> None:
    if until.tzinfo is None or until.utcoffset() is None:
        raise Invalid("until 需带时区", code="invalid_until", field="until")
    if until <= now:
        raise Invalid("开放取号的截止时间须晚于现在", code="invalid_until", field="until")
    if until - now > MAX_OVERRIDE:
        raise Invalid("一次最多开放取号 7 天", code="invalid_until", field="until")


async def set_open(
    call: Call, hall_code: str, open_: bool, until: datetime | None
) -> tuple[dict[str, Any], list[EventRecord]]:
    """The admin opens registration outside the hours until `until` (default: the end of the
    hall's day, midnight), or (open_ false) withdraws that: back to the hours alone."""
    now = call.ctx.clock()
    if not open_ and until is not None:
        raise Invalid("恢复按时取号时不能指定截止时间", code="invalid_until", field="until")
    if open_:
        if until is None:
            until = datetime.combine(now.astimezone(TZ).date() + timedelta(days=1), time(), TZ)
        _check_until(now, until)
    open_until = until if open_ else None
    async with call.command() as tx:
        hall: HallRef = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, open=open_, until=instant(until) if until else None)
        call.check(hall.target())
        await tx.conn.execute(q.SET_OPEN_UNTIL, hall.id, open_until)
        found = await load(tx.conn, hall.id, now, call.ctx.registration_hours)
        actor = tx.actor
        tx.emit(
            OPEN_SET,
            {
                "open_until": instant(open_until) if open_until else None,
                "by": {
                    "id": actor.id if actor.kind == "staff" else None,
                    "name": actor.name,
                    "role": actor.role,
                },
            },
            hall_id=hall.id,
        )
    return found.view(), tx.records
