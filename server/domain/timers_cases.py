"""The case timer jobs run by the hall timers (server/timers.py): derived from the database
every tick, so a restart loses none and sends none twice (the outbox's dedupe key)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.queries import cases as q
from server.domain.actor import system_actor
from server.domain.calendar import HallCalendar
from server.domain.cases import load_calendar
from server.domain.events import EventRecord
from server.domain.queueing import TZ

if TYPE_CHECKING:
    from server.catalogue.spine import TimerContext

# A look-ahead wide enough for a weekend and a short holiday between now and the due day.
_LOOKAHEAD = timedelta(days=10)


async def remind_deficiencies(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """容缺受理: the applicant gets one SMS reminder from the start of the last working day
    before the deferred materials are due. Runs every tick, so the common case (nothing due)
    is one indexed read and no transaction."""
    async with ctx.store.read() as conn:
        rows = await conn.fetch(q.DEFICIENCY_DUE_SOON, hall["id"], now + _LOOKAHEAD)
        if not rows:
            return []
        cal = await load_calendar(conn, hall["id"], now)
    today = now.astimezone(TZ).date()
    due = [r for r in rows if today >= _remind_day(r["deficiency_due"].astimezone(TZ).date(), cal)]
    if not due:
        return []
    async with ctx.store.command(system_actor(hall["id"]), "case.remind_deficiency") as tx:
        reminded = []
        for r in due:
            # another owner, or an earlier tick that crashed after commit, may have done it
            if not await tx.conn.fetchval(q.MARK_DEFICIENCY_REMINDED, r["id"]):
                continue
            if r["applicant_phone"]:
                await tx.conn.execute(
                    q.INSERT_SMS,
                    hall["id"],
                    f"deficiency:{r['id']}",
                    r["applicant_phone"],
                    f"【{r['hall_name']}】提醒：您的办件 {r['case_no']} 容缺受理的材料"
                    f"（{'、'.join(r['materials'])}）须于 "
                    f"{r['deficiency_due'].astimezone(TZ):%m月%d日} 前补交到 "
                    f"{r['window_no']} 号窗口，逾期办件不能办结。",
                )
            reminded.append(r["id"])
        tx.detail["cases"] = reminded
    return []


def _remind_day(due_day: date, cal: HallCalendar) -> date:
    """The last working day before the due day (the due day itself if none is near)."""
    day = cal.previous_working_day(due_day)
    return day if due_day - day <= _LOOKAHEAD else due_day
